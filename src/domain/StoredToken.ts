/** The per-olaresId token record kept in the token store (never in config.json). */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { parseJsonBounded } from "./JsonSchema.js"
import { recordStatus, type TokenStatus } from "./TokenStatus.js"

/**
 * The record, secrets wrapped in `Redacted` in memory. The wire form (inside the encrypted blob or
 * keychain item) is the reference's compact JSON, key order `olaresId, accessToken, refreshToken,
 * sessionId, grantedAt, invalidatedAt`, optional keys omitted when empty or zero.
 */
export const StoredToken = Schema.Struct({
  olaresId: Schema.optionalWith(Schema.String, { default: () => "" }),
  accessToken: Schema.Redacted(Schema.String),
  refreshToken: Schema.optional(Schema.Redacted(Schema.String)),
  sessionId: Schema.optional(Schema.String),
  grantedAt: Schema.optional(Schema.Int),
  invalidatedAt: Schema.optional(Schema.Int),
  managed: Schema.optional(Schema.Boolean)
})
/** The record, secrets wrapped in `Redacted` in memory. */
export type StoredToken = typeof StoredToken.Type

const decodeJson = Schema.decodeUnknownEither(parseJsonBounded(StoredToken))

/** Parses a record blob (bounded JSON); a record without `olaresId` gets the requested one, as the reference does. */
export const parseStoredToken = (text: string, account: string) =>
  Either.map(decodeJson(text), (t): StoredToken => t.olaresId === "" ? { ...t, olaresId: account } : t)

/** Serialises a record as the reference does (compact JSON, fixed key order, empty fields omitted). */
export const serializeStoredToken = (t: StoredToken): string => {
  const out: Record<string, unknown> = { olaresId: t.olaresId, accessToken: Redacted.value(t.accessToken) }
  if (t.refreshToken !== undefined && Redacted.value(t.refreshToken) !== "") out.refreshToken = Redacted.value(t.refreshToken)
  if (t.sessionId !== undefined && t.sessionId !== "") out.sessionId = t.sessionId
  if (t.grantedAt !== undefined && t.grantedAt !== 0) out.grantedAt = t.grantedAt
  if (t.invalidatedAt !== undefined && t.invalidatedAt !== 0) out.invalidatedAt = t.invalidatedAt
  if (t.managed === true) out.managed = true
  return JSON.stringify(out)
}

/** Whether `record` still holds the refresh token `rejected` (always, when none is given). */
export const stillHolds = (record: StoredToken, rejected: Redacted.Redacted<string> | undefined): boolean =>
  rejected === undefined ||
  (record.refreshToken === undefined ? "" : Redacted.value(record.refreshToken)) === Redacted.value(rejected)

/** True when the record is stamped dead. */
export const isInvalidated = (t: StoredToken): boolean => (t.invalidatedAt ?? 0) > 0

export type { TokenStatus } from "./TokenStatus.js"

/** What the store said about one olaresId. */
export type StoreLookup =
  | { readonly _tag: "Found"; readonly token: StoredToken }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Unreadable"; readonly reason: string }

/**
 * The status algorithm of the spec (section 5), over what the store said; a platform-issued
 * (`managed`) profile with nothing exchanged yet is `pending` (reference notes 7.2).
 */
export const tokenStatus = (lookup: StoreLookup, nowMs: number, managed = false): TokenStatus => {
  switch (lookup._tag) {
    case "Missing":
      return managed ? "pending" : "never"
    case "Unreadable":
      return "unknown"
    case "Found":
      return recordStatus(Redacted.value(lookup.token.accessToken), lookup.token.invalidatedAt, managed, nowMs)
  }
}

/** The lookup a caller gets from `Option` plus an error flag. */
export const lookupOf = (o: Option.Option<StoredToken>): StoreLookup =>
  Option.match(o, { onNone: () => ({ _tag: "Missing" }), onSome: (token) => ({ _tag: "Found", token }) })
