/**
 * The JSON documents the CLI prints under `-o json`, as Schemas: the contract scripts and agents
 * parse. Fields are never renamed or removed; new fields may be added, so decoders should ignore
 * unknown keys (the Schema default). Tokens never appear in any of them.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { TOKEN_STATUSES } from "./domain/TokenStatus.js"

/** The STATUS of a profile's stored token, computed locally: one of TokenStatus's `TOKEN_STATUSES`. */
export const TokenStatusJson = Schema.Literal(...TOKEN_STATUSES)

/** One row of `profile list -o json`. */
export const ProfileRowJson = Schema.Struct({
  /** True for the profile business verbs use. */
  current: Schema.Boolean,
  /** The alias, or the olaresId when there is none. */
  name: Schema.String,
  olaresId: Schema.String,
  status: TokenStatusJson,
  /** Cached Olares backend version, null when never fetched. */
  version: Schema.NullOr(Schema.String),
  /**
   * `local` or `platform(<app>)`, on every row when at least one profile is platform-issued (like the
   * table's SOURCE column), absent otherwise.
   */
  source: Schema.optional(Schema.String),
  /** The application a platform-issued profile was issued to. */
  appName: Schema.optional(Schema.String)
})

/** `profile list -o json`. */
export const ProfileListJson = Schema.Struct({
  profiles: Schema.Array(ProfileRowJson)
})
/** `profile list -o json`. */
export type ProfileListJson = typeof ProfileListJson.Type

/** `profile whoami -o json`. */
export const WhoamiJson = Schema.Struct({
  olaresId: Schema.String,
  /** The profile's display name (alias or olaresId). */
  profile: Schema.String,
  /** The user name the server reported (only after a server read). */
  name: Schema.optional(Schema.String),
  /** `owner`, `admin` or `normal`, absent when unknown. */
  role: Schema.optional(Schema.String),
  /** `Owner`, `Admin` or `User`. */
  roleLabel: Schema.optional(Schema.String),
  /** Where the role came from in this run. */
  source: Schema.Literal("cache", "server"),
  /** Unix seconds of the last role read from the server. */
  refreshedAt: Schema.optional(Schema.Int),
  refreshedAgoSecs: Schema.optional(Schema.NonNegativeInt),
  /** Set, with `changed: true`, when a server read changed the cached role. */
  previousRole: Schema.optional(Schema.String),
  changed: Schema.optional(Schema.Boolean),
  backendVersion: Schema.optional(Schema.String)
})
/** `profile whoami -o json`. */
export type WhoamiJson = typeof WhoamiJson.Type

/** One inspected file or directory of `profile doctor`. */
export const PathCheckJson = Schema.Struct({
  path: Schema.String,
  exists: Schema.Boolean,
  /** null when it does not exist. */
  kind: Schema.NullOr(Schema.Literal("directory", "file", "other")),
  /** Permission bits in octal, e.g. `0700`; null when missing or on Windows. */
  mode: Schema.NullOr(Schema.String),
  /** What the CLI creates it with. */
  expectedMode: Schema.String,
  /** Whether this process may write it; null when it does not exist. */
  writable: Schema.NullOr(Schema.Boolean),
  /** Whether it belongs to the user running the CLI; null when missing or unknown. */
  ownedByUser: Schema.NullOr(Schema.Boolean)
})
/** One inspected file or directory of `profile doctor`. */
export type PathCheckJson = typeof PathCheckJson.Type

/** How a reachability probe failed. */
export const ProbeErrorKindJson = Schema.Literal("dns", "refused", "timeout", "tls", "network")

/** The auth host of one profile, as `profile doctor` saw it. */
export const AuthCheckJson = Schema.Struct({
  /** The auth base URL probed: the override, else `https://auth.<prefix><local>.<domain>`. */
  url: Schema.String,
  source: Schema.Literal("override", "derived"),
  insecureSkipVerify: Schema.Boolean,
  /** False under `--offline`; then the fields below are null. */
  checked: Schema.Boolean,
  /** True when the host answered HTTP at all (any status). */
  reachable: Schema.NullOr(Schema.Boolean),
  httpStatus: Schema.NullOr(Schema.Int),
  errorKind: Schema.NullOr(ProbeErrorKindJson),
  error: Schema.NullOr(Schema.String),
  elapsedMs: Schema.NullOr(Schema.NonNegativeInt)
})
/** The auth host of one profile, as `profile doctor` saw it. */
export type AuthCheckJson = typeof AuthCheckJson.Type

/** One profile in `profile doctor -o json`: the `profile list` row plus what doctor checked. */
export const DoctorProfileJson = Schema.Struct({
  ...ProfileRowJson.fields,
  /** Whether the stored record carries a refresh token; null when there is no readable record. */
  hasRefreshToken: Schema.NullOr(Schema.Boolean),
  auth: AuthCheckJson
})
/** One profile in `profile doctor -o json`. */
export type DoctorProfileJson = typeof DoctorProfileJson.Type

/** One lock file under `<home>/locks`. */
export const LockCheckJson = Schema.Struct({
  /** e.g. `config.lock`, `alice@olares.com.refresh.lock`. */
  name: Schema.String,
  path: Schema.String,
  /** Some process holds it right now (a `LOCK_NB` probe of the kernel lock: the Go CLI's holds count too). */
  held: Schema.Boolean,
  /** A `<path>.lock` directory, left by an older olares-cli-ts that locked that way, is still there. */
  stale: Schema.Boolean
})
/** One lock file under `<home>/locks` or `<data dir>/locks`. */
export type LockCheckJson = typeof LockCheckJson.Type

/** Something `profile doctor` found wrong, with the command that fixes it. */
export const ProblemJson = Schema.Struct({
  /** Stable machine code, e.g. `token_invalidated`, `path_insecure`, `auth_unreachable`. */
  code: Schema.String,
  /** `error` makes doctor exit 1; `warning` does not. */
  severity: Schema.Literal("error", "warning"),
  /** What it is about: an olaresId, a path, or `store`. */
  subject: Schema.String,
  message: Schema.String,
  /** The exact command (or, where no command can fix it, the one that diagnoses it). */
  fix: Schema.String
})
/** Something `profile doctor` found wrong. */
export type ProblemJson = typeof ProblemJson.Type

/** `profile doctor -o json`. */
export const DoctorJson = Schema.Struct({
  /** False when at least one problem has severity `error` (then the exit code is 1). */
  healthy: Schema.Boolean,
  cliVersion: Schema.String,
  /** The token store in use and why (`KeyStore.describe`). */
  store: Schema.Struct({ backend: Schema.String, location: Schema.String, reason: Schema.String }),
  paths: Schema.Struct({
    home: PathCheckJson,
    configFile: PathCheckJson,
    locksDir: PathCheckJson,
    /** null when the backend keeps nothing on disk (OS credential store, memory). */
    dataDir: Schema.NullOr(PathCheckJson),
    /** null when the master key is not a file (macOS Keychain, OS credential store, memory). */
    masterKey: Schema.NullOr(PathCheckJson)
  }),
  profiles: Schema.Array(DoctorProfileJson),
  locks: Schema.Array(LockCheckJson),
  problems: Schema.Array(ProblemJson)
})
/** `profile doctor -o json`. */
export type DoctorJson = typeof DoctorJson.Type

/** What every failure prints on stderr under `-o json` (src/output.ts `renderFailure`). */
export const ErrorEnvelopeJson = Schema.Struct({
  error: Schema.Struct({
    /** The reference's machine code: `auth_not_logged_in`, `transport`, `usage`, ... */
    code: Schema.String,
    /** Our typed error's tag: `NotLoggedIn`, `TransportError`, ... */
    status: Schema.String,
    /** The process exit code. */
    exitCode: Schema.Int,
    message: Schema.String,
    retryable: Schema.Boolean,
    /** The exact recovery command or instruction, when there is one. */
    action: Schema.optional(Schema.String)
  })
})
/** What every failure prints on stderr under `-o json`. */
export type ErrorEnvelopeJson = typeof ErrorEnvelopeJson.Type

/** Encodes a document through its schema (a mismatch is a bug, so a defect) as indented JSON. */
export const renderJson = <A, I>(schema: Schema.Schema<A, I>, value: A): Effect.Effect<string> =>
  Effect.map(Effect.orDie(Schema.encode(schema)(value)), (encoded) => JSON.stringify(encoded, null, 2))
