/** The token store port: one encrypted record per olaresId, service `olares-cli`. */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { StoredToken } from "../domain/StoredToken.js"
import type { KeychainError, StorageError } from "../errors.js"

/** Every failure of the store: a corrupt/unreadable file, or an OS keychain that refused. */
export type KeyStoreError = StorageError | KeychainError

/** The store, whatever backend holds it. */
export interface KeyStoreShape {
  /** The backend label printed after login: `file`, `file-fallback`, `system-keychain`, `keychain`, `memory`. */
  readonly backend: Effect.Effect<string>
  /** Where and why (for `profile doctor`). */
  readonly describe: Effect.Effect<{ readonly backend: string; readonly location: string; readonly reason: string }>
  /** `None` when no record exists; corrupt or undecryptable records fail. */
  readonly get: (olaresId: string) => Effect.Effect<Option.Option<StoredToken>, KeyStoreError>
  /**
   * Proves, before a password or refresh token is exchanged, that the result can be stored: the
   * master key exists (created if needed) and room for a record of the maximum size is reserved under
   * the account's real record name (written and synced). Held until the scope closes; a `set` for the
   * account inside it writes into the reservation, so it cannot fail for want of space or a name.
   */
  readonly reserve: (olaresId: string) => Effect.Effect<void, KeyStoreError, Scope.Scope>
  /** Writes atomically (into a held reservation when there is one); always clears `invalidatedAt` (a fresh write revives the grant). */
  readonly set: (token: StoredToken) => Effect.Effect<void, KeyStoreError>
  /**
   * Stamps `invalidatedAt` (unix ms), keeping every other field. No-op when absent, and, given the
   * refresh token the server `rejected`, when the record no longer holds it (someone rotated the
   * grant meanwhile: the record is alive).
   */
  readonly markInvalidated: (
    olaresId: string,
    atMs: number,
    rejected?: Redacted.Redacted<string>
  ) => Effect.Effect<void, KeyStoreError>
  /** Deletes one record; absent is fine. */
  readonly remove: (olaresId: string) => Effect.Effect<void, KeyStoreError>
  /**
   * After the last profile of a config home is removed: deletes what the records share (the master
   * key) only when no record remains, because other config homes may keep theirs in the same store.
   */
  readonly purge: Effect.Effect<void, KeyStoreError>
}

/** The token store. */
export class KeyStore extends Context.Tag("olares-cli/KeyStore")<KeyStore, KeyStoreShape>() {}
