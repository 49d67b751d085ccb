/**
 * Platform-issued ("managed") profiles, as the Go CLI has them inside Olares application containers:
 * the platform mounts `$OLARES_CLI_CREDENTIALS_DIR/credential.json` holding
 * `refreshToken`, `olaresId` and `appName`; the CLI turns it into a profile marked `managed` whose
 * token records never hold a refresh token (the mount is the only copy). Pure parts only.
 */
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { StoredToken } from "./StoredToken.js"
import type { TokenGrant } from "./TokenGrant.js"

/** The environment variable naming the mount's directory. */

/** The mounted file's name. */
export const CREDENTIAL_FILE = "credential.json"

/** A credential.json larger than this is not one (read no further). */
export const MAX_CREDENTIAL_BYTES = 64 * 1024

/** The prefix of the reference's debug lines about the mount (`OLARES_CLI_DEBUG`). */
export const DEBUG_PREFIX = "[olares-cli managed] "

/** What the mount holds, all three fields trimmed and non-empty. */
export interface ManagedCredential {
  readonly refreshToken: Redacted.Redacted<string>
  readonly olaresId: string
  readonly appName: string
}

/** What the mount says: nothing configured, a file that is not a grant (and why), or the grant. */
export type MountState =
  | { readonly _tag: "Unset" }
  | { readonly _tag: "Invalid"; readonly reason: string }
  | { readonly _tag: "Mounted"; readonly credential: ManagedCredential }

const FIELDS = ["refreshToken", "olaresId", "appName"] as const

/**
 * Parses credential.json as the reference does: a JSON object whose keys match case-insensitively
 * (Go's decoder), every field a string; all three required after trimming, else a reason naming the
 * missing ones. The reason never contains a field's value.
 */
export const parseManagedCredential = (text: string, path: string): MountState => {
  const invalid = (reason: string): MountState => ({ _tag: "Invalid", reason: `managed credential: ${reason}` })
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return invalid(`parse ${path}: ${e instanceof SyntaxError ? "not valid JSON" : String(e)}`)
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return invalid(`parse ${path}: not a JSON object`)
  }
  const values: Record<string, string> = {}
  for (const field of FIELDS) {
    const keys = Object.keys(json)
    const key = keys.includes(field) ? field : keys.find((k) => k.toLowerCase() === field.toLowerCase())
    const v = key === undefined ? undefined : (json as Record<string, unknown>)[key]
    if (v !== undefined && v !== null && typeof v !== "string") {
      return invalid(`parse ${path}: ${field} is not a string`)
    }
    values[field] = (v ?? "").trim()
  }
  const missing = FIELDS.filter((f) => values[f] === "")
  if (missing.length > 0) return invalid(`${path} is missing ${missing.join(", ")}`)
  return {
    _tag: "Mounted",
    credential: {
      refreshToken: Redacted.make(values.refreshToken!),
      olaresId: values.olaresId!,
      appName: values.appName!
    }
  }
}

/** The mount's refresh token when it names `account` (exactly, as the reference compares), else none. */
export const mountedTokenFor = (state: MountState, account: string): Option.Option<Redacted.Redacted<string>> =>
  state._tag === "Mounted" && state.credential.olaresId === account
    ? Option.some(state.credential.refreshToken)
    : Option.none()

/** The record a managed refresh stores: no refresh token (the mount is the platform's only copy), marked `managed`. */
export const managedRecord = (account: string, grant: TokenGrant, nowMs: number): StoredToken => ({
  olaresId: account,
  accessToken: grant.accessToken,
  ...Option.match(Option.filter(grant.sessionId, (s) => s !== ""), {
    onNone: () => ({}),
    onSome: (sessionId) => ({ sessionId })
  }),
  grantedAt: nowMs,
  managed: true
})
