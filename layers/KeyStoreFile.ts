/**
 * The AES-256-GCM file token store, byte-compatible with the Go olares-cli: `<dir>/master.key`
 * (32 raw bytes) and one `<safe(account)>.enc` per account = IV(12) || ciphertext || tag(16), no AAD.
 * The master key's home is pluggable so macOS can keep it in the Keychain (see KeyStoreKeyring.ts).
 */
import * as Crypto from "node:crypto"
import { statSync } from "node:fs"
import * as Fs from "node:fs/promises"
import * as NodePath from "node:path"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import type * as Redacted from "effect/Redacted"
import { parseJson } from "../src/domain/Json.js"
import { parseStoredToken, serializeStoredToken, stillHolds, type StoredToken } from "../src/domain/StoredToken.js"
import { safeHomedir } from "../src/domain/Paths.js"
import { StorageError } from "../src/errors.js"
import { AppPaths } from "../src/services/AppPaths.js"
import { KeyStore, type KeyStoreError, type KeyStoreShape } from "../src/services/KeyStore.js"
import {
  type DecryptFailure,
  encryptBlob,
  FILE_MODE,
  IV_BYTES,
  MASTER_KEY_BYTES,
  openBlob,
  recordPath,
  TAG_BYTES
} from "./internal/Blob.js"
import { sweepTempsSync, tempName } from "./internal/AtomicFile.js"
import { checkDirSync, ensureDirSync, judge, liveContext, lstatOrUndefined, readPrivateSync, type Verdict } from "./internal/SafeFs.js"
import { guarded } from "./internal/SafeFsEffect.js"

export {
  DIR_MODE,
  encryptBlob,
  FILE_MODE,
  IV_BYTES,
  MASTER_KEY_BYTES,
  recordPath,
  TAG_BYTES
} from "./internal/Blob.js"
export type { DecryptFailure } from "./internal/Blob.js"

/** Opens a blob sealed by `encryptBlob` (or by the Go CLI). */
export const decryptBlob = (blob: Buffer, key: Buffer): Either.Either<string, DecryptFailure> => {
  const r = openBlob(blob, key)
  return r.ok ? Either.right(r.text) : Either.left(r.reason)
}

// ---------------------------------------------------------------------------------------------
// File helpers (shared with the macOS master-key source)
// ---------------------------------------------------------------------------------------------

/** A failed `node:fs` call. */
type IoError = NodeJS.ErrnoException

const io = <A>(f: () => Promise<A>): Effect.Effect<A, IoError> =>
  Effect.tryPromise({ try: f, catch: (e) => e as IoError })

const q = (p: string) => JSON.stringify(p)

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, "0")}`

const ERRNO_TEXT: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EISDIR: "is a directory",
  ENOTDIR: "a parent is not a directory",
  EDQUOT: "disk quota exceeded",
  ENOENT: "no such file or directory",
  ENAMETOOLONG: "file name too long",
  ELOOP: "a symbolic link is in the way"
}

/** `permission denied (EACCES)`, or the raw message for rarer errors. */
const errnoText = (e: IoError): string =>
  e.code !== undefined && ERRNO_TEXT[e.code] !== undefined ? `${ERRNO_TEXT[e.code]} (${e.code})` : e.message

/** The shell command a user runs to log in again. */
const loginCommand = (account: string) => `olares-cli profile login --olares-id ${account}`

/** The fix for a record that cannot be read: drop it and log in again. */
export const reloginHint = (account: string): string =>
  `olares-cli profile remove ${account} && ${loginCommand(account)}`

/** The fix for a file we may not read or write. */
const ownershipHint = (path: string, isDir: boolean) =>
  `sudo chown "$(id -un)" ${q(path)} && chmod ${isDir ? "700" : "600"} ${q(path)}`

/** The nearest existing ancestor of `path` when it is not a directory (what an ENOTDIR is about). */
const blockingFile = (path: string): string | undefined => {
  for (let p = NodePath.dirname(path); p !== NodePath.dirname(p); p = NodePath.dirname(p)) {
    try {
      return statSync(p).isDirectory() ? undefined : p
    } catch {
      // not there either: look further up
    }
  }
  return undefined
}

/** The fix for a store path that runs through a regular file. */
const notADirectoryHint = (path: string) => {
  const file = blockingFile(path)
  const where = file === undefined ? "a parent of the token store" : q(file)
  return `${where} is not a directory: move it aside, or set OLARES_CLI_DATA_DIR to a writable absolute directory`
}

/** A read of `path` failed: permission, a parent that is not a directory, or something rarer. */
const readFailure = (path: string, e: IoError): StorageError =>
  new StorageError({
    path,
    detail: `cannot read: ${errnoText(e)}`,
    hint: e.code === "EACCES" || e.code === "EPERM"
      ? ownershipHint(path, false)
      : e.code === "ENOTDIR"
      ? notADirectoryHint(path)
      : `check ${q(path)} (ls -l ${q(path)})`
  })

/** A write into `dir` failed: permission, space or a read-only mount. */
export const writeFailure = (path: string, dir: string, e: IoError): StorageError =>
  new StorageError({
    path,
    detail: `cannot write: ${errnoText(e)}`,
    hint: e.code === "EACCES" || e.code === "EPERM"
      ? ownershipHint(dir, true)
      : e.code === "ENOSPC" || e.code === "EDQUOT"
      ? `free some space on the disk holding ${q(dir)}, then retry`
      : e.code === "ENOTDIR"
      ? notADirectoryHint(path)
      : `set OLARES_CLI_DATA_DIR to a writable absolute directory, or make ${q(dir)} writable`
  })

const isWindows = process.platform === "win32"

/** The trust context of this process (uid, home), read when used so tests can move HOME. */
const trust = () => liveContext(safeHomedir())

/** Logs what a SafeFs check tightened (or could only warn about). */
const reportVerdict = (path: string, v: Verdict): Effect.Effect<void> =>
  v._tag === "tighten"
    ? Effect.logWarning(`fixed permissions of ${path} from ${octal(v.from)} to ${octal(v.want)}`)
    : v._tag === "warn"
    ? Effect.logWarning(v.message)
    : Effect.void

/**
 * Creates `dir` (0700, parents too, one level at a time) or checks an existing one: refused when
 * another user owns or can write it (or can swap a directory above it); a too-open mode of our own
 * real directory is tightened with a warning.
 */
export const ensurePrivateDir = (dir: string): Effect.Effect<void, StorageError> =>
  guarded(() => ensureDirSync(dir, "token store directory", trust()), (e) => writeFailure(dir, NodePath.dirname(dir), e)).pipe(
    Effect.flatMap((v) => reportVerdict(dir, v))
  )

/** Checks the store directory if it exists (`false` when it does not). */
const checkStoreDir = (dir: string): Effect.Effect<boolean, StorageError> =>
  guarded(() => checkDirSync(dir, "token store directory", trust()), (e) => readFailure(dir, e)).pipe(
    Effect.flatMap((r) => (r._tag === "missing" ? Effect.succeed(false) : Effect.as(reportVerdict(dir, r.verdict), true)))
  )

/**
 * Reads a private file without following a symlink or blocking on a FIFO; `None` when it does not
 * exist. Another user's file, a group/other-writable one, a link, FIFO or device is refused; a
 * too-open mode of our own file is tightened (through the descriptor read) with a warning.
 */
export const readPrivateFile = (path: string): Effect.Effect<Option.Option<Buffer>, StorageError> =>
  guarded(() => readPrivateSync(path, NodePath.basename(path), trust()), (e) => readFailure(path, e)).pipe(
    Effect.flatMap((r) => (r === undefined ? Effect.succeed(Option.none<Buffer>()) : Effect.as(reportVerdict(path, r.verdict), Option.some(r.data))))
  )

const fsyncDir = (dir: string): Effect.Effect<void> =>
  isWindows ? Effect.void : io(async () => {
    const h = await Fs.open(dir, "r")
    try {
      await h.sync()
    } finally {
      await h.close()
    }
  }).pipe(Effect.ignore)

/** Writes a new file with `O_EXCL`, mode 0600, and fsyncs it; fails with the raw errno. */
const writeNewFile = (path: string, data: Buffer): Effect.Effect<void, IoError> =>
  io(async () => {
    const h = await Fs.open(path, "wx", FILE_MODE)
    try {
      await h.writeFile(data)
      await h.sync()
    } finally {
      await h.close()
    }
  })

const removeQuietly = (path: string) => io(() => Fs.rm(path, { force: true })).pipe(Effect.ignore)

/**
 * Exclusive-creates `path` (0600) holding `data`: `"created"`, or `"exists"` when another process
 * got there first. A half-written file is removed so the next attempt starts clean.
 */
export const createPrivateFileExclusive = (
  path: string,
  data: Buffer
): Effect.Effect<"created" | "exists", StorageError> =>
  io(() => Fs.open(path, "wx", FILE_MODE)).pipe(
    Effect.flatMap((h) =>
      io(async () => {
        try {
          await h.writeFile(data)
          await h.sync()
        } finally {
          await h.close()
        }
      }).pipe(Effect.tapError(() => removeQuietly(path)))
    ),
    Effect.as("created" as const),
    Effect.catchIf((e) => e.code === "EEXIST", () => Effect.succeed("exists" as const)),
    Effect.mapError((e) => writeFailure(path, NodePath.dirname(path), e))
  )

/** The most a record may need: space for this much is reserved before a grant is exchanged. */
export const MAX_RECORD_BYTES = 64 * 1024

/** A temp file beside the record, already holding `capacity` bytes on disk, to be renamed over it. */
interface Reservation {
  readonly tmp: string
  readonly handle: Fs.FileHandle
  readonly capacity: number
}

/**
 * Proves a record can be written at `path` before anything is spent: the name is valid here (a
 * too-long one is ENAMETOOLONG now, not after the exchange), whatever is there is a regular file of
 * ours, and a temp file of the same name length holding `capacity` bytes is written and synced, so
 * the commit only overwrites blocks it already owns and renames within the directory.
 */
const openReservation = (path: string, capacity: number): Effect.Effect<Reservation, StorageError> =>
  Effect.gen(function*() {
    const dir = NodePath.dirname(path)
    const existing = yield* guarded(() => lstatOrUndefined(path), (e) => nameFailure(path, dir, e))
    if (existing !== undefined) yield* guarded(() => judge(path, existing, "file", "token record", trust()), (e) => readFailure(path, e))
    const tmp = NodePath.join(dir, tempName(NodePath.basename(path).length))
    const handle = yield* io(() => Fs.open(tmp, Fs.constants.O_WRONLY | Fs.constants.O_CREAT | Fs.constants.O_EXCL, FILE_MODE)).pipe(
      Effect.mapError((e) => nameFailure(path, dir, e))
    )
    return yield* io(async () => {
      const zeros = Buffer.alloc(Math.min(capacity, 64 * 1024))
      for (let at = 0; at < capacity; at += zeros.length) {
        await handle.write(zeros, 0, Math.min(zeros.length, capacity - at), at)
      }
      await handle.sync()
    }).pipe(
      Effect.as({ tmp, handle, capacity }),
      Effect.tapError(() => abandon({ tmp, handle, capacity })),
      Effect.mapError((e) => writeFailure(path, dir, e))
    )
  })

/** Whether the reservation's temp is still in its directory. */
const stillLinked = (r: Reservation): Effect.Effect<boolean> =>
  io(() => r.handle.stat()).pipe(Effect.map((st) => st.nlink > 0), Effect.orElseSucceed(() => false))

/** Drops an unused reservation (closed, removed). */
const abandon = (r: Reservation): Effect.Effect<void> =>
  Effect.zipRight(io(() => r.handle.close()).pipe(Effect.ignore), removeQuietly(r.tmp))

/** Writes `data` into the reservation (over its own blocks), trims it, syncs it and renames it over `path`. */
const commit = (r: Reservation, path: string, data: Buffer): Effect.Effect<void, StorageError> => {
  const dir = NodePath.dirname(path)
  return io(async () => {
    try {
      await r.handle.write(data, 0, data.length, 0)
      await r.handle.truncate(data.length)
      await r.handle.sync()
    } finally {
      await r.handle.close()
    }
    await Fs.rename(r.tmp, path)
  }).pipe(
    Effect.mapError((e) => writeFailure(path, dir, e)),
    Effect.zipRight(fsyncDir(dir)),
    Effect.ensuring(removeQuietly(r.tmp))
  )
}

/** A name the file system refuses is a problem of the olaresId, not of space or permissions. */
const nameFailure = (path: string, dir: string, e: IoError): StorageError =>
  e.code === "ENAMETOOLONG"
    ? new StorageError({
      path,
      detail: `cannot store a token under this olaresId: its record file name is ${
        Buffer.byteLength(NodePath.basename(path))
      } bytes, longer than this file system allows (ENAMETOOLONG)`,
      hint: "use a shorter olaresId, or set OLARES_CLI_DATA_DIR to a file system that allows longer file names"
    })
    : writeFailure(path, dir, e)

// ---------------------------------------------------------------------------------------------
// Master key sources
// ---------------------------------------------------------------------------------------------

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
 * Creates `master.key` once: write `master.key.<uuid>.tmp`, then publish it with `link` (which,
 * unlike rename, refuses to replace a key a concurrent process just published, so two first writers
 * can never end up encrypting under different keys); the loser reads the winner's key.
 */
const createKeyFileByLink = (path: string): Effect.Effect<Buffer, StorageError> =>
  Effect.gen(function*() {
    const dir = NodePath.dirname(path)
    yield* ensurePrivateDir(dir)
    const key = Crypto.randomBytes(MASTER_KEY_BYTES)
    const tmp = NodePath.join(dir, tempName())
    const published = yield* writeNewFile(tmp, key).pipe(
      Effect.zipRight(io(() => Fs.link(tmp, path))),
      Effect.as(true),
      Effect.catchIf((e) => e.code === "EEXIST", () => Effect.succeed(false)),
      // File systems without hard links: fall back to the reference's plain rename.
      Effect.catchIf(
        (e) => e.code === "EPERM" || e.code === "ENOTSUP" || e.code === "ENOSYS" || e.code === "EOPNOTSUPP",
        () => io(() => Fs.rename(tmp, path)).pipe(Effect.as(true))
      ),
      Effect.mapError((e) => writeFailure(path, dir, e)),
      Effect.ensuring(removeQuietly(tmp))
    )
    if (published) {
      yield* fsyncDir(dir)
      return key
    }
    const winner = yield* readKeyFile(path)
    return yield* Option.match(winner, {
      onSome: Effect.succeed,
      onNone: () => Effect.fail(corruptKeyFile(path, 0))
    })
  })

/** The Linux master key: `<dir>/master.key`, 32 raw bytes, created on the first write only. */
export const masterKeyFile = (dir: string): MasterKeySource => {
  const path = NodePath.join(dir, "master.key")
  const read = readKeyFile(path)
  return {
    read,
    readOrCreate: read.pipe(
      Effect.flatMap(Option.match({ onSome: Effect.succeed, onNone: () => createKeyFileByLink(path) }))
    ),
    purge: Effect.void,
    location: Effect.succeed(path)
  }
}

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

const withAccount = (account: string) => (e: KeyStoreError): KeyStoreError =>
  e._tag === "StorageError" && e.hint.includes(ACCOUNT_PLACEHOLDER)
    ? new StorageError({ path: e.path, detail: e.detail, hint: e.hint.replaceAll(ACCOUNT_PLACEHOLDER, account) })
    : e

/** Names only the fields that failed to decode, never their values (they may be secrets). */
export const schemaProblem = (e: ParseResult.ParseError): string => {
  const fields = ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => i.path.join(".")).filter((p) => p !== "")
  return fields.length === 0
    ? "is not a token record"
    : `has missing or mistyped fields: ${Array.from(new Set(fields)).join(", ")}`
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
        return yield* Effect.fail(corrupt(path, account, `decrypted token record is ${json.tooDeep ? json.reason : "not valid JSON"}`))
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
  const held = new Map<string, Array<Reservation>>()
  const take = (account: string) =>
    Effect.sync(() => {
      const r = held.get(account)?.pop()
      if (held.get(account)?.length === 0) held.delete(account)
      return Option.fromNullable(r)
    })
  const release = (account: string, r: Reservation) =>
    Effect.suspend(() => {
      const list = held.get(account)
      const i = list?.indexOf(r) ?? -1
      if (i < 0) return Effect.void // consumed by a write
      list!.splice(i, 1)
      if (list!.length === 0) held.delete(account)
      return abandon(r)
    })

  /** The directory and the master key (created when missing): both must exist before a record can. */
  const prepareWrite = (account: string) =>
    Effect.zipRight(ensurePrivateDir(dir), masterKey.readOrCreate.pipe(Effect.mapError(withAccount(account))))

  const reserve = (account: string) =>
    Effect.gen(function*() {
      if (account === "") return yield* Effect.dieMessage("KeyStore.reserve: olaresId is required")
      yield* prepareWrite(account)
      const now = yield* Clock.currentTimeMillis
      yield* Effect.sync(() => sweepTempsSync(dir, now))
      const path = recordPath(dir, account)
      yield* Effect.acquireRelease(
        Effect.tap(openReservation(path, MAX_RECORD_BYTES), (r) =>
          Effect.sync(() => held.set(account, [...(held.get(account) ?? []), r]))),
        (r) => release(account, r)
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
    const live = Option.isSome(reserved) && (yield* stillLinked(reserved.value))
    if (Option.isSome(reserved) && !live) yield* abandon(reserved.value)
    const r = live && Option.isSome(reserved) ? reserved.value : yield* openReservation(path, blob.length)
    yield* commit(r, path, blob)
  })

  const set = (token: StoredToken) => {
    const { invalidatedAt: _dropped, ...fresh } = token
    return write(fresh)
  }

  const markInvalidated = stampInvalidated("KeyStoreFile.markInvalidated", get, write)

  const remove = Effect.fn("KeyStoreFile.remove")(function*(account: string) {
    const path = recordPath(dir, account)
    yield* io(() => Fs.rm(path, { force: true })).pipe(Effect.mapError((e) => writeFailure(path, dir, e)))
  })

  // Records of other config homes sharing this data dir stay, and so does the key they need. A
  // record being written (`<name>.enc.<uuid>.tmp`) counts as one. The directory itself stays too:
  // its `locks/` may be held by another process right now.
  const purge = Effect.gen(function*() {
    const names = yield* io(() => Fs.readdir(dir)).pipe(
      Effect.catchIf((e) => e.code === "ENOENT", () => Effect.succeed<Array<string>>([])),
      Effect.mapError((e) => readFailure(dir, e))
    )
    if (names.some(isRecordName)) return
    const keyGone = yield* Effect.either(masterKey.purge)
    for (const name of names.filter(isKeyFileName)) {
      const path = NodePath.join(dir, name)
      yield* io(() => Fs.rm(path, { force: true })).pipe(Effect.mapError((e) => writeFailure(path, dir, e)))
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
