/**
 * The AES-256-GCM file token store, byte-compatible with the Go olares-cli: `<dir>/master.key`
 * (32 raw bytes) and one `<safe(account)>.enc` per account = IV(12) || ciphertext || tag(16), no AAD.
 * The master key's home is pluggable so macOS can keep it in the Keychain (see KeyStoreKeyring.ts);
 * the generic file I/O (errno mapping, private-file policy, atomic writes) is in layers/internal/.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import type * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as NodePath from "node:path"
import { parseJson } from "../src/domain/Json.js"
import { recordPath } from "../src/domain/Paths.js"
import { parseStoredToken, serializeStoredToken, stillHolds, type StoredToken } from "../src/domain/StoredToken.js"
import { StorageError } from "../src/errors.js"
import { AppPaths } from "../src/services/AppPaths.js"
import { KeyStore, type KeyStoreShape } from "../src/services/KeyStore.js"
import {
  abandonSync,
  commitSync,
  openTempSync,
  preallocateSync,
  stillLinkedSync,
  type TempFile
} from "./internal/AtomicFile.js"
import { type DecryptFailure, encryptBlob, IV_BYTES, openBlob, TAG_BYTES } from "./internal/Blob.js"
import { reasonOf, storageError } from "./internal/Errno.js"
import { loginCommand, masterKeyFile, type MasterKeySource, withAccount } from "./internal/MasterKey.js"
import { judge } from "./internal/PrivatePolicy.js"
import { lstatOrUndefined } from "./internal/SafeFs.js"
import {
  checkStoreDir,
  ensurePrivateDir,
  guarded,
  readPrivateFile,
  sweepTemps,
  trust
} from "./internal/SafeFsEffect.js"

/** Opens a blob sealed by `encryptBlob` (or by the Go CLI). */
export const decryptBlob = (blob: Buffer, key: Buffer): Either.Either<string, DecryptFailure> => {
  const r = openBlob(blob, key)
  return r.ok ? Either.right(r.text) : Either.left(r.reason)
}

/** The fix for a record that cannot be read: drop it and log in again. */
export const reloginHint = (account: string): string =>
  `olares-cli profile remove ${account} && ${loginCommand(account)}`

/** A write into `dir` failed: permission, space or a read-only mount. */
export const writeFailure = (path: string, dir: string, e: NodeJS.ErrnoException): StorageError =>
  storageError({ store: "data", op: "write", path, dir }, e)

const readFailure = (path: string, e: NodeJS.ErrnoException): StorageError =>
  storageError({ store: "data", op: "read", path }, e)

/** The most a record may need: space for this much is reserved before a grant is exchanged. */
export const MAX_RECORD_BYTES = 64 * 1024

/** A name the file system refuses is a problem of the olaresId, not of space or permissions. */
const nameFailure = (path: string, dir: string, e: NodeJS.ErrnoException): StorageError =>
  reasonOf(e) === "NameTooLong"
    ? new StorageError({
      path,
      detail: `cannot store a token under this olaresId: its record file name is ${
        Buffer.byteLength(NodePath.basename(path))
      } bytes, longer than this file system allows (ENAMETOOLONG)`,
      hint: "use a shorter olaresId, or set OLARES_CLI_DATA_DIR to a file system that allows longer file names"
    })
    : writeFailure(path, dir, e)

/**
 * Proves a record can be written at `path` before anything is spent: the name is valid here (a
 * too-long one is ENAMETOOLONG now, not after the exchange), whatever is there is a regular file of
 * ours, and a temp file of the same name length holding `capacity` bytes is written and synced, so
 * the commit only overwrites blocks it already owns and renames within the directory.
 */
const openReservation = (path: string, capacity: number): Effect.Effect<TempFile, StorageError> =>
  Effect.gen(function*() {
    const dir = NodePath.dirname(path)
    const existing = yield* guarded(() => lstatOrUndefined(path), (e) => nameFailure(path, dir, e))
    if (existing !== undefined) {
      yield* guarded(() => judge(path, existing, "file", "token record", trust()), (e) => readFailure(path, e))
    }
    const temp = yield* guarded(() => openTempSync(path), (e) => nameFailure(path, dir, e))
    return yield* guarded(() => preallocateSync(temp, capacity), (e) => writeFailure(path, dir, e)).pipe(
      Effect.as(temp),
      Effect.tapError(() => Effect.sync(() => abandonSync(temp)))
    )
  })

/** Writes `data` into the reservation (over its own blocks), trims it, syncs it and renames it over `path`. */
const commit = (r: TempFile, path: string, data: Buffer): Effect.Effect<void, StorageError> =>
  guarded(() => commitSync(r, path, data), (e) => writeFailure(path, NodePath.dirname(path), e))

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

/** Options of `makeFileKeyStore`. */
export interface FileKeyStoreOptions {
  /** The data dir holding the `.enc` records. */
  readonly dir: string
  /** Where the master key lives. */
  readonly masterKey: MasterKeySource
  /** The label printed after login (`file`, or computed on macOS). */
  readonly backendLabel: Effect.Effect<string>
  /** Why this backend was chosen (for `profile doctor`). */
  readonly reason?: string
}

/** Names only the fields that failed to decode, never their values (they may be secrets). */
export const schemaProblem = (e: ParseResult.ParseError): string => {
  const fields = ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => i.path.join(".")).filter((p) => p !== "")
  return fields.length === 0
    ? "is not a token record"
    : `has missing or mistyped fields: ${Array.from(new Set(fields)).join(", ")}`
}

/** The names in `dir`; none when it does not exist. */
const namesIn = (dir: string): Array<string> => {
  try {
    return Fs.readdirSync(dir)
  } catch (e) {
    if (reasonOf(e) === "NotFound") return []
    throw e
  }
}

/** A token record, or one being written, in the store's directory. */
const isRecordName = (name: string): boolean => name.endsWith(".enc") || /\.enc\.[^.]+\.tmp$/.test(name)

/** `master.key` (Linux), `master.key.file` (the macOS fallback) and their half-written temp files. */
const isKeyFileName = (name: string): boolean => /^master\.key(\.file)?(\.[^.]+\.tmp)?$/.test(name)

/**
 * `markInvalidated` over a store's own read and write: stamps `invalidatedAt`, keeping every other
 * field; nothing when the record is absent or no longer holds the refresh token the server rejected.
 */
export const stampInvalidated = <E1, E2>(
  name: string,
  get: (account: string) => Effect.Effect<Option.Option<StoredToken>, E1>,
  write: (token: StoredToken) => Effect.Effect<void, E2>
) =>
  Effect.fn(name)(function*(account: string, atMs: number, rejected?: Redacted.Redacted<string>) {
    const current = yield* get(account)
    if (Option.isNone(current) || !stillHolds(current.value, rejected)) return
    yield* write({ ...current.value, invalidatedAt: atMs })
  })

/** Builds the encrypted-file store over any master-key source. */
export const makeFileKeyStore = (options: FileKeyStoreOptions): KeyStoreShape => {
  const { dir, masterKey } = options

  const corrupt = (path: string, account: string, detail: string) =>
    new StorageError({ path, detail, hint: reloginHint(account) })

  const decode = (path: string, account: string, blob: Buffer, key: Buffer) =>
    Effect.gen(function*() {
      let opened = decryptBlob(blob, key)
      if (Either.isLeft(opened) && opened.left === "authentication" && masterKey.readAlternate !== undefined) {
        const alt = yield* masterKey.readAlternate.pipe(Effect.orElseSucceed(() => Option.none<Buffer>()))
        if (Option.isSome(alt) && !alt.value.equals(key)) opened = decryptBlob(blob, alt.value)
      }
      if (Either.isLeft(opened)) {
        return yield* Effect.fail(corrupt(
          path,
          account,
          opened.left === "truncated"
            ? `token record is truncated (${blob.length} bytes, want at least ${IV_BYTES + TAG_BYTES})`
            : "token record cannot be decrypted: it is corrupt or was encrypted under another master key"
        ))
      }
      const text = opened.right
      const json = parseJson(text)
      if (!json.ok) {
        return yield* Effect.fail(
          corrupt(path, account, `decrypted token record is ${json.tooDeep ? json.reason : "not valid JSON"}`)
        )
      }
      const parsed = parseStoredToken(text, account)
      if (Either.isLeft(parsed)) {
        return yield* Effect.fail(corrupt(path, account, `decrypted token record ${schemaProblem(parsed.left)}`))
      }
      return parsed.right
    })

  const get = Effect.fn("KeyStoreFile.get")(function*(account: string) {
    if (account === "") return yield* Effect.dieMessage("KeyStore.get: olaresId is required")
    const path = recordPath(dir, account)
    // The directory first: records in a directory someone else controls are not ours to trust.
    if (!(yield* checkStoreDir(dir))) return Option.none<StoredToken>()
    const blob = yield* readPrivateFile(path)
    if (Option.isNone(blob)) return Option.none<StoredToken>()
    const key = yield* masterKey.read.pipe(Effect.mapError(withAccount(account)))
    if (Option.isNone(key)) {
      return yield* Effect.fail(corrupt(
        path,
        account,
        "keychain not initialized: the master key this record was encrypted under is missing"
      ))
    }
    return Option.some(yield* decode(path, account, blob.value, key.value))
  })

  /** Reservations held by `reserve` scopes, per account; `write` consumes one when there is one. */
  const held = new Map<string, Array<TempFile>>()
  const take = (account: string) =>
    Effect.sync(() => {
      const r = held.get(account)?.pop()
      if (held.get(account)?.length === 0) held.delete(account)
      return Option.fromNullable(r)
    })
  const release = (account: string, r: TempFile) =>
    Effect.suspend(() => {
      const list = held.get(account)
      const i = list?.indexOf(r) ?? -1
      if (i < 0) return Effect.void // consumed by a write
      list!.splice(i, 1)
      if (list!.length === 0) held.delete(account)
      return Effect.sync(() => abandonSync(r))
    })

  /** The directory and the master key (created when missing): both must exist before a record can. */
  const prepareWrite = (account: string) =>
    Effect.zipRight(ensurePrivateDir(dir), masterKey.readOrCreate.pipe(Effect.mapError(withAccount(account))))

  const reserve = (account: string) =>
    Effect.gen(function*() {
      if (account === "") return yield* Effect.dieMessage("KeyStore.reserve: olaresId is required")
      yield* prepareWrite(account)
      yield* sweepTemps(dir)
      const path = recordPath(dir, account)
      yield* Effect.acquireRelease(
        Effect.tap(openReservation(path, MAX_RECORD_BYTES), (r) =>
          Effect.sync(() => held.set(account, [...(held.get(account) ?? []), r]))),
        (r) =>
          release(account, r)
      )
    }).pipe(Effect.withSpan("KeyStoreFile.reserve"))

  const write = Effect.fn("KeyStoreFile.write")(function*(token: StoredToken) {
    if (token.olaresId === "") return yield* Effect.dieMessage("KeyStore.set: olaresId is required")
    const key = yield* prepareWrite(token.olaresId)
    const blob = encryptBlob(serializeStoredToken(token), key)
    const path = recordPath(dir, token.olaresId)
    const reserved = yield* take(token.olaresId)
    // A reservation whose temp is gone (a `profile remove` of the last profile purged the store
    // meanwhile, which also freed its space) is replaced by a fresh temp. Bigger than reserved (no
    // real server issues such tokens): the temp just grows, without the guarantee.
    const live = Option.isSome(reserved) && stillLinkedSync(reserved.value)
    if (Option.isSome(reserved) && !live) abandonSync(reserved.value)
    const r = live && Option.isSome(reserved) ? reserved.value : yield* openReservation(path, blob.length)
    yield* commit(r, path, blob)
    // Every write also clears what crashed writers left (reservations, key temps), not only `reserve`.
    yield* sweepTemps(dir)
  })

  const set = (token: StoredToken) => {
    const { invalidatedAt: _dropped, ...fresh } = token
    return write(fresh)
  }

  const markInvalidated = stampInvalidated("KeyStoreFile.markInvalidated", get, write)

  const remove = Effect.fn("KeyStoreFile.remove")(function*(account: string) {
    const path = recordPath(dir, account)
    yield* guarded(() => Fs.rmSync(path, { force: true }), (e) => writeFailure(path, dir, e))
  })

  // Records of other config homes sharing this data dir stay, and so does the key they need. A
  // record being written (`<name>.enc.<uuid>.tmp`) counts as one. The directory itself stays too:
  // its `locks/` may be held by another process right now.
  const purge = Effect.gen(function*() {
    const names = yield* guarded(() => namesIn(dir), (e) => readFailure(dir, e))
    if (names.some(isRecordName)) return
    const keyGone = yield* Effect.either(masterKey.purge)
    for (const name of names.filter(isKeyFileName)) {
      const path = NodePath.join(dir, name)
      yield* guarded(() => Fs.rmSync(path, { force: true }), (e) => writeFailure(path, dir, e))
    }
    if (Either.isLeft(keyGone)) return yield* Effect.fail(keyGone.left)
  }).pipe(Effect.withSpan("KeyStoreFile.purge"))

  return KeyStore.of({
    backend: options.backendLabel,
    describe: Effect.gen(function*() {
      const backend = yield* options.backendLabel
      const keyAt = yield* masterKey.location
      return {
        backend,
        location: `${dir} (master key: ${keyAt})`,
        reason: options.reason ?? "encrypted files"
      }
    }),
    get,
    reserve,
    set,
    markInvalidated,
    remove,
    purge
  })
}

/** The Linux store for `dir`: `master.key` next to the records, label `file`. */
export const makeLinuxFileKeyStore = (dir: string, reason?: string): KeyStoreShape =>
  makeFileKeyStore({
    dir,
    masterKey: masterKeyFile(dir),
    backendLabel: Effect.succeed("file"),
    ...(reason === undefined ? {} : { reason })
  })

/** The file store in `AppPaths.dataDir`, label `file`. */
export const KeyStoreFile: Layer.Layer<KeyStore, never, AppPaths> = Layer.effect(
  KeyStore,
  Effect.map(
    AppPaths,
    (paths) => makeLinuxFileKeyStore(paths.dataDir, `AES-256-GCM files (data dir from ${paths.dataDirSource})`)
  )
)
