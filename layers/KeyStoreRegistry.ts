/**
 * The Windows token store, exactly the Go CLI's (`registry+dpapi`): under
 * `HKCU\Software\OlaresCli\keychain\olares-cli`, one `REG_SZ` value per account, named by the
 * unpadded URL-safe base64 of the account, holding the standard base64 of the DPAPI-protected
 * compact JSON record (`CRYPTPROTECT_UI_FORBIDDEN`, entropy `service + "\0" + account`). So both
 * CLIs read each other's records. Earlier versions of this CLI kept the JSON in the Windows
 * Credential Manager (`@napi-rs/keyring`): such an item is moved here the first time its account
 * is read, then deleted. The OS pieces are injected (layers/internal/WinVault.ts) so tests can fake them.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { serializeStoredToken, type StoredToken } from "../src/domain/StoredToken.js"
import { KeychainError, StorageError } from "../src/errors.js"
import { KeyStore, type KeyStoreError, type KeyStoreShape } from "../src/services/KeyStore.js"
import type { Koffi } from "./internal/Flock.js"
import { makeWinVault, type WinVault } from "./internal/WinVault.js"
import { reloginHint, stampInvalidated } from "./KeyStoreFile.js"
import {
  call,
  decodeKeyringRecord,
  decodeRecordText,
  decodeStdBase64,
  KEYCHAIN_TIMEOUT,
  type KeychainOp,
  type Keyring,
  SERVICE
} from "./KeyStoreKeyring.js"

/** The backend label, as the Go CLI prints it. */
export const REGISTRY_BACKEND = "registry+dpapi"

/** The reference's rule for a registry path component: `\` and anything outside `[a-zA-Z0-9._-]` become `_`. */
export const safeRegistryComponent = (s: string): string => s.replace(/[^a-zA-Z0-9._-]/gu, "_")

/** The per-service key under `HKEY_CURRENT_USER`. */
export const registryKeyPath = (service: string = SERVICE): string =>
  `Software\\OlaresCli\\keychain\\${safeRegistryComponent(service)}`

/** The key as users type it (`reg query ...`). */
export const REGISTRY_KEY_DISPLAY = `HKCU\\${registryKeyPath()}`

/** A value's name: the unpadded URL-safe base64 of the account's UTF-8 bytes. */
export const registryValueName = (account: string): string => Buffer.from(account, "utf8").toString("base64url")

/** What DPAPI binds a record to: the bytes of `service + "\0" + account`. */
export const dpapiEntropy = (account: string, service: string = SERVICE): Buffer =>
  Buffer.from(`${service}\0${account}`, "utf8")

/** Seals a record as the value data: base64(CryptProtectData(json, entropy)). */
export const sealRecord = (vault: WinVault, token: StoredToken): string =>
  vault.dpapi.protect(Buffer.from(serializeStoredToken(token), "utf8"), dpapiEntropy(token.olaresId)).toString("base64")

const describeCause = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Loads koffi and binds DPAPI and the registry; a failure is a `KeychainError` (op `Load`). */
export const loadWinVault: Effect.Effect<WinVault, KeychainError> = Effect.tryPromise({
  try: () => import("koffi").then((m) => makeWinVault(m as Koffi)),
  catch: (e) =>
    new KeychainError({ op: "Load", account: "*", detail: `cannot use DPAPI and the registry: ${describeCause(e)}` })
})

/** Options of the registry store. */
export interface RegistryKeyStoreOptions {
  /** DPAPI and the registry, usually `loadWinVault` cached. */
  readonly vault: Effect.Effect<WinVault, KeychainError>
  /**
   * The Windows Credential Manager, where earlier versions of this CLI kept records (usually
   * `loadNativeKeyring` cached); without it nothing is migrated.
   */
  readonly legacy?: Effect.Effect<Keyring, KeychainError>
  /** Bound on each Credential Manager access (default 5 s). */
  readonly timeout?: Duration.Duration
  /** Why this backend was chosen (for `profile doctor`). */
  readonly reason?: string
}

/** The store `registry+dpapi`. */
export const makeRegistryKeyStore = (options: RegistryKeyStoreOptions): KeyStoreShape => {
  const keyPath = registryKeyPath()
  const timeout = options.timeout ?? KEYCHAIN_TIMEOUT
  const valueLabel = (account: string) => `registry value ${REGISTRY_KEY_DISPLAY}\\${registryValueName(account)}`

  /** One synchronous Win32 step; a failure is a `KeychainError` naming the operation. */
  const win = <A>(op: KeychainOp, account: string, f: (v: WinVault) => A): Effect.Effect<A, KeychainError> =>
    Effect.flatMap(options.vault, (v) =>
      Effect.try({
        try: () => f(v),
        catch: (e) => new KeychainError({ op, account, detail: describeCause(e) })
      }))

  const corrupt = (account: string, detail: string) =>
    new StorageError({ path: valueLabel(account), detail, hint: reloginHint(account) })

  const write = (token: StoredToken): Effect.Effect<void, KeychainError> =>
    win(
      "Set",
      token.olaresId,
      (v) => v.registry.setString(keyPath, registryValueName(token.olaresId), sealRecord(v, token))
    )

  /** The registry's record; `None` when there is no value (or an empty one, as the reference reads it). */
  const readRegistry = (account: string): Effect.Effect<Option.Option<StoredToken>, KeyStoreError> =>
    Effect.gen(function*() {
      const name = registryValueName(account)
      const value = yield* win("Get", account, (v) => v.registry.get(keyPath, name))
      if (value === undefined) return Option.none()
      if (value.kind !== "string") {
        return yield* Effect.fail(corrupt(account, `is of registry type ${value.type}, not REG_SZ`))
      }
      if (value.data === "") return Option.none()
      const sealed = decodeStdBase64(value.data)
      if (Option.isNone(sealed)) return yield* Effect.fail(corrupt(account, "is not standard base64"))
      const vault = yield* options.vault
      const plain = yield* Effect.try({
        try: () => vault.dpapi.unprotect(sealed.value, dpapiEntropy(account)),
        catch: (e) =>
          corrupt(
            account,
            `cannot be decrypted by DPAPI (${describeCause(e)}): it was sealed by another Windows user, ` +
              "for another account, or is damaged"
          )
      })
      return Option.some(yield* decodeRecordText(valueLabel(account), account, plain.toString("utf8")))
    })

  const legacyCall = <A>(
    op: KeychainOp,
    account: string,
    f: (kr: Keyring, s: AbortSignal) => Promise<A>
  ): Effect.Effect<A | undefined, KeychainError> =>
    options.legacy === undefined ? Effect.succeed(undefined) : call(options.legacy, op, account, timeout, f)

  /** Deletes the account's Credential Manager item, if any; failures only warn (the registry is what counts). */
  const dropLegacy = (account: string): Effect.Effect<void> =>
    legacyCall("Remove", account, (kr, s) => kr.entry(SERVICE, account).deleteCredential(s)).pipe(
      Effect.catchAll((e) =>
        Effect.logWarning(`could not delete the Windows Credential Manager item ${SERVICE}/${account}: ${e.message}`)
      ),
      Effect.asVoid
    )

  /**
   * The record an earlier version kept in the Credential Manager, moved into the registry (as is,
   * `invalidatedAt` included) and then deleted there. Unreachable Credential Manager: no record.
   */
  const migrate = (account: string): Effect.Effect<Option.Option<StoredToken>, KeyStoreError> =>
    Effect.gen(function*() {
      const found = yield* Effect.either(
        legacyCall("Get", account, (kr, s) => kr.entry(SERVICE, account).getPassword(s))
      )
      if (Either.isLeft(found)) {
        yield* Effect.logDebug(`no migration check for ${account}: ${found.left.message}`)
        return Option.none()
      }
      const text = found.right
      if (text === undefined || text === null || text === "") return Option.none()
      const record = yield* decodeKeyringRecord(account, text)
      // Another process may have migrated (and even refreshed) it meanwhile: its record wins.
      const again = yield* readRegistry(account)
      if (Option.isSome(again)) return again
      yield* write(record)
      yield* dropLegacy(account)
      yield* Effect.logDebug(
        `moved the token record of ${account} from the Windows Credential Manager to ${REGISTRY_KEY_DISPLAY}`
      )
      return Option.some(record)
    })

  const get = Effect.fn("KeyStoreRegistry.get")(function*(account: string) {
    if (account === "") return yield* Effect.dieMessage("KeyStore.get: olaresId is required")
    const record = yield* readRegistry(account)
    return Option.isSome(record) ? record : yield* migrate(account)
  })

  const set = Effect.fn("KeyStoreRegistry.set")(function*(token: StoredToken) {
    if (token.olaresId === "") return yield* Effect.dieMessage("KeyStore.set: olaresId is required")
    const { invalidatedAt: _dropped, ...fresh } = token
    yield* write(fresh)
    // An older item would otherwise come back once this value is removed (by the Go CLI, say).
    yield* dropLegacy(token.olaresId)
  })

  const markInvalidated = stampInvalidated("KeyStoreRegistry.markInvalidated", get, write)

  const remove = Effect.fn("KeyStoreRegistry.remove")(function*(account: string) {
    yield* win("Remove", account, (v) => v.registry.deleteValue(keyPath, registryValueName(account)))
    yield* dropLegacy(account)
  })

  // The key holds every config home's records (and the Go CLI's): it goes only once it is empty,
  // which is the reference's purge whenever this home held the last record.
  const purge = Effect.gen(function*() {
    const left = yield* win("Purge", "*", (v) => v.registry.valueNames(keyPath))
    if (left.length > 0) return
    yield* win("Purge", "*", (v) => v.registry.deleteKey(keyPath))
  }).pipe(Effect.withSpan("KeyStoreRegistry.purge"))

  // Before an exchange: the key can be created and opened for writing, and DPAPI seals for this
  // account. No value is written: a placeholder under the real name would replace a live record
  // (a re-login) before the exchange succeeded, and the registry has no space to run out of.
  const reserve = (account: string) =>
    win("Set", account, (v) => {
      v.registry.ensureKey(keyPath)
      v.dpapi.protect(Buffer.from("{}"), dpapiEntropy(account))
    }).pipe(Effect.withSpan("KeyStoreRegistry.reserve"))

  return KeyStore.of({
    backend: Effect.succeed(REGISTRY_BACKEND),
    describe: Effect.succeed({
      backend: REGISTRY_BACKEND,
      location: `${REGISTRY_KEY_DISPLAY} (one DPAPI-sealed value per olaresId, named by its unpadded base64url)`,
      reason: options.reason ?? "Windows registry + DPAPI"
    }),
    get,
    reserve,
    set,
    markInvalidated,
    remove,
    purge
  })
}
