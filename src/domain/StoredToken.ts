/** The per-olaresId token record kept in the token store (never in config.json). */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { parseJsonBounded } from "./JsonSchema.js"
import { RECORD_TABLE, recordStatus, type TokenStatus } from "./TokenStatus.js"

const kindSchema = {
  string: Schema.String,
  secret: Schema.Redacted(Schema.String),
  int: Schema.Int,
  boolean: Schema.Boolean
} as const
type KindSchema = typeof kindSchema
type Table = typeof RECORD_TABLE

/** The table's fields as Schemas: `olaresId` defaults to "" (the caller fills in the account), `accessToken` is required. */
type RecordFields =
  & {
    readonly olaresId: Schema.optionalWith<typeof Schema.String, { default: () => "" }>
    readonly accessToken: KindSchema["secret"]
  }
  & { readonly [F in Exclude<keyof Table, "olaresId" | "accessToken">]: Schema.optional<KindSchema[Table[F]]> }

const recordFields = Object.fromEntries(
  Object.entries(RECORD_TABLE).map(([field, kind]) => [
    field,
    field === "olaresId"
      ? Schema.optionalWith(Schema.String, { default: () => "" })
      : field === "accessToken"
      ? kindSchema[kind]
      : Schema.optional(kindSchema[kind])
  ])
) as unknown as RecordFields

/**
 * The record, secrets wrapped in `Redacted` in memory (its fields are TokenStatus's `RECORD_TABLE`).
 * The wire form (inside the encrypted blob or keychain item) is the reference's compact JSON in the
 * table's key order, optional keys omitted when empty or zero.
 */
export const StoredToken = Schema.Struct(recordFields)
/** The record, secrets wrapped in `Redacted` in memory. */
export type StoredToken = typeof StoredToken.Type

const decodeJson = Schema.decodeUnknownEither(parseJsonBounded(StoredToken))

/** Parses a record blob (bounded JSON); a record without `olaresId` gets the requested one, as the reference does. */
export const parseStoredToken = (text: string, account: string) =>
  Either.map(decodeJson(text), (t): StoredToken => t.olaresId === "" ? { ...t, olaresId: account } : t)

/** Serialises a record as the reference does (compact JSON, the table's key order, empty fields but the two required ones omitted). */
export const serializeStoredToken = (t: StoredToken): string => {
  const out: Record<string, unknown> = {}
  for (const [field, kind] of Object.entries(RECORD_TABLE)) {
    const raw = (t as Record<string, unknown>)[field]
    const v = kind === "secret" && raw !== undefined ? Redacted.value(raw as Redacted.Redacted<string>) : raw
    if (field === "olaresId" || field === "accessToken" || !(v === undefined || v === "" || v === 0 || v === false)) {
      out[field] = v
    }
  }
  return JSON.stringify(out)
}

/** Whether `record` still holds the refresh token `rejected` (always, when none is given). */
export const stillHolds = (record: StoredToken, rejected: Redacted.Redacted<string> | undefined): boolean =>
  rejected === undefined ||
  (record.refreshToken === undefined ? "" : Redacted.value(record.refreshToken)) === Redacted.value(rejected)

/** True when the record is stamped dead. */
export const isInvalidated = (t: StoredToken): boolean => (t.invalidatedAt ?? 0) > 0

/** What the store said about one olaresId. */
export type StoreLookup =
  | { readonly _tag: "Found"; readonly token: StoredToken }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Unreadable"; readonly reason: string }

/**
 * A profile's token status over what the store said (invalidated wins over exp, `now >= exp` is
 * expired, no record is `never`); a platform-issued (`managed`) profile with nothing exchanged yet is `pending`.
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
