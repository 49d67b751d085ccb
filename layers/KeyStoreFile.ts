/**
 * The AES-256-GCM file token store, byte-compatible with the Go olares-cli: `<dir>/master.key`
 * (32 raw bytes) and one `<safe(account)>.enc` per account = IV(12) || ciphertext || tag(16), no AAD.
 * The master key's home is pluggable so macOS can keep it in the Keychain (see KeyStoreKeyring.ts).
 */
import * as Crypto from "node:crypto"
import { statSync } from "node:fs"
import * as Fs from "node:fs/promises"
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import type * as Redacted from "effect/Redacted"
import { parseJson } from "../src/domain/Json.js"
import { parseStoredToken, serializeStoredToken, stillHolds, type StoredToken } from "../src/domain/StoredToken.js"
import { StorageError } from "../src/errors.js"
import { AppPaths } from "../src/services/AppPaths.js"
import { KeyStore, type KeyStoreError, type KeyStoreShape } from "../src/services/KeyStore.js"
import {
  type DecryptFailure,
  DIR_MODE,
  encryptBlob,
  FILE_MODE,
  IV_BYTES,
  MASTER_KEY_BYTES,
  openBlob,
  recordPath,
  TAG_BYTES
} from "./Blob.js"

export {
  DIR_MODE,
  encryptBlob,
  FILE_MODE,
  IV_BYTES,
  MASTER_KEY_BYTES,
  recordPath,
  TAG_BYTES
} from "./Blob.js"
export type { DecryptFailure } from "./Blob.js"

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
  ENOENT: "no such file or directory"
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

/**
 * Tightens the mode of an existing file or directory to `want`, logging a warning when it had to.
 * Missing paths are left alone; a chmod we may not do is reported but not fatal (we can still read).
 */
export const fixMode = (path: string, want: number): Effect.Effect<void> =>
  isWindows ? Effect.void : Effect.gen(function*() {
    const st = yield* io(() => Fs.stat(path)).pipe(Effect.option)
    if (Option.isNone(st)) return
    const mode = st.value.mode & 0o777
    if (mode === want) return
    const fixed = yield* io(() => Fs.chmod(path, want)).pipe(Effect.either)
    if (Either.isRight(fixed)) {
      yield* Effect.logWarning(`fixed permissions of ${path} from ${octal(mode)} to ${octal(want)}`)
    } else {
      yield* Effect.logWarning(
        `${path} has permissions ${octal(mode)} (want ${octal(want)}) and could not be fixed: ${errnoText(fixed.left)}`
      )
    }
  })

/** Creates `dir` (0700, parents too) or tightens an existing one. */
export const ensurePrivateDir = (dir: string): Effect.Effect<void, StorageError> =>
  io(() => Fs.mkdir(dir, { recursive: true, mode: DIR_MODE })).pipe(
    Effect.mapError((e) => writeFailure(dir, NodePath.dirname(dir), e)),
    Effect.zipRight(fixMode(dir, DIR_MODE))
  )

/** Reads a private file, tightening its mode first; `None` when it does not exist. */
export const readPrivateFile = (path: string): Effect.Effect<Option.Option<Buffer>, StorageError> =>
  io(() => Fs.readFile(path)).pipe(
    Effect.map(Option.some),
    Effect.catchIf((e) => e.code === "ENOENT", () => Effect.succeed(Option.none<Buffer>())),
    Effect.mapError((e) => readFailure(path, e)),
    Effect.tap((o) => (Option.isSome(o) ? fixMode(path, FILE_MODE) : Effect.void))
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

/** Atomic replace: `<path>.<uuid>.tmp` (0600, fsynced) renamed over `path`, then the dir fsynced. */
export const writeFileAtomic = (path: string, data: Buffer): Effect.Effect<void, StorageError> => {
  const dir = NodePath.dirname(path)
  const tmp = `${path}.${Crypto.randomUUID()}.tmp`
  return writeNewFile(tmp, data).pipe(
    Effect.zipRight(io(() => Fs.rename(tmp, path))),
    Effect.mapError((e) => writeFailure(path, dir, e)),
    Effect.zipRight(fsyncDir(dir)),
    Effect.ensuring(removeQuietly(tmp))
  )
}

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
    const tmp = NodePath.join(dir, `${NodePath.basename(path)}.${Crypto.randomUUID()}.tmp`)
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
    const blob = yield* readPrivateFile(path)
    if (Option.isNone(blob)) return Option.none<StoredToken>()
    yield* fixMode(dir, DIR_MODE)
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

  const write = Effect.fn("KeyStoreFile.write")(function*(token: StoredToken) {
    if (token.olaresId === "") return yield* Effect.dieMessage("KeyStore.set: olaresId is required")
    yield* ensurePrivateDir(dir)
    const key = yield* masterKey.readOrCreate.pipe(Effect.mapError(withAccount(token.olaresId)))
    const blob = encryptBlob(serializeStoredToken(token), key)
    yield* writeFileAtomic(recordPath(dir, token.olaresId), blob)
  })

  const checkWritable = Effect.fn("KeyStoreFile.checkWritable")(function*(account: string) {
    yield* ensurePrivateDir(dir)
    // A key that cannot be read now cannot be read after the exchange either. A Keychain that
    // refuses is not fatal here: the macOS source then falls back to a key file when writing.
    yield* masterKey.read.pipe(
      Effect.catchTag("KeychainError", () => Effect.void),
      Effect.mapError(withAccount(account))
    )
    yield* io(() => Fs.access(dir, Fs.constants.W_OK)).pipe(
      Effect.mapError((e) => writeFailure(recordPath(dir, account), dir, e))
    )
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
    checkWritable,
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
