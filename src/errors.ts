/**
 * Every typed error the CLI and the library can surface: plain tagged classes that carry their data
 * and compute their message, plus ONE table (`ERRORS`) from tag to exit code, JSON code,
 * retryability and recovery, which the README's "Exit codes and errors" table mirrors
 * (test/unit/errors.test.ts holds the two together). `output.ts` turns them into output once.
 */
import * as Schema from "effect/Schema"
import {
  ADD_PROFILE_COMMANDS,
  loginCommand,
  managedRecovery,
  managedRemedy,
  quoteApp,
  removeCommand
} from "./domain/Remedies.js"

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

/** What the table gives every error, read on the instance (the renderer and library users rely on these). */
export interface Classified<Recovery extends string | undefined = string | undefined> {
  readonly exitCode: number
  readonly code: string
  readonly retryable: boolean
  /** The exact command (or instruction) that fixes it, when there is one. */
  readonly recovery: Recovery
}

/** What every user-facing error exposes to the renderer in `output.ts`. */
export interface CliFailure extends Classified {
  readonly _tag: string
  readonly message: string
}

/** Formats an RFC 3339 timestamp (UTC, second precision) from unix milliseconds. */
export const rfc3339 = (ms: number): string => {
  const d = new globalThis.Date(ms)
  // a hand-made record may hold any number: shown as it is rather than throwing "Invalid time value"
  return Number.isNaN(d.getTime())
    ? `(unix ms ${ms}, not a representable date)`
    : d.toISOString().replace(/\.\d{3}Z$/, "Z")
}

/** Formats a remaining duration as the reference does: `42s`, `3m7s`, `1h2m`. */
export const formatRemaining = (ms: number): string => {
  if (!Number.isFinite(ms)) return ms > 0 ? "an unknown, very long time" : "0s"
  const total = Math.max(0, Math.floor(ms / 1000))
  if (total < 60) return `${total}s`
  if (total < 3600) return `${Math.floor(total / 60)}m${total % 60}s`
  return `${Math.floor(total / 3600)}h${Math.floor((total % 3600) / 60)}m`
}

/**
 * `Schema.TaggedError` plus the four `Classified` members from the error's row in `ERRORS` (looked
 * up at construction, so the table can follow the classes); `Recovery` is `string` unless the
 * error may have none. A constant is an own field, as a class
 * field would be (so inspecting or serialising an error shows it); a computed one is a getter.
 */
const Failure =
  <Self, Recovery extends string | undefined = string>() =>
  <Tag extends string, Fields extends Schema.Struct.Fields>(
    tag: Tag,
    fields: Fields
  ):
    & Schema.TaggedErrorClass<Self, Tag, { readonly _tag: Schema.tag<Tag> } & Fields>
    & (new(...args: Array<any>) => Classified<Recovery>) =>
  {
    const Base = Schema.TaggedError<Self>()(tag, fields) as unknown as new(
      ...args: Array<any>
    ) => { readonly _tag: string }
    class WithRow extends Base implements Classified {
      constructor(...args: Array<any>) {
        super(...args)
        const row = rowOf(this)
        for (const key of ["exitCode", "code", "retryable"] as const) {
          const value = row[key]
          if (typeof value !== "function") {
            Object.defineProperty(this, key, { value, enumerable: true, writable: true, configurable: true })
          }
        }
      }
      get exitCode() {
        return rowOf(this).exitCode
      }
      get code() {
        return computed(rowOf(this).code, this)
      }
      get retryable() {
        return computed(rowOf(this).retryable, this)
      }
      get recovery() {
        return computed(rowOf(this).recovery, this)
      }
    }
    return WithRow as any
  }

// ---------------------------------------------------------------------------------------------
// Transient / unexpected (exit 1): never suggest logging in, never mark or delete anything
// ---------------------------------------------------------------------------------------------

/** A network-level failure talking to an Olares endpoint (refused, DNS, TLS, reset). */
export class TransportError extends Failure<TransportError>()("TransportError", {
  endpoint: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.endpoint}: ${this.detail}`
  }
}

/** An Olares endpoint did not answer within its timeout. */
export class TimeoutError extends Failure<TimeoutError>()("TimeoutError", {
  endpoint: Schema.String,
  seconds: Schema.Number
}) {
  override get message() {
    return `${this.endpoint}: no answer within ${this.seconds}s`
  }
}

/** An Olares endpoint answered with an unexpected HTTP status. */
export class HttpStatusError extends Failure<HttpStatusError, string | undefined>()("HttpStatusError", {
  endpoint: Schema.String,
  status: Schema.Number,
  body: Schema.String
}) {
  override get message() {
    return `${this.endpoint} returned HTTP ${this.status}${this.body === "" ? "" : `: ${this.body}`}`
  }
}

/** An Olares endpoint answered 200 with a body we cannot use (HTML, bad JSON, no data, status not OK). */
export class ResponseDecodeError extends Failure<ResponseDecodeError>()("ResponseDecodeError", {
  endpoint: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.endpoint}: ${this.detail}`
  }
}

/** Local state on disk is unreadable or corrupt (config.json, master.key, a token record). */
export class StorageError extends Failure<StorageError>()("StorageError", {
  path: Schema.String,
  detail: Schema.String,
  hint: Schema.String
}) {
  override get message() {
    return `${this.path}: ${this.detail}`
  }
}

/** The OS keychain could not be used. */
export class KeychainError extends Failure<KeychainError>()("KeychainError", {
  op: Schema.String,
  account: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `keychain ${this.op} failed for olares-cli/${this.account}: ${this.detail}`
  }
}

/** A cross-process lock could not be taken within its bound. */
export class LockTimeout extends Failure<LockTimeout>()("LockTimeout", {
  path: Schema.String,
  seconds: Schema.Number
}) {
  override get message() {
    return `could not acquire lock ${this.path} within ${this.seconds}s (another olares-cli process holds it)`
  }
}

/** `profile doctor` found at least one problem of severity `error` (its report is already printed). */
export class ProblemsFound extends Failure<ProblemsFound>()("ProblemsFound", {
  errors: Schema.Number,
  warnings: Schema.Number
}) {
  override get message() {
    const w = this.warnings === 0 ? "" : ` and ${this.warnings} warning${this.warnings === 1 ? "" : "s"}`
    return `profile doctor found ${this.errors} problem${this.errors === 1 ? "" : "s"}${w}`
  }
}

/** `/api/olares-info` reported an `osVersion` that is not an Olares version: refused, never cached. */
export class BackendVersionInvalid extends Failure<BackendVersionInvalid>()("BackendVersionInvalid", {
  /** The value, already quoted like Go's `%q` (and cut when long). */
  quoted: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `parse backend osVersion ${this.quoted}: ${this.reason}`
  }
}
// ---------------------------------------------------------------------------------------------
// Usage (exit 2)
// ---------------------------------------------------------------------------------------------

/** A command-line usage problem that is not one of the named ones below. */
export class UsageError extends Failure<UsageError, string | undefined>()("UsageError", {
  message: Schema.String,
  hint: Schema.optional(Schema.String)
}) {}

/** `--olares-id` was not given. */
export class MissingOlaresId extends Failure<MissingOlaresId>()("MissingOlaresId", {}) {
  override get message() {
    return "--olares-id is required"
  }
}

/** The olaresId is not of the form `local@domain`. */
export class InvalidOlaresId extends Failure<InvalidOlaresId>()("InvalidOlaresId", {
  input: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `invalid olaresId ${
      JSON.stringify(this.input)
    }: ${this.reason}; expected local@domain, e.g. alice@olares.com`
  }
}

/** A password, TOTP code or refresh token came in empty. */
export class EmptySecret extends Failure<EmptySecret>()("EmptySecret", {
  what: Schema.Literal("password", "TOTP code", "refresh token")
}) {
  override get message() {
    return `${this.what} is empty`
  }
}

/** The account has 2FA on and no TOTP code could be obtained. */
export class TotpRequired extends Failure<TotpRequired>()("TotpRequired", {}) {
  override get message() {
    return "two-factor authentication required: re-run with --totp <code>"
  }
}

/** A prompt was needed but there is no terminal (or `--no-input` was given). */
export class NotATerminal extends Failure<NotATerminal>()("NotATerminal", {
  message: Schema.String,
  hint: Schema.String
}) {}

/** A request for a URL outside the profile's own hosts (or over cleartext): refused before sending. */
export class ForeignUrl extends Failure<ForeignUrl>()("ForeignUrl", {
  olaresId: Schema.String,
  /** What was asked for, as `scheme://host[:port]` (or the cleaned raw text when it is not a URL). */
  target: Schema.String,
  reason: Schema.String,
  /** The origins the token may go to, for the message. */
  allowed: Schema.String
}) {
  override get message() {
    return `refusing to send the ${this.olaresId} token to ${this.target}: ${this.reason} (allowed: ${this.allowed})`
  }
}

/** `--olares-version` is not an Olares version. */
export class InvalidOlaresVersion extends Failure<InvalidOlaresVersion>()("InvalidOlaresVersion", {
  /** The value, already quoted like Go's `%q` (and cut when long). */
  quoted: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `invalid --olares-version ${this.quoted}: ${this.reason}`
  }
}

/** `--local-url-prefix` / `--auth-url-override` would move the host, carry credentials, or is not a URL. */
export class InvalidUrlOption extends Failure<InvalidUrlOption>()("InvalidUrlOption", {
  flag: Schema.Literal("--local-url-prefix", "--auth-url-override"),
  /** Already redacted and sanitised for display. */
  quoted: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `invalid ${this.flag} ${this.quoted}: ${this.reason}`
  }
}

/** A secret line on stdin (or a prompt) exceeded 64 KiB; reading stopped there. */
export class InputTooLong extends Failure<InputTooLong>()("InputTooLong", {
  what: Schema.String,
  limitBytes: Schema.Number
}) {
  override get message() {
    return `the ${this.what} is longer than ${
      this.limitBytes / 1024
    } KiB; nothing was read past that (is the right file or pipe connected to stdin?)`
  }
}

/** A token that cannot travel in an HTTP header value (controls, CR/LF, spaces, non-ASCII) was given to import. */
export class UnsendableToken extends Failure<UnsendableToken>()("UnsendableToken", {
  what: Schema.String,
  source: Schema.String
}) {
  override get message() {
    return `the ${this.what} from ${this.source} contains characters that cannot be sent in an HTTP header (control characters, CR/LF, spaces or non-ASCII); nothing was sent or stored`
  }
}

/** `--name` (or the olaresId) equals another profile's name or olaresId: lookups would pick the wrong one. */
export class AliasConflict extends Failure<AliasConflict>()("AliasConflict", {
  name: Schema.String,
  other: Schema.String,
  as: Schema.Literal("olaresId", "alias")
}) {
  override get message() {
    return `the name ${JSON.stringify(this.name)} is already the ${this.as} of profile ${this.other}; ` +
      "profile names and olaresIds must be unique, or `use`/`remove` would pick the wrong profile (choose another --name)"
  }
}

/** A key names one profile by alias and another by olaresId (a config written before aliases were checked). */
export class AmbiguousProfile extends Failure<AmbiguousProfile>()("AmbiguousProfile", {
  key: Schema.String,
  byAlias: Schema.String,
  byOlaresId: Schema.String
}) {
  override get message() {
    return `${
      JSON.stringify(this.key)
    } is the alias of profile ${this.byAlias} and the olaresId of profile ${this.byOlaresId}; ` +
      "refusing to guess which one to remove (nothing was removed)"
  }
}

// ---------------------------------------------------------------------------------------------
// Not logged in (exit 3)
// ---------------------------------------------------------------------------------------------

/** No profile exists (or the current pointer is stale and nothing else is there). */
export class NoProfile extends Failure<NoProfile>()("NoProfile", {}) {
  override get message() {
    return `no Olares profile is configured: run ${ADD_PROFILE_COMMANDS}`
  }
}

/** A profile is selected but the token store holds nothing usable for it. */
export class NotLoggedIn extends Failure<NotLoggedIn>()("NotLoggedIn", {
  olaresId: Schema.String,
  /** Set for a platform-issued profile: then `profile login` is refused and would not help. */
  managedApp: Schema.optional(Schema.String)
}) {
  override get message() {
    return this.managedApp !== undefined
      ? `no access token for ${this.olaresId}: ${managedRemedy(this.managedApp)}`
      : `no access token for ${this.olaresId}; run: ${
        loginCommand(this.olaresId)
      }  (or profile import --refresh-token <tok>)`
  }
}

// ---------------------------------------------------------------------------------------------
// Credential rejected (exit 4)
// ---------------------------------------------------------------------------------------------

/** `/api/refresh` answered 401/403/459: the refresh grant is dead. */
export class TokenInvalidated extends Failure<TokenInvalidated>()("TokenInvalidated", {
  olaresId: Schema.String,
  invalidatedAt: Schema.Number,
  /** Set for a platform-issued profile: the way out is the application, not `profile login`. */
  managedApp: Schema.optional(Schema.String)
}) {
  override get message() {
    if (this.managedApp !== undefined) {
      return `the credential for ${this.olaresId} was rejected at ${rfc3339(this.invalidatedAt)}: ${
        managedRemedy(this.managedApp)
      }`
    }
    return `refresh token for ${this.olaresId} became invalid at ${rfc3339(this.invalidatedAt)}; please run: ${
      loginCommand(this.olaresId)
    }  (or profile import --olares-id ${this.olaresId} --refresh-token <tok>)`
  }
}

/** The server still rejected the access token (401/459) after one refresh and one retry. */
export class AccessTokenRejected extends Failure<AccessTokenRejected>()("AccessTokenRejected", {
  olaresId: Schema.String,
  status: Schema.Number
}) {
  override get message() {
    return `server rejected the access token (HTTP ${this.status}); please run: ${loginCommand(this.olaresId)}`
  }
}

/** The auth server refused the password, the TOTP code or the refresh token given to login/import. */
export class LoginRejected extends Failure<LoginRejected>()("LoginRejected", {
  endpoint: Schema.String,
  detail: Schema.String,
  /** The HTTP status when the server refused with one (401): the message is then the reference's `<endpoint> returned HTTP <n>: <body>`. */
  status: Schema.optional(Schema.Number)
}) {
  override get message() {
    return this.status !== undefined
      ? `${this.endpoint} returned HTTP ${this.status}${this.detail === "" ? "" : `: ${this.detail}`}`
      : `${this.endpoint}: ${this.detail}`
  }
}

/** A platform-issued grant refreshed into a first-factor token (`fa2: true`): unusable, nothing stored. */
export class ManagedNotSecondFactor extends Failure<ManagedNotSecondFactor>()("ManagedNotSecondFactor", {
  olaresId: Schema.String
}) {
  override get message() {
    return `the platform-issued credential for ${this.olaresId} refreshed into a first-factor token, which cannot be used; reinstall or repair the application that requested it`
  }
}

// ---------------------------------------------------------------------------------------------
// Re-authentication refused (exit 5)
// ---------------------------------------------------------------------------------------------

/** login/import over a still-valid token. */
export class AlreadyAuthenticated extends Failure<AlreadyAuthenticated>()("AlreadyAuthenticated", {
  olaresId: Schema.String,
  remainingMs: Schema.Number
}) {
  override get message() {
    return `already authenticated for ${this.olaresId} (expires in ${
      formatRemaining(this.remainingMs)
    }).\nto re-authenticate, run: ${removeCommand(this.olaresId)}`
  }
}

/** login/import over a stored token whose JWT has no `exp`. */
export class ExpiryUnknown extends Failure<ExpiryUnknown>()("ExpiryUnknown", {
  olaresId: Schema.String
}) {
  override get message() {
    return `a token is already stored for ${this.olaresId} but its expiry can't be determined client-side.\nto re-authenticate, run: ${
      removeCommand(this.olaresId)
    }`
  }
}

/** `login` / `import` / `remove` of an identity whose credential the platform issued. */
export class ManagedProfileRefused extends Failure<ManagedProfileRefused>()("ManagedProfileRefused", {
  /** `log in as`, `import credentials for`, `remove`. */
  verb: Schema.String,
  olaresId: Schema.String,
  appName: Schema.String
}) {
  override get message() {
    const app = this.appName === "" ? "an installed application" : `application ${quoteApp(this.appName)}`
    return `cannot ${this.verb} ${this.olaresId}: its credential is issued by the platform for ${app} and is not stored locally; uninstall that application to revoke it`
  }
}

// ---------------------------------------------------------------------------------------------
// Profile not found (exit 6)
// ---------------------------------------------------------------------------------------------

/** `use` / `remove` named an unknown profile. */
export class ProfileNotFound extends Failure<ProfileNotFound>()("ProfileNotFound", {
  key: Schema.String
}) {
  override get message() {
    return `profile ${JSON.stringify(this.key)} not found`
  }
}

/** `use -` with no previous profile. */
export class NoPreviousProfile extends Failure<NoPreviousProfile>()("NoPreviousProfile", {}) {
  override get message() {
    return "no previous profile to switch back to"
  }
}

// ---------------------------------------------------------------------------------------------
// Permission denied (exit 7)
// ---------------------------------------------------------------------------------------------

/** A 403 that survived one refresh: the identity lacks permission, the token is fine. */
export class PermissionDenied extends Failure<PermissionDenied>()("PermissionDenied", {
  olaresId: Schema.String
}) {
  override get message() {
    return "server rejected the request (HTTP 403); the active identity does not have permission for this resource or action; inspect it with `olares-cli profile whoami --refresh`"
  }
}

/** Errors that carry everything needed to print and exit: every class above. */
export type AppError =
  | TransportError
  | TimeoutError
  | HttpStatusError
  | ResponseDecodeError
  | BackendVersionInvalid
  | StorageError
  | KeychainError
  | LockTimeout
  | ProblemsFound
  | UsageError
  | ForeignUrl
  | MissingOlaresId
  | InvalidOlaresId
  | InvalidOlaresVersion
  | EmptySecret
  | TotpRequired
  | NotATerminal
  | InvalidUrlOption
  | InputTooLong
  | UnsendableToken
  | AliasConflict
  | AmbiguousProfile
  | NoProfile
  | NotLoggedIn
  | TokenInvalidated
  | AccessTokenRejected
  | LoginRejected
  | ManagedNotSecondFactor
  | AlreadyAuthenticated
  | ExpiryUnknown
  | ManagedProfileRefused
  | ProfileNotFound
  | NoPreviousProfile
  | PermissionDenied

/** Every error's tag. */
export type AppErrorTag = AppError["_tag"]

/** A value, or how to compute it from the error's fields. */
type Computed<E, A> = A | ((e: E) => A)

/** One row of the table: how an error is classified and fixed. */
export interface ErrorRow<E> {
  readonly exitCode: typeof ExitCode[Exclude<keyof typeof ExitCode, "Ok" | "Interrupted">]
  readonly code: Computed<E, string>
  readonly retryable: Computed<E, boolean>
  readonly recovery: Computed<E, E extends Classified<infer R> ? R : never>
}

/** A row for every tag, and no other. */
export type ErrorTable = { readonly [Tag in AppErrorTag]: ErrorRow<Extract<AppError, { readonly _tag: Tag }>> }

/**
 * The one table from tag to exit code, JSON code, retryability and recovery, in the README's order
 * ("Exit codes and errors"); every tag has exactly one row (a missing or extra one does not compile).
 */
export const ERRORS = {
  // Transient / unexpected (exit 1)
  TransportError: {
    exitCode: ExitCode.Transient,
    code: "transport",
    retryable: true,
    recovery: "check the network and the server address, then retry"
  },
  TimeoutError: {
    exitCode: ExitCode.Transient,
    code: "timeout",
    retryable: true,
    recovery: "retry; if it persists check that the server is up"
  },
  HttpStatusError: {
    exitCode: ExitCode.Transient,
    code: (e) => e.status >= 500 ? "http_5xx" : "http_4xx",
    retryable: (e) => e.status >= 500,
    recovery: (e) => e.status >= 500 ? "retry later; the server reported an internal error" : undefined
  },
  ResponseDecodeError: {
    exitCode: ExitCode.Transient,
    code: "decode",
    retryable: false,
    recovery: "check that the address points at an Olares server (see --auth-url-override)"
  },
  StorageError: { exitCode: ExitCode.Transient, code: "storage", retryable: false, recovery: (e) => e.hint },
  KeychainError: {
    exitCode: ExitCode.Transient,
    code: "keychain",
    retryable: false,
    recovery: "check that the OS keychain is unlocked and accessible, or run `olares-cli profile doctor`"
  },
  LockTimeout: {
    exitCode: ExitCode.Transient,
    code: "lock_timeout",
    retryable: true,
    recovery: "retry; if no other olares-cli is running, see `olares-cli profile doctor`"
  },
  ProblemsFound: {
    exitCode: ExitCode.Transient,
    code: "doctor_problems",
    retryable: false,
    recovery: "run the fix shown for each problem, then `olares-cli profile doctor` again"
  },
  BackendVersionInvalid: {
    exitCode: ExitCode.Transient,
    code: "decode",
    retryable: false,
    recovery: "check the server, or pass --olares-version <v> to set the version by hand"
  },
  // Usage (exit 2)
  UsageError: { exitCode: ExitCode.Usage, code: "usage", retryable: false, recovery: (e) => e.hint },
  MissingOlaresId: {
    exitCode: ExitCode.Usage,
    code: "usage",
    retryable: false,
    recovery: "add --olares-id <id>, e.g. --olares-id alice@olares.com"
  },
  InvalidOlaresId: {
    exitCode: ExitCode.Usage,
    code: "usage",
    retryable: false,
    recovery: "pass --olares-id <local@domain>, e.g. --olares-id alice@olares.com"
  },
  EmptySecret: {
    exitCode: ExitCode.Usage,
    code: "usage",
    retryable: false,
    recovery: "check for premature EOF or an empty pipe"
  },
  TotpRequired: {
    exitCode: ExitCode.Usage,
    code: "auth_totp_required",
    retryable: false,
    recovery: "re-run with --totp <code>, or run interactively on a terminal"
  },
  NotATerminal: { exitCode: ExitCode.Usage, code: "usage", retryable: false, recovery: (e) => e.hint },
  ForeignUrl: {
    exitCode: ExitCode.Usage,
    code: "auth_foreign_url",
    retryable: false,
    recovery: "use a path (/api/...) or an https:// URL under the profile's own hosts"
  },
  InvalidOlaresVersion: {
    exitCode: ExitCode.Usage,
    code: "usage",
    retryable: false,
    recovery: "pass an Olares version such as --olares-version 1.12.6 (or 1.12.6-20260603, 1.12.0-rc.0)"
  },
  InvalidUrlOption: {
    exitCode: ExitCode.Usage,
    code: "usage",
    retryable: false,
    recovery: (e) =>
      e.flag === "--local-url-prefix"
        ? "pass DNS labels each followed by '.', e.g. --local-url-prefix dev."
        : "pass an absolute http(s) URL without user:password@, query or fragment, e.g. --auth-url-override https://auth.example.com"
  },
  InputTooLong: {
    exitCode: ExitCode.Usage,
    code: "usage",
    retryable: false,
    recovery: "pipe exactly one line: printf '%s\\n' \"$SECRET\" | olares-cli ..."
  },
  UnsendableToken: {
    exitCode: ExitCode.Usage,
    code: "usage",
    retryable: false,
    recovery: "copy the token again without surrounding quotes or line breaks"
  },
  AliasConflict: {
    exitCode: ExitCode.Usage,
    code: "usage",
    retryable: false,
    recovery: (e) =>
      e.as === "alias"
        ? `choose another --name, or remove the other profile first: ${removeCommand(e.other)}`
        : "choose another --name (an alias may not be another profile's olaresId)"
  },
  AmbiguousProfile: {
    exitCode: ExitCode.Usage,
    code: "usage",
    retryable: false,
    recovery: (e) =>
      `${
        removeCommand(e.byAlias)
      } removes the profile that carries the alias; afterwards ${e.key} names ${e.byOlaresId} alone`
  },
  // Not logged in (exit 3)
  NoProfile: {
    exitCode: ExitCode.NotLoggedIn,
    code: "auth_no_profile",
    retryable: false,
    recovery: loginCommand("<id>")
  },
  NotLoggedIn: {
    exitCode: ExitCode.NotLoggedIn,
    code: "auth_not_logged_in",
    retryable: false,
    recovery: (e) => e.managedApp !== undefined ? managedRecovery(e.managedApp) : loginCommand(e.olaresId)
  },
  // Credential rejected (exit 4)
  TokenInvalidated: {
    exitCode: ExitCode.CredentialRejected,
    code: "auth_token_invalidated",
    retryable: false,
    recovery: (e) => e.managedApp !== undefined ? managedRecovery(e.managedApp) : loginCommand(e.olaresId)
  },
  AccessTokenRejected: {
    exitCode: ExitCode.CredentialRejected,
    code: "auth_token_rejected",
    retryable: false,
    recovery: (e) => loginCommand(e.olaresId)
  },
  LoginRejected: {
    exitCode: ExitCode.CredentialRejected,
    code: "auth_login_failed",
    retryable: false,
    recovery: "check the olaresId, password or code and try again"
  },
  ManagedNotSecondFactor: {
    exitCode: ExitCode.CredentialRejected,
    code: "auth_managed_not_second_factor",
    retryable: false,
    recovery: managedRecovery("")
  },
  // Re-authentication refused (exit 5)
  AlreadyAuthenticated: {
    exitCode: ExitCode.AlreadyAuthenticated,
    code: "auth_already_authenticated",
    retryable: false,
    recovery: (e) => removeCommand(e.olaresId)
  },
  ExpiryUnknown: {
    exitCode: ExitCode.AlreadyAuthenticated,
    code: "auth_already_authenticated",
    retryable: false,
    recovery: (e) => removeCommand(e.olaresId)
  },
  ManagedProfileRefused: {
    exitCode: ExitCode.AlreadyAuthenticated,
    code: "auth_managed_profile",
    retryable: false,
    recovery: (e) =>
      e.appName === ""
        ? "uninstall the application that requested this platform-issued credential to revoke it"
        : `uninstall application ${quoteApp(e.appName)} to revoke this platform-issued credential`
  },
  // Profile not found (exit 6)
  ProfileNotFound: {
    exitCode: ExitCode.ProfileNotFound,
    code: "profile_not_found",
    retryable: false,
    recovery: "olares-cli profile list"
  },
  NoPreviousProfile: {
    exitCode: ExitCode.ProfileNotFound,
    code: "profile_not_found",
    retryable: false,
    recovery: "olares-cli profile list"
  },
  // Permission denied (exit 7)
  PermissionDenied: {
    exitCode: ExitCode.PermissionDenied,
    code: "http_403",
    retryable: false,
    recovery: "olares-cli profile whoami --refresh"
  }
} as const satisfies ErrorTable

const rowOf = (e: { readonly _tag: string }): ErrorRow<any> => ERRORS[e._tag as AppErrorTag]

const computed = <A>(value: Computed<any, A>, e: unknown): A =>
  typeof value === "function" ? (value as (e: unknown) => A)(e) : value

/** Errors from talking to an Olares endpoint that are not a verdict on the credential. */
export type TransientHttpError = TransportError | TimeoutError | HttpStatusError | ResponseDecodeError

/** Structural check for anything renderable as a CLI failure. */
export const isCliFailure = (u: unknown): u is CliFailure =>
  typeof u === "object" && u !== null && "_tag" in u && "exitCode" in u && typeof (u as any).exitCode === "number" &&
  "code" in u

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
    detail:
      `the server issued new tokens for ${olaresId}, but they could not be stored (${cause.message}); the credential that was exchanged is spent`,
    hint: `fix the storage problem, then run: ${fix}`
  })
