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
export const rfc3339 = (ms: number): string => new globalThis.Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

const loginCmd = (id: string) => `olares-cli profile login --olares-id ${id}`

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
  olaresId: Schema.String
}) {
  readonly exitCode = ExitCode.NotLoggedIn
  readonly code = "auth_not_logged_in"
  readonly retryable = false
  override get message() {
    return `no access token for ${this.olaresId}; run: ${loginCmd(this.olaresId)}  (or profile import --refresh-token <tok>)`
  }
  get recovery() {
    return loginCmd(this.olaresId)
  }
}

// ---------------------------------------------------------------------------------------------
// Credential rejected (exit 4)
// ---------------------------------------------------------------------------------------------

/** `/api/refresh` answered 401/403/459: the refresh grant is dead. */
export class TokenInvalidated extends Schema.TaggedError<TokenInvalidated>()("TokenInvalidated", {
  olaresId: Schema.String,
  invalidatedAt: Schema.Number
}) {
  readonly exitCode = ExitCode.CredentialRejected
  readonly code = "auth_token_invalidated"
  readonly retryable = false
  override get message() {
    return `refresh token for ${this.olaresId} became invalid at ${rfc3339(this.invalidatedAt)}; please run: ${
      loginCmd(this.olaresId)
    }  (or profile import --olares-id ${this.olaresId} --refresh-token <tok>)`
  }
  get recovery() {
    return loginCmd(this.olaresId)
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
  detail: Schema.String
}) {
  readonly exitCode = ExitCode.CredentialRejected
  readonly code = "auth_login_failed"
  readonly retryable = false
  override get message() {
    return `${this.endpoint}: ${this.detail}`
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

/** Errors from talking to an Olares endpoint that are not a verdict on the credential. */
export type TransientHttpError = TransportError | TimeoutError | HttpStatusError | ResponseDecodeError

/** Structural check for anything renderable as a CLI failure. */
export const isCliFailure = (u: unknown): u is CliFailure =>
  typeof u === "object" && u !== null && "_tag" in u && "exitCode" in u && typeof (u as any).exitCode === "number" &&
  "code" in u

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
