/**
 * The master-key source of the encrypted-file stores: where the 32-byte AES key lives, how it is read
 * (a key file of the wrong length is `keychain is corrupted`) and how it is created exactly once
 * (published with a hard link, so two first writers can never end up encrypting under different
 * keys). The Linux store keeps it in `master.key`; macOS in the Keychain or `master.key.file`
 * (KeyStoreKeyring.ts), through the same file functions.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Crypto from "node:crypto"
import * as NodePath from "node:path"
import { masterKeyPath } from "../../src/domain/Paths.js"
import { StorageError } from "../../src/errors.js"
import type { KeyStoreError } from "../../src/services/KeyStore.js"
import { publishOnceSync } from "./AtomicFile.js"
import { MASTER_KEY_BYTES } from "./Blob.js"
import { storageError } from "./Errno.js"
import { ensurePrivateDir, guarded, readPrivateFile } from "./SafeFsEffect.js"

/**
 * Where the 32-byte master key lives. Errors may carry the placeholder `<id>` in their hint; the
 * store replaces it with the account being read or written.
 */
export interface MasterKeySource {
  /** The key for reading; `None` when it was never created ("keychain not initialized"). */
  readonly read: Effect.Effect<Option.Option<Buffer>, KeyStoreError>
  /** The key for writing, created on first use. */
  readonly readOrCreate: Effect.Effect<Buffer, KeyStoreError>
  /** Deletes a key held outside the data dir (the store removes the dir itself). */
  readonly purge: Effect.Effect<void, KeyStoreError>
  /** A second key to try when `read`'s does not open a blob (macOS: the Keychain key behind `master.key.file`). */
  readonly readAlternate?: Effect.Effect<Option.Option<Buffer>, KeyStoreError>
  /** Where the key lives, for `profile doctor`. */
  readonly location: Effect.Effect<string>
}

/** The placeholder a master-key error's hint uses for the account. */
export const ACCOUNT_PLACEHOLDER = "<id>"

/** Puts the account into a master-key error's hint. */
export const withAccount = (account: string) => (e: KeyStoreError): KeyStoreError =>
  e._tag === "StorageError" && e.hint.includes(ACCOUNT_PLACEHOLDER)
    ? new StorageError({ path: e.path, detail: e.detail, hint: e.hint.replaceAll(ACCOUNT_PLACEHOLDER, account) })
    : e

/** The shell command a user runs to log in again. */
export const loginCommand = (account: string): string => `olares-cli profile login --olares-id ${account}`

const q = (p: string) => JSON.stringify(p)

/** `keychain is corrupted`: a key file of the wrong length; the fix is to set it aside and log in again. */
export const corruptKeyFile = (path: string, size: number): StorageError =>
  new StorageError({
    path,
    detail: `keychain is corrupted (${NodePath.basename(path)} is ${size} bytes, want ${MASTER_KEY_BYTES})`,
    hint: `mv ${q(path)} ${q(`${path}.corrupt`)} && ${loginCommand(ACCOUNT_PLACEHOLDER)}`
  })

/** Reads a raw 32-byte key file; `None` when absent, `keychain is corrupted` when the length is wrong. */
export const readKeyFile = (path: string): Effect.Effect<Option.Option<Buffer>, StorageError> =>
  readPrivateFile(path).pipe(
    Effect.flatMap((o) =>
      Option.isSome(o) && o.value.length !== MASTER_KEY_BYTES
        ? Effect.fail(corruptKeyFile(path, o.value.length))
        : Effect.succeed(o)
    )
  )

/**
 * Creates the key file at `path` once (its directory first): a fresh random key published with a
 * hard link, which refuses to replace a key a concurrent process just published; the loser reads the
 * winner's key, re-reading it (3 tries, 5 ms apart) while it is still short.
 */
export const createKeyFile = (path: string): Effect.Effect<Buffer, StorageError> =>
  Effect.gen(function*() {
    const dir = NodePath.dirname(path)
    yield* ensurePrivateDir(dir)
    const key = Crypto.randomBytes(MASTER_KEY_BYTES)
    const published = yield* guarded(() => publishOnceSync(path, key), (e) =>
      storageError({ store: "data", op: "write", path, dir }, e))
    if (published) {
      return key
    }
    // Another writer got there first; one that writes in place (not by link) may still be writing.
    let lastSize = 0
    for (let attempt = 0; attempt < 3; attempt++) {
      const winner = yield* readPrivateFile(path)
      if (Option.isSome(winner) && winner.value.length === MASTER_KEY_BYTES) {
        return winner.value
      }
      lastSize = Option.isSome(winner) ? winner.value.length : 0
      if (attempt < 2) {
        yield* Effect.sleep("5 millis")
      }
    }
    return yield* Effect.fail(corruptKeyFile(path, lastSize))
  })

/** The Linux master key: `<dir>/master.key`, 32 raw bytes, created on the first write only. */
export const masterKeyFile = (dir: string): MasterKeySource => {
  const path = masterKeyPath(dir)
  const read = readKeyFile(path)
  return {
    read,
    readOrCreate: read.pipe(
      Effect.flatMap(Option.match({ onSome: Effect.succeed, onNone: () => createKeyFile(path) }))
    ),
    purge: Effect.void,
    location: Effect.succeed(path)
  }
}
