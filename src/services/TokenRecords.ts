/** Which token records the on-disk store holds (for `profile doctor`'s orphan check). */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"

/** One record file no profile names. */
export interface UnclaimedRecord {
  /** The record's file. */
  readonly path: string
  /** The account `KeyStore.get` reads it under. */
  readonly account: string
}

/** The port. */
export interface TokenRecordsShape {
  /**
   * The record files in the token store's data directory that none of `accounts` names, sorted by
   * path. An unreadable directory has none.
   */
  readonly unclaimed: (accounts: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<UnclaimedRecord>>
}

/** The store's record files. */
export class TokenRecords extends Context.Tag("olares-cli/TokenRecords")<TokenRecords, TokenRecordsShape>() {}
