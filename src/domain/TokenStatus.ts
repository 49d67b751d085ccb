/**
 * The STATUS column of `profile list` and the token record's wire shape, as plain functions (no
 * Effect imports) shared by StoredToken.ts and the start-up quick path (src/startup/quick.ts).
 * `decodeRecordStrict` only ever accepts a subset of what `StoredToken` decodes (property-tested).
 */
import { parseJson } from "./Json.js"
import { decodeExpiry } from "./Jwt.js"

/**
 * Every value of the STATUS column of `profile list`, computed locally with no network: the one
 * list the type, the `-o json` Schema (schemas.ts) and the colours (commands/style.ts) follow.
 * `pending` is a platform-issued profile whose mounted grant has not been exchanged yet.
 */
export const TOKEN_STATUSES = [
  "never",
  "logged-in",
  "expired",
  "invalidated",
  "unknown",
  "logged-in (unparseable token)",
  "pending"
] as const

/** The STATUS column of `profile list`, computed locally with no network. */
export type TokenStatus = typeof TOKEN_STATUSES[number]

/** A token's status: invalidated wins over exp; `now >= exp` is expired; no exp, or an unreadable token, still counts as logged in. */
export const statusOf = (accessToken: string, invalidatedAt: number | undefined, nowMs: number): TokenStatus => {
  if ((invalidatedAt ?? 0) > 0) return "invalidated"
  const e = decodeExpiry(accessToken)
  switch (e._tag) {
    case "NoExp":
      return "logged-in"
    case "Unparseable":
      return "logged-in (unparseable token)"
    case "Exp":
      return nowMs >= e.expMs ? "expired" : "logged-in"
  }
}

/**
 * The status of a stored record, platform-issued profiles included: a managed profile whose record
 * holds no access token yet (and no invalidation) is `pending`, not broken.
 */
export const recordStatus = (
  accessToken: string,
  invalidatedAt: number | undefined,
  managed: boolean,
  nowMs: number
): TokenStatus =>
  managed && accessToken === "" && (invalidatedAt ?? 0) <= 0 ? "pending" : statusOf(accessToken, invalidatedAt, nowMs)

/** What `profile list` reads out of a decrypted record. */
export interface RecordData {
  readonly accessToken: string
  readonly invalidatedAt?: number | undefined
}

/**
 * The token record's fields in the reference's wire order, each with its type (`secret`: a string
 * kept `Redacted` in memory): StoredToken's Schema and writer and the plain decoder below are all
 * built from this one table. `accessToken` is the only required field; a missing `olaresId` is the
 * account the record was stored under.
 */
export const RECORD_TABLE = {
  olaresId: "string",
  accessToken: "secret",
  refreshToken: "secret",
  sessionId: "string",
  grantedAt: "int",
  invalidatedAt: "int",
  managed: "boolean"
} as const satisfies Readonly<Record<string, "string" | "secret" | "int" | "boolean">>

/**
 * Decodes a decrypted record without Effect: the record, or `undefined` whenever it is anything but
 * plainly valid (then the caller defers to `StoredToken.parseStoredToken`).
 */
export const decodeRecordStrict = (text: string): RecordData | undefined => {
  const parsed = parseJson(text)
  if (!parsed.ok) return undefined
  const json = parsed.value
  if (typeof json !== "object" || json === null || Array.isArray(json) || Object.hasOwn(json, "__proto__")) {
    return undefined
  }
  const o = json as Record<string, unknown>
  if (typeof o.accessToken !== "string") return undefined
  for (const [field, kind] of Object.entries(RECORD_TABLE)) {
    if (!Object.hasOwn(o, field)) continue
    const v = o[field]
    const ok = kind === "string" || kind === "secret"
      ? typeof v === "string"
      : kind === "boolean"
      ? typeof v === "boolean"
      : Number.isSafeInteger(v)
    if (!ok) return undefined
  }
  return { accessToken: o.accessToken, invalidatedAt: o.invalidatedAt as number | undefined }
}
