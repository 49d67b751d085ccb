/**
 * OS credential-store backends over `@napi-rs/keyring`, loaded lazily so Linux never loads the
 * native module. macOS: the encrypted files of KeyStoreFile with the master key in the Keychain
 * (falling back to `master.key.file` when the Keychain is unusable). Windows (or when forced): each
 * record's JSON directly in the credential store. The keyring is injected so tests can fake it.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs/promises"
import * as NodePath from "node:path"
import { parseJson } from "../src/domain/Json.js"
import { parseStoredToken, serializeStoredToken, type StoredToken } from "../src/domain/StoredToken.js"
import { KeychainError, StorageError } from "../src/errors.js"
import { KeyStore, type KeyStoreError, type KeyStoreShape } from "../src/services/KeyStore.js"
import { MASTER_KEY_BYTES } from "./internal/Blob.js"
import { ACCOUNT_PLACEHOLDER, createKeyFile, type MasterKeySource, readKeyFile } from "./internal/MasterKey.js"
import { makeFileKeyStore, reloginHint, schemaProblem, stampInvalidated } from "./KeyStoreFile.js"

/** The keychain service every item lives under. */
export const SERVICE = "olares-cli"
/** The Keychain account holding the macOS master key (standard base64 of 32 bytes). */
export const MASTER_KEY_ACCOUNT = "master.key"
/** The on-disk macOS master key used when the Keychain is unusable. */
export const FALLBACK_KEY_FILE = "master.key.file"
/** Every keychain access is bounded, so a never-answered access prompt cannot hang the CLI. */
export const KEYCHAIN_TIMEOUT: Duration.Duration = Duration.seconds(5)

/** The subset of `@napi-rs/keyring`'s `AsyncEntry` used here (async, so the timeout can abandon it). */
export interface KeyringEntry {
  /** `null` when there is no item. */
  getPassword(signal?: AbortSignal | null): Promise<string | null>
  /** Creates or replaces the item. */
  setPassword(password: string, signal?: AbortSignal | null): Promise<void>
  /** `false` when there was no item. */
  deleteCredential(signal?: AbortSignal | null): Promise<boolean>
}

/** An OS credential store: items by (service, account), plus enumeration for purge. */
export interface Keyring {
  /** The item at (service, account). */
  readonly entry: (service: string, account: string) => KeyringEntry
  /** Accounts holding an item under `service`. */
  readonly accounts: (service: string, signal?: AbortSignal | null) => Promise<ReadonlyArray<string>>
}

const describeCause = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Loads the native module on first use; a load failure is a `KeychainError` (op `Load`). */
export const loadNativeKeyring: Effect.Effect<Keyring, KeychainError> = Effect.tryPromise({
  try: () => import("@napi-rs/keyring"),
  catch: (e) =>
    new KeychainError({ op: "Load", account: "*", detail: `cannot load @napi-rs/keyring: ${describeCause(e)}` })
}).pipe(
  Effect.map((m): Keyring => ({
    entry: (service, account) => new m.AsyncEntry(service, account),
    accounts: async (service, signal) => (await m.findCredentialsAsync(service, null, signal)).map((c) => c.account)
  }))
)

/** Keychain operations as the reference names them in its error texts. */
export type KeychainOp = "Get" | "Set" | "Remove" | "Purge"

/** One bounded keychain call; any error or a timeout is a `KeychainError`. */
export const call = <A>(
  keyring: Effect.Effect<Keyring, KeychainError>,
  op: KeychainOp,
  account: string,
  timeout: Duration.Duration,
  f: (kr: Keyring, signal: AbortSignal) => Promise<A>
): Effect.Effect<A, KeychainError> =>
  Effect.flatMap(keyring, (kr) =>
    Effect.tryPromise({
      try: (signal) => f(kr, signal),
      catch: (e) => new KeychainError({ op, account, detail: describeCause(e) })
    })).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new KeychainError({
            op,
            account,
            detail: `keychain access blocked (no answer within ${Duration.format(timeout)})`
          })
      })
    )

// ---------------------------------------------------------------------------------------------
// macOS: master key in the Keychain, records in encrypted files
// ---------------------------------------------------------------------------------------------

/** Standard base64 that decodes and re-encodes to itself (Go's `StdEncoding` is that strict); else `None`. */
export const decodeStdBase64 = (text: string): Option.Option<Buffer> => {
  const bytes = Buffer.from(text, "base64")
  return bytes.toString("base64") === text ? Option.some(bytes) : Option.none()
}

/** go-keyring (the Go CLI's Keychain library) stores every value as this prefix + standard base64 of it. */
export const GO_KEYRING_BASE64 = "go-keyring-base64:"
/** Older go-keyring versions stored multi-line values as this prefix + hex. */
export const GO_KEYRING_HEX = "go-keyring-encoded:"

/** A Keychain item's value as go-keyring's `Get` returns it: trimmed, its envelope removed; `None` when the envelope is broken. */
export const unwrapGoKeyring = (raw: string): Option.Option<string> => {
  const text = raw.trim()
  if (text.startsWith(GO_KEYRING_BASE64)) {
    return Option.map(decodeStdBase64(text.slice(GO_KEYRING_BASE64.length)), (b) => b.toString("utf8"))
  }
  if (text.startsWith(GO_KEYRING_HEX)) {
    const hex = text.slice(GO_KEYRING_HEX.length)
    return /^(?:[0-9a-fA-F]{2})*$/.test(hex) ? Option.some(Buffer.from(hex, "hex").toString("utf8")) : Option.none()
  }
  return Option.some(text)
}

/** A value as go-keyring's `Set` stores it, so the Go CLI reads our item as its own. */
export const wrapGoKeyring = (value: string): string =>
  `${GO_KEYRING_BASE64}${Buffer.from(value, "utf8").toString("base64")}`

/**
 * The Keychain value as a key: standard base64 of exactly 32 bytes, inside go-keyring's envelope (what
 * the Go CLI writes) or bare (what earlier versions of this CLI wrote); else `None`.
 */
export const decodeKeychainKey = (value: string): Option.Option<Buffer> =>
  Option.flatMap(
    unwrapGoKeyring(value),
    (inner) => Option.filter(decodeStdBase64(inner), (bytes) => bytes.length === MASTER_KEY_BYTES)
  )

/** The Keychain value for a key: go-keyring's envelope around its standard base64. */
export const encodeKeychainKey = (key: Buffer): string => wrapGoKeyring(key.toString("base64"))

const keychainCorrupt = () =>
  new StorageError({
    path: `macOS Keychain item ${SERVICE}/${MASTER_KEY_ACCOUNT}`,
    detail: `keychain is corrupted (the item does not hold ${MASTER_KEY_BYTES} base64-encoded bytes)`,
    hint: `security delete-generic-password -s ${SERVICE} -a ${MASTER_KEY_ACCOUNT}` +
      ` && olares-cli profile login --olares-id ${ACCOUNT_PLACEHOLDER}`
  })

/** Options of the macOS master-key source and store. */
export interface KeychainMasterKeyOptions {
  /** The data dir (records and, in fallback, `master.key.file`). */
  readonly dir: string
  /** The keychain, usually `loadNativeKeyring` cached. */
  readonly keyring: Effect.Effect<Keyring, KeychainError>
  /** Bound on each keychain access (default 5 s). */
  readonly timeout?: Duration.Duration
}

/** The reference's label rule: `file-fallback` when `master.key.file` holds exactly 32 bytes, else `system-keychain`. */
export const macBackendLabel = (dir: string): Effect.Effect<string> =>
  Effect.tryPromise(() => Fs.stat(NodePath.join(dir, FALLBACK_KEY_FILE))).pipe(
    Effect.map((st) => (st.isFile() && st.size === MASTER_KEY_BYTES ? "file-fallback" : "system-keychain")),
    Effect.orElseSucceed(() => "system-keychain")
  )

/**
 * The macOS master key. Read: `master.key.file` if present, else the Keychain (and the Keychain as
 * the alternate when the file's key does not open a record). Write: existing `master.key.file`, else
 * the Keychain (creating the key there), else a new `master.key.file`.
 */
export const keychainMasterKey = (options: KeychainMasterKeyOptions): MasterKeySource => {
  const timeout = options.timeout ?? KEYCHAIN_TIMEOUT
  const filePath = NodePath.join(options.dir, FALLBACK_KEY_FILE)
  const entry = (kr: Keyring) => kr.entry(SERVICE, MASTER_KEY_ACCOUNT)
  const onKey = <A>(op: KeychainOp, f: (e: KeyringEntry, signal: AbortSignal) => Promise<A>) =>
    call(options.keyring, op, MASTER_KEY_ACCOUNT, timeout, (kr, s) => f(entry(kr), s))

  const fromKeychain = (allowCreate: boolean): Effect.Effect<Option.Option<Buffer>, KeyStoreError> =>
    Effect.gen(function*() {
      const value = yield* onKey("Get", (e, s) => e.getPassword(s))
      if (value !== null) {
        const key = decodeKeychainKey(value)
        if (Option.isNone(key)) return yield* Effect.fail(keychainCorrupt())
        return key
      }
      if (!allowCreate) return Option.none()
      const key = Crypto.randomBytes(MASTER_KEY_BYTES)
      yield* onKey("Set", (e, s) => e.setPassword(encodeKeychainKey(key), s))
      return Option.some(key)
    })

  const fileKey = Effect.either(readKeyFile(filePath))

  const read: Effect.Effect<Option.Option<Buffer>, KeyStoreError> = Effect.gen(function*() {
    const file = yield* fileKey
    if (Either.isRight(file) && Option.isSome(file.right)) return file.right
    const chain = yield* Effect.either(fromKeychain(false))
    if (Either.isLeft(file)) {
      // A damaged master.key.file: the Keychain key may still open the record; if not, report the file.
      return Either.isRight(chain) && Option.isSome(chain.right) ? chain.right : yield* Effect.fail(file.left)
    }
    return yield* chain
  })

  const readAlternate: Effect.Effect<Option.Option<Buffer>, KeyStoreError> = Effect.gen(function*() {
    const file = yield* fileKey
    return Either.isRight(file) && Option.isSome(file.right) ? yield* fromKeychain(false) : Option.none<Buffer>()
  })

  const readOrCreate: Effect.Effect<Buffer, KeyStoreError> = Effect.gen(function*() {
    const file = yield* fileKey
    if (Either.isRight(file) && Option.isSome(file.right)) return file.right.value
    const chain = yield* Effect.either(fromKeychain(true))
    if (Either.isRight(chain) && Option.isSome(chain.right)) return chain.right.value
    const why = Either.isLeft(chain) ? chain.left.message : "no key"
    yield* Effect.logWarning(
      `the macOS Keychain is unusable (${why}); keeping the master key in ${filePath} instead (backend file-fallback)`
    )
    return yield* createKeyFile(filePath)
  })

  const purge: Effect.Effect<void, KeyStoreError> = Effect.flatMap(
    Effect.either(options.keyring),
    // A module that never loaded never stored anything in the Keychain.
    (kr) => (Either.isLeft(kr) ? Effect.void : Effect.asVoid(onKey("Purge", (e, s) => e.deleteCredential(s))))
  )

  return {
    read,
    readAlternate,
    readOrCreate,
    purge,
    location: Effect.map(
      macBackendLabel(options.dir),
      (label) => (label === "file-fallback" ? filePath : `macOS Keychain item ${SERVICE}/${MASTER_KEY_ACCOUNT}`)
    )
  }
}

/** The macOS store: encrypted files in `dir`, master key in the Keychain (or `master.key.file`). */
export const makeMacKeyStore = (options: KeychainMasterKeyOptions & { readonly reason?: string }): KeyStoreShape =>
  makeFileKeyStore({
    dir: options.dir,
    masterKey: keychainMasterKey(options),
    backendLabel: macBackendLabel(options.dir),
    ...(options.reason === undefined ? {} : { reason: options.reason })
  })

// ---------------------------------------------------------------------------------------------
// Windows (or forced): one credential-store item per account holding the record's JSON
// ---------------------------------------------------------------------------------------------

/** Options of the direct credential-store backend. */
export interface KeyringKeyStoreOptions {
  /** The keychain, usually `loadNativeKeyring` cached. */
  readonly keyring: Effect.Effect<Keyring, KeychainError>
  /** Bound on each keychain access (default 5 s). */
  readonly timeout?: Duration.Duration
  /** Why this backend was chosen (for `profile doctor`). */
  readonly reason?: string
}

const itemLabel = (account: string) => `credential store item ${SERVICE}/${account}`

/** Decodes a record's JSON kept at `where`; failures name the place and the fix, never the content. */
export const decodeRecordText = (
  where: string,
  account: string,
  value: string
): Either.Either<StoredToken, StorageError> => {
  const fail = (detail: string) => Either.left(new StorageError({ path: where, detail, hint: reloginHint(account) }))
  const json = parseJson(value)
  if (!json.ok) return fail(`stored token record is ${json.tooDeep ? json.reason : "not valid JSON"}`)
  const parsed = parseStoredToken(value, account)
  return Either.isLeft(parsed) ? fail(`stored token record ${schemaProblem(parsed.left)}`) : Either.right(parsed.right)
}

/** Decodes an item's value; failures name the item and the fix, never the content. */
export const decodeKeyringRecord = (account: string, value: string): Either.Either<StoredToken, StorageError> =>
  decodeRecordText(itemLabel(account), account, value)

/** The direct store: item (`olares-cli`, olaresId) = compact JSON of the record; label `keychain`. */
export const makeKeyringKeyStore = (options: KeyringKeyStoreOptions): KeyStoreShape => {
  const timeout = options.timeout ?? KEYCHAIN_TIMEOUT
  const onItem = <A>(op: KeychainOp, account: string, f: (e: KeyringEntry, signal: AbortSignal) => Promise<A>) =>
    call(options.keyring, op, account, timeout, (kr, s) => f(kr.entry(SERVICE, account), s))

  const get = Effect.fn("KeyStoreKeyring.get")(function*(account: string) {
    if (account === "") return yield* Effect.dieMessage("KeyStore.get: olaresId is required")
    const value = yield* onItem("Get", account, (e, s) => e.getPassword(s))
    // The reference treats an empty item as absent.
    if (value === null || value === "") return Option.none<StoredToken>()
    return Option.some(yield* decodeKeyringRecord(account, value))
  })

  const write = Effect.fn("KeyStoreKeyring.write")(function*(token: StoredToken) {
    if (token.olaresId === "") return yield* Effect.dieMessage("KeyStore.set: olaresId is required")
    const value = serializeStoredToken(token)
    yield* onItem("Set", token.olaresId, (e, s) => e.setPassword(value, s))
  })

  const markInvalidated = stampInvalidated("KeyStoreKeyring.markInvalidated", get, write)

  const remove = (account: string): Effect.Effect<void, KeyStoreError> =>
    onItem("Remove", account, (e, s) => e.deleteCredential(s)).pipe(
      Effect.asVoid,
      Effect.withSpan("KeyStoreKeyring.remove")
    )

  // The items share nothing (no master key), and every item left may be another config home's
  // record: `remove` deletes this home's one by one, so there is nothing more to delete here.
  const purge: Effect.Effect<void, KeyStoreError> = Effect.void

  return KeyStore.of({
    backend: Effect.succeed("keychain"),
    describe: Effect.succeed({
      backend: "keychain",
      location: `OS credential store, service ${JSON.stringify(SERVICE)}, one item per olaresId`,
      reason: options.reason ?? "OS credential store"
    }),
    get,
    // Nothing to reserve in a credential store: it is usable once its native module loads.
    reserve: () => Effect.asVoid(options.keyring),
    set: (token) => {
      const { invalidatedAt: _dropped, ...fresh } = token
      return write(fresh)
    },
    markInvalidated,
    remove,
    purge
  })
}
