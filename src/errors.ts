/**
 * Every typed error the CLI can surface, with its message, recovery command, exit code and the
 * machine-readable code of the reference's `-o json` envelope. `bin.ts` maps these to output once.
 */
import * as Schema from "effect/Schema"

/** Exit codes: one per recovery class, documented in the README. */
export const ExitCode = {
  Ok: 0,
  Transient: 1,
  Usage: 2,
  NotLoggedIn: 3,
  CredentialRejected: 4,
  AlreadyAuthenticated: 5,
  ProfileNotFound: 6,
  PermissionDenied: 7,
  Interrupted: 130
} as const

/** What every user-facing error exposes to the renderer in `bin.ts`. */
export interface CliFailure {
  readonly _tag: string
  readonly message: string
  readonly exitCode: number
  readonly code: string
  readonly retryable: boolean
  /** The exact command (or instruction) that fixes it, when there is one. */
  readonly recovery: string | undefined
}

/** Formats an RFC 3339 timestamp (UTC, second precision) from unix milliseconds. */
export const rfc3339 = (ms: number): string => {
  const d = new globalThis.Date(ms)
  // a hand-made record may hold any number: shown as it is rather than throwing "Invalid time value"
  return Number.isNaN(d.getTime()) ? `(unix ms ${ms}, not a representable date)` : d.toISOString().replace(/\.\d{3}Z$/, "Z")
}

const loginCmd = (id: string) => `olares-cli profile login --olares-id ${id}`

/** Go's `%q` of an application name (the names are plain ASCII in practice; JSON quoting agrees there). */
const quoteApp = (app: string) => JSON.stringify(app)

/** The reference's tail of every platform-issued credential failure. */
const managedRemedy = (app: string) =>
  app === ""
    ? "this credential is issued by the platform; reinstall or repair the application that requested it to have it re-issued"
    : `this credential is issued by the platform for application ${quoteApp(app)}; reinstall or repair that application to have it re-issued`

/** The reference's action for a platform-issued credential failure (prose: no command can fix it). */
const managedRecovery = (app: string) =>
  app === ""
    ? "reinstall or repair the application that requested this platform-issued credential"
    : `reinstall or repair application ${quoteApp(app)}, which requested this platform-issued credential`

// ---------------------------------------------------------------------------------------------
// Usage (exit 2)
// ---------------------------------------------------------------------------------------------

/** A command-line usage problem that is not one of the named ones below. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  message: Schema.String,
  hint: Schema.optional(Schema.String)
}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "usage"
  readonly retryable = false
  get recovery() {
    return this.hint
  }
}

/** `--olares-id` was not given. */
export class MissingOlaresId extends Schema.TaggedError<MissingOlaresId>()("MissingOlaresId", {}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "usage"
  readonly retryable = false
  override get message() {
    return "--olares-id is required"
  }
  get recovery() {
    return "add --olares-id <id>, e.g. --olares-id alice@olares.com"
  }
}

/** The olaresId is not of the form `local@domain`. */
export class InvalidOlaresId extends Schema.TaggedError<InvalidOlaresId>()("InvalidOlaresId", {
  input: Schema.String,
  reason: Schema.String
}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "usage"
  readonly retryable = false
  override get message() {
    return `invalid olaresId ${JSON.stringify(this.input)}: ${this.reason}; expected local@domain, e.g. alice@olares.com`
  }
  get recovery() {
    return "pass --olares-id <local@domain>, e.g. --olares-id alice@olares.com"
  }
}

/** A password, TOTP code or refresh token came in empty. */
export class EmptySecret extends Schema.TaggedError<EmptySecret>()("EmptySecret", {
  what: Schema.Literal("password", "TOTP code", "refresh token")
}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "usage"
  readonly retryable = false
  override get message() {
    return `${this.what} is empty`
  }
  get recovery() {
    return "check for premature EOF or an empty pipe"
  }
}

/** The account has 2FA on and no TOTP code could be obtained. */
export class TotpRequired extends Schema.TaggedError<TotpRequired>()("TotpRequired", {}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "auth_totp_required"
  readonly retryable = false
  override get message() {
    return "two-factor authentication required: re-run with --totp <code>"
  }
  get recovery() {
    return "re-run with --totp <code>, or run interactively on a terminal"
  }
}

/** A prompt was needed but there is no terminal (or `--no-input` was given). */
export class NotATerminal extends Schema.TaggedError<NotATerminal>()("NotATerminal", {
  message: Schema.String,
  hint: Schema.String
}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "usage"
  readonly retryable = false
  get recovery() {
    return this.hint
  }
}

// ---------------------------------------------------------------------------------------------
// Not logged in (exit 3)
// ---------------------------------------------------------------------------------------------

/** No profile exists (or the current pointer is stale and nothing else is there). */
export class NoProfile extends Schema.TaggedError<NoProfile>()("NoProfile", {}) {
  readonly exitCode = ExitCode.NotLoggedIn
  readonly code = "auth_no_profile"
  readonly retryable = false
  override get message() {
    return "no Olares profile is configured: run `olares-cli profile login --olares-id <id>` or `olares-cli profile import --olares-id <id> --refresh-token <tok>`"
  }
  get recovery() {
    return "olares-cli profile login --olares-id <id>"
  }
}

/** A profile is selected but the token store holds nothing usable for it. */
export class NotLoggedIn extends Schema.TaggedError<NotLoggedIn>()("NotLoggedIn", {
  olaresId: Schema.String,
  /** Set for a platform-issued profile: then `profile login` is refused and would not help. */
  managedApp: Schema.optional(Schema.String)
}) {
  readonly exitCode = ExitCode.NotLoggedIn
  readonly code = "auth_not_logged_in"
  readonly retryable = false
  override get message() {
    return this.managedApp !== undefined
      ? `no access token for ${this.olaresId}: ${managedRemedy(this.managedApp)}`
      : `no access token for ${this.olaresId}; run: ${loginCmd(this.olaresId)}  (or profile import --refresh-token <tok>)`
  }
  get recovery() {
    return this.managedApp !== undefined ? managedRecovery(this.managedApp) : loginCmd(this.olaresId)
  }
}

// ---------------------------------------------------------------------------------------------
// Credential rejected (exit 4)
// ---------------------------------------------------------------------------------------------

/** `/api/refresh` answered 401/403/459: the refresh grant is dead. */
export class TokenInvalidated extends Schema.TaggedError<TokenInvalidated>()("TokenInvalidated", {
  olaresId: Schema.String,
  invalidatedAt: Schema.Number,
  /** Set for a platform-issued profile: the way out is the application, not `profile login`. */
  managedApp: Schema.optional(Schema.String)
}) {
  readonly exitCode = ExitCode.CredentialRejected
  readonly code = "auth_token_invalidated"
  readonly retryable = false
  override get message() {
    if (this.managedApp !== undefined) {
      return `the credential for ${this.olaresId} was rejected at ${rfc3339(this.invalidatedAt)}: ${managedRemedy(this.managedApp)}`
    }
    return `refresh token for ${this.olaresId} became invalid at ${rfc3339(this.invalidatedAt)}; please run: ${
      loginCmd(this.olaresId)
    }  (or profile import --olares-id ${this.olaresId} --refresh-token <tok>)`
  }
  get recovery() {
    return this.managedApp !== undefined ? managedRecovery(this.managedApp) : loginCmd(this.olaresId)
  }
}

/** The server still rejected the access token (401/459) after one refresh and one retry. */
export class AccessTokenRejected extends Schema.TaggedError<AccessTokenRejected>()("AccessTokenRejected", {
  olaresId: Schema.String,
  status: Schema.Number
}) {
  readonly exitCode = ExitCode.CredentialRejected
  readonly code = "auth_token_rejected"
  readonly retryable = false
  override get message() {
    return `server rejected the access token (HTTP ${this.status}); please run: ${loginCmd(this.olaresId)}`
  }
  get recovery() {
    return loginCmd(this.olaresId)
  }
}

/** The auth server refused the password, the TOTP code or the refresh token given to login/import. */
export class LoginRejected extends Schema.TaggedError<LoginRejected>()("LoginRejected", {
  endpoint: Schema.String,
  detail: Schema.String,
  /** The HTTP status when the server refused with one (401): the message is then the reference's `<endpoint> returned HTTP <n>: <body>`. */
  status: Schema.optional(Schema.Number)
}) {
  readonly exitCode = ExitCode.CredentialRejected
  readonly code = "auth_login_failed"
  readonly retryable = false
  override get message() {
    return this.status !== undefined
      ? `${this.endpoint} returned HTTP ${this.status}${this.detail === "" ? "" : `: ${this.detail}`}`
      : `${this.endpoint}: ${this.detail}`
  }
  get recovery() {
    return "check the olaresId, password or code and try again"
  }
}

// ---------------------------------------------------------------------------------------------
// Re-authentication refused (exit 5)
// ---------------------------------------------------------------------------------------------

/** Formats a remaining duration as the reference does: `42s`, `3m7s`, `1h2m`. */
export const formatRemaining = (ms: number): string => {
  if (!Number.isFinite(ms)) return ms > 0 ? "an unknown, very long time" : "0s"
  const total = Math.max(0, Math.floor(ms / 1000))
  if (total < 60) return `${total}s`
  if (total < 3600) return `${Math.floor(total / 60)}m${total % 60}s`
  return `${Math.floor(total / 3600)}h${Math.floor((total % 3600) / 60)}m`
}

/** login/import over a still-valid token. */
export class AlreadyAuthenticated extends Schema.TaggedError<AlreadyAuthenticated>()("AlreadyAuthenticated", {
  olaresId: Schema.String,
  remainingMs: Schema.Number
}) {
  readonly exitCode = ExitCode.AlreadyAuthenticated
  readonly code = "auth_already_authenticated"
  readonly retryable = false
  override get message() {
    return `already authenticated for ${this.olaresId} (expires in ${
      formatRemaining(this.remainingMs)
    }).\nto re-authenticate, run: olares-cli profile remove ${this.olaresId}`
  }
  get recovery() {
    return `olares-cli profile remove ${this.olaresId}`
  }
}

/** login/import over a stored token whose JWT has no `exp`. */
export class ExpiryUnknown extends Schema.TaggedError<ExpiryUnknown>()("ExpiryUnknown", {
  olaresId: Schema.String
}) {
  readonly exitCode = ExitCode.AlreadyAuthenticated
  readonly code = "auth_already_authenticated"
  readonly retryable = false
  override get message() {
    return `a token is already stored for ${this.olaresId} but its expiry can't be determined client-side.\nto re-authenticate, run: olares-cli profile remove ${this.olaresId}`
  }
  get recovery() {
    return `olares-cli profile remove ${this.olaresId}`
  }
}

// ---------------------------------------------------------------------------------------------
// Profile not found (exit 6)
// ---------------------------------------------------------------------------------------------

/** `use` / `remove` named an unknown profile. */
export class ProfileNotFound extends Schema.TaggedError<ProfileNotFound>()("ProfileNotFound", {
  key: Schema.String
}) {
  readonly exitCode = ExitCode.ProfileNotFound
  readonly code = "profile_not_found"
  readonly retryable = false
  override get message() {
    return `profile ${JSON.stringify(this.key)} not found`
  }
  get recovery() {
    return "olares-cli profile list"
  }
}

/** `use -` with no previous profile. */
export class NoPreviousProfile extends Schema.TaggedError<NoPreviousProfile>()("NoPreviousProfile", {}) {
  readonly exitCode = ExitCode.ProfileNotFound
  readonly code = "profile_not_found"
  readonly retryable = false
  override get message() {
    return "no previous profile to switch back to"
  }
  get recovery() {
    return "olares-cli profile list"
  }
}

// ---------------------------------------------------------------------------------------------
// Permission denied (exit 7)
// ---------------------------------------------------------------------------------------------

/** A 403 that survived one refresh: the identity lacks permission, the token is fine. */
export class PermissionDenied extends Schema.TaggedError<PermissionDenied>()("PermissionDenied", {
  olaresId: Schema.String
}) {
  readonly exitCode = ExitCode.PermissionDenied
  readonly code = "http_403"
  readonly retryable = false
  override get message() {
    return "server rejected the request (HTTP 403); the active identity does not have permission for this resource or action; inspect it with `olares-cli profile whoami --refresh`"
  }
  get recovery() {
    return "olares-cli profile whoami --refresh"
  }
}

// ---------------------------------------------------------------------------------------------
// Transient / unexpected (exit 1): never suggest logging in, never mark or delete anything
// ---------------------------------------------------------------------------------------------

/** A network-level failure talking to an Olares endpoint (refused, DNS, TLS, reset). */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  endpoint: Schema.String,
  detail: Schema.String
}) {
  readonly exitCode = ExitCode.Transient
  readonly code = "transport"
  readonly retryable = true
  override get message() {
    return `${this.endpoint}: ${this.detail}`
  }
  get recovery() {
    return "check the network and the server address, then retry"
  }
}

/** An Olares endpoint did not answer within its timeout. */
export class TimeoutError extends Schema.TaggedError<TimeoutError>()("TimeoutError", {
  endpoint: Schema.String,
  seconds: Schema.Number
}) {
  readonly exitCode = ExitCode.Transient
  readonly code = "timeout"
  readonly retryable = true
  override get message() {
    return `${this.endpoint}: no answer within ${this.seconds}s`
  }
  get recovery() {
    return "retry; if it persists check that the server is up"
  }
}

/** An Olares endpoint answered with an unexpected HTTP status. */
export class HttpStatusError extends Schema.TaggedError<HttpStatusError>()("HttpStatusError", {
  endpoint: Schema.String,
  status: Schema.Number,
  body: Schema.String
}) {
  readonly exitCode = ExitCode.Transient
  get code() {
    return this.status >= 500 ? "http_5xx" : "http_4xx"
  }
  get retryable() {
    return this.status >= 500
  }
  override get message() {
    return `${this.endpoint} returned HTTP ${this.status}${this.body === "" ? "" : `: ${this.body}`}`
  }
  get recovery() {
    return this.status >= 500 ? "retry later; the server reported an internal error" : undefined
  }
}

/** An Olares endpoint answered 200 with a body we cannot use (HTML, bad JSON, no data, status not OK). */
export class ResponseDecodeError extends Schema.TaggedError<ResponseDecodeError>()("ResponseDecodeError", {
  endpoint: Schema.String,
  detail: Schema.String
}) {
  readonly exitCode = ExitCode.Transient
  readonly code = "decode"
  readonly retryable = false
  override get message() {
    return `${this.endpoint}: ${this.detail}`
  }
  get recovery() {
    return "check that the address points at an Olares server (see --auth-url-override)"
  }
}

/** Local state on disk is unreadable or corrupt (config.json, master.key, a token record). */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  path: Schema.String,
  detail: Schema.String,
  hint: Schema.String
}) {
  readonly exitCode = ExitCode.Transient
  readonly code = "storage"
  readonly retryable = false
  override get message() {
    return `${this.path}: ${this.detail}`
  }
  get recovery() {
    return this.hint
  }
}

/** The OS keychain could not be used. */
export class KeychainError extends Schema.TaggedError<KeychainError>()("KeychainError", {
  op: Schema.String,
  account: Schema.String,
  detail: Schema.String
}) {
  readonly exitCode = ExitCode.Transient
  readonly code = "keychain"
  readonly retryable = false
  override get message() {
    return `keychain ${this.op} failed for olares-cli/${this.account}: ${this.detail}`
  }
  get recovery() {
    return "check that the OS keychain is unlocked and accessible, or run `olares-cli profile doctor`"
  }
}

/** A cross-process lock could not be taken within its bound. */
export class LockTimeout extends Schema.TaggedError<LockTimeout>()("LockTimeout", {
  path: Schema.String,
  seconds: Schema.Number
}) {
  readonly exitCode = ExitCode.Transient
  readonly code = "lock_timeout"
  readonly retryable = true
  override get message() {
    return `could not acquire lock ${this.path} within ${this.seconds}s (another olares-cli process holds it)`
  }
  get recovery() {
    return "retry; if no other olares-cli is running, see `olares-cli profile doctor`"
  }
}

/** `profile doctor` found at least one problem of severity `error` (its report is already printed). */
export class ProblemsFound extends Schema.TaggedError<ProblemsFound>()("ProblemsFound", {
  errors: Schema.Number,
  warnings: Schema.Number
}) {
  readonly exitCode = ExitCode.Transient
  readonly code = "doctor_problems"
  readonly retryable = false
  override get message() {
    const w = this.warnings === 0 ? "" : ` and ${this.warnings} warning${this.warnings === 1 ? "" : "s"}`
    return `profile doctor found ${this.errors} problem${this.errors === 1 ? "" : "s"}${w}`
  }
  get recovery() {
    return "run the fix shown for each problem, then `olares-cli profile doctor` again"
  }
}

/** Errors that carry everything needed to print and exit. */
export type AppError =
  | UsageError
  | MissingOlaresId
  | InvalidOlaresId
  | EmptySecret
  | TotpRequired
  | NotATerminal
  | NoProfile
  | NotLoggedIn
  | TokenInvalidated
  | AccessTokenRejected
  | LoginRejected
  | AlreadyAuthenticated
  | ExpiryUnknown
  | ProfileNotFound
  | NoPreviousProfile
  | PermissionDenied
  | TransportError
  | TimeoutError
  | HttpStatusError
  | ResponseDecodeError
  | StorageError
  | KeychainError
  | LockTimeout
  | ProblemsFound
  | ManagedNotSecondFactor
  | ManagedProfileRefused
  | InvalidOlaresVersion
  | BackendVersionInvalid
  | InvalidUrlOption
  | InputTooLong
  | UnsendableToken
  | AliasConflict
  | AmbiguousProfile

/** Errors from talking to an Olares endpoint that are not a verdict on the credential. */
export type TransientHttpError = TransportError | TimeoutError | HttpStatusError | ResponseDecodeError

/** Structural check for anything renderable as a CLI failure. */
export const isCliFailure = (u: unknown): u is CliFailure =>
  typeof u === "object" && u !== null && "_tag" in u && "exitCode" in u && typeof (u as any).exitCode === "number" &&
  "code" in u

// ---------------------------------------------------------------------------------------------
// Where the token may go (exit 2: the caller asked for a URL the token must not travel to)
// ---------------------------------------------------------------------------------------------

/** A request for a URL outside the profile's own hosts (or over cleartext): refused before sending. */
export class ForeignUrl extends Schema.TaggedError<ForeignUrl>()("ForeignUrl", {
  olaresId: Schema.String,
  /** What was asked for, as `scheme://host[:port]` (or the cleaned raw text when it is not a URL). */
  target: Schema.String,
  reason: Schema.String,
  /** The origins the token may go to, for the message. */
  allowed: Schema.String
}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "auth_foreign_url"
  readonly retryable = false
  override get message() {
    return `refusing to send the ${this.olaresId} token to ${this.target}: ${this.reason} (allowed: ${this.allowed})`
  }
  get recovery() {
    return "use a path (/api/...) or an https:// URL under the profile's own hosts"
  }
}

// ---------------------------------------------------------------------------------------------
// Platform-issued ("managed") profiles and Olares versions
// ---------------------------------------------------------------------------------------------

/** A platform-issued grant refreshed into a first-factor token (`fa2: true`): unusable, nothing stored. */
export class ManagedNotSecondFactor extends Schema.TaggedError<ManagedNotSecondFactor>()("ManagedNotSecondFactor", {
  olaresId: Schema.String
}) {
  readonly exitCode = ExitCode.CredentialRejected
  readonly code = "auth_managed_not_second_factor"
  readonly retryable = false
  override get message() {
    return `the platform-issued credential for ${this.olaresId} refreshed into a first-factor token, which cannot be used; reinstall or repair the application that requested it`
  }
  get recovery() {
    return "reinstall or repair the application that requested this platform-issued credential"
  }
}

/** `login` / `import` / `remove` of an identity whose credential the platform issued. */
export class ManagedProfileRefused extends Schema.TaggedError<ManagedProfileRefused>()("ManagedProfileRefused", {
  /** `log in as`, `import credentials for`, `remove`. */
  verb: Schema.String,
  olaresId: Schema.String,
  appName: Schema.String
}) {
  readonly exitCode = ExitCode.AlreadyAuthenticated
  readonly code = "auth_managed_profile"
  readonly retryable = false
  override get message() {
    const app = this.appName === "" ? "an installed application" : `application ${quoteApp(this.appName)}`
    return `cannot ${this.verb} ${this.olaresId}: its credential is issued by the platform for ${app} and is not stored locally; uninstall that application to revoke it`
  }
  get recovery() {
    return this.appName === ""
      ? "uninstall the application that requested this platform-issued credential to revoke it"
      : `uninstall application ${quoteApp(this.appName)} to revoke this platform-issued credential`
  }
}

/** `--olares-version` is not an Olares version. */
export class InvalidOlaresVersion extends Schema.TaggedError<InvalidOlaresVersion>()("InvalidOlaresVersion", {
  /** The value, already quoted like Go's `%q` (and cut when long). */
  quoted: Schema.String,
  reason: Schema.String
}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "usage"
  readonly retryable = false
  override get message() {
    return `invalid --olares-version ${this.quoted}: ${this.reason}`
  }
  get recovery() {
    return "pass an Olares version such as --olares-version 1.12.6 (or 1.12.6-20260603, 1.12.0-rc.0)"
  }
}

/** `/api/olares-info` reported an `osVersion` that is not an Olares version: refused, never cached. */
export class BackendVersionInvalid extends Schema.TaggedError<BackendVersionInvalid>()("BackendVersionInvalid", {
  /** The value, already quoted like Go's `%q` (and cut when long). */
  quoted: Schema.String,
  reason: Schema.String
}) {
  readonly exitCode = ExitCode.Transient
  readonly code = "decode"
  readonly retryable = false
  override get message() {
    return `parse backend osVersion ${this.quoted}: ${this.reason}`
  }
  get recovery() {
    return "check the server, or pass --olares-version <v> to set the version by hand"
  }
}

// ---------------------------------------------------------------------------------------------
// Input validation (issue 10, items 10-12 and 14)
// ---------------------------------------------------------------------------------------------

/** `--local-url-prefix` / `--auth-url-override` would move the host, carry credentials, or is not a URL. */
export class InvalidUrlOption extends Schema.TaggedError<InvalidUrlOption>()("InvalidUrlOption", {
  flag: Schema.Literal("--local-url-prefix", "--auth-url-override"),
  /** Already redacted and sanitised for display. */
  quoted: Schema.String,
  reason: Schema.String
}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "usage"
  readonly retryable = false
  override get message() {
    return `invalid ${this.flag} ${this.quoted}: ${this.reason}`
  }
  get recovery() {
    return this.flag === "--local-url-prefix"
      ? "pass DNS labels each followed by '.', e.g. --local-url-prefix dev."
      : "pass an absolute http(s) URL without user:password@, query or fragment, e.g. --auth-url-override https://auth.example.com"
  }
}

/** A secret line on stdin (or a prompt) exceeded 64 KiB; reading stopped there. */
export class InputTooLong extends Schema.TaggedError<InputTooLong>()("InputTooLong", {
  what: Schema.String,
  limitBytes: Schema.Number
}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "usage"
  readonly retryable = false
  override get message() {
    return `the ${this.what} is longer than ${this.limitBytes / 1024} KiB; nothing was read past that (is the right file or pipe connected to stdin?)`
  }
  get recovery() {
    return "pipe exactly one line: printf '%s\\n' \"$SECRET\" | olares-cli ..."
  }
}

/** A token that cannot travel in an HTTP header value (controls, CR/LF, spaces, non-ASCII) was given to import. */
export class UnsendableToken extends Schema.TaggedError<UnsendableToken>()("UnsendableToken", {
  what: Schema.String,
  source: Schema.String
}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "usage"
  readonly retryable = false
  override get message() {
    return `the ${this.what} from ${this.source} contains characters that cannot be sent in an HTTP header (control characters, CR/LF, spaces or non-ASCII); nothing was sent or stored`
  }
  get recovery() {
    return "copy the token again without surrounding quotes or line breaks"
  }
}

/** `--name` (or the olaresId) equals another profile's name or olaresId: lookups would pick the wrong one. */
export class AliasConflict extends Schema.TaggedError<AliasConflict>()("AliasConflict", {
  name: Schema.String,
  other: Schema.String,
  as: Schema.Literal("olaresId", "alias")
}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "usage"
  readonly retryable = false
  override get message() {
    return `the name ${JSON.stringify(this.name)} is already the ${this.as} of profile ${this.other}; ` +
      "profile names and olaresIds must be unique, or `use`/`remove` would pick the wrong profile (choose another --name)"
  }
  get recovery() {
    return this.as === "alias"
      ? `choose another --name, or remove the other profile first: olares-cli profile remove ${this.other}`
      : "choose another --name (an alias may not be another profile's olaresId)"
  }
}

/** A key names one profile by alias and another by olaresId (a config written before aliases were checked). */
export class AmbiguousProfile extends Schema.TaggedError<AmbiguousProfile>()("AmbiguousProfile", {
  key: Schema.String,
  byAlias: Schema.String,
  byOlaresId: Schema.String
}) {
  readonly exitCode = ExitCode.Usage
  readonly code = "usage"
  readonly retryable = false
  override get message() {
    return `${JSON.stringify(this.key)} is the alias of profile ${this.byAlias} and the olaresId of profile ${this.byOlaresId}; ` +
      "refusing to guess which one to remove (nothing was removed)"
  }
  get recovery() {
    return `olares-cli profile remove ${this.byAlias} removes the profile that carries the alias; afterwards ${this.key} names ${this.byOlaresId} alone`
  }
}

// ---------------------------------------------------------------------------------------------
// Storage after a spent grant (issue 10): say the truth, never "retry"
// ---------------------------------------------------------------------------------------------

/**
 * The server has issued new tokens (the password round or refresh token given is spent) and they
 * could not be stored: retrying the same command cannot work, only a new login can.
 */
export const grantNotStored = (
  olaresId: string,
  cause: { readonly message: string; readonly path?: string },
  fix: string
): StorageError =>
  new StorageError({
    path: cause.path ?? "token store",
    detail: `the server issued new tokens for ${olaresId}, but they could not be stored (${
      cause.message
    }); the credential that was exchanged is spent`,
    hint: `fix the storage problem, then run: ${fix}`
  })
