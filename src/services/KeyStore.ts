/** The token store port: one encrypted record per olaresId, service `olares-cli`. */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
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
   * Fails when a later `set` for this account could not succeed (an unusable directory or master
   * key), writing no record: login and import run it before they spend a password or refresh token.
   */
  readonly checkWritable: (olaresId: string) => Effect.Effect<void, KeyStoreError>
  /** Writes atomically; always clears `invalidatedAt` (a fresh write revives the grant). */
  readonly set: (token: StoredToken) => Effect.Effect<void, KeyStoreError>
  /** Stamps `invalidatedAt` (unix ms), keeping every other field. No-op when absent. */
  readonly markInvalidated: (olaresId: string, atMs: number) => Effect.Effect<void, KeyStoreError>
  /** Deletes one record; absent is fine. */
  readonly remove: (olaresId: string) => Effect.Effect<void, KeyStoreError>
  /** Wipes the whole store, master key included (after the last profile is removed). */
  readonly purge: Effect.Effect<void, KeyStoreError>
}

/** The token store. */
export class KeyStore extends Context.Tag("olares-cli/KeyStore")<KeyStore, KeyStoreShape>() {}
