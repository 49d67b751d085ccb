/** Picks the token-store backend for this machine (or the one `OLARES_CLI_KEYSTORE` forces). */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { AppPaths } from "../src/services/AppPaths.js"
import { KeyStore, type KeyStoreShape } from "../src/services/KeyStore.js"
import { makeLinuxFileKeyStore } from "./KeyStoreFile.js"
import { loadNativeKeyring, makeKeyringKeyStore, makeMacKeyStore } from "./KeyStoreKeyring.js"
import { makeMemory } from "./KeyStoreMemory.js"

/** The env var that forces a backend. */
export const KEYSTORE_ENV = "OLARES_CLI_KEYSTORE"

/** What can be chosen: `mac` = encrypted files with the master key in the Keychain. */
export type BackendKind = "file" | "mac" | "keyring" | "memory"

/** A backend and why it was chosen (shown by `profile doctor`). */
export interface BackendChoice {
  readonly kind: BackendKind
  readonly reason: string
  /** Set when `OLARES_CLI_KEYSTORE` held something we do not know (the default is used). */
  readonly ignored?: string
}

const FORCEABLE = ["file", "keyring", "memory"] as const

/** Pure selection: a valid `OLARES_CLI_KEYSTORE` wins, else darwin -> mac, win32 -> keyring, else file. */
export const selectBackend = (forced: string, platform: NodeJS.Platform): BackendChoice => {
  const value = forced.trim()
  if ((FORCEABLE as ReadonlyArray<string>).includes(value)) {
    return { kind: value as BackendKind, reason: `forced by ${KEYSTORE_ENV}=${value}` }
  }
  const base: BackendChoice = platform === "darwin"
    ? { kind: "mac", reason: "default on macOS: encrypted files, master key in the Keychain" }
    : platform === "win32"
    ? { kind: "keyring", reason: "default on Windows: Windows Credential Manager" }
    : { kind: "file", reason: `default on ${platform}: AES-256-GCM files` }
  if (value === "") return base
  const ignored = `${KEYSTORE_ENV}=${value} is not one of ${FORCEABLE.join(", ")}; ignored`
  return { ...base, reason: `${base.reason} (${ignored})`, ignored }
}

/** Builds the chosen store over `dataDir`; the native keyring is loaded on first use only. */
export const makeKeyStore = (choice: BackendChoice, dataDir: string): Effect.Effect<KeyStoreShape> =>
  Effect.gen(function*() {
    switch (choice.kind) {
      case "file":
        return makeLinuxFileKeyStore(dataDir, choice.reason)
      case "memory": {
        const store = yield* makeMemory()
        const describe = { backend: "memory", location: "(process memory)", reason: choice.reason }
        return { ...store, describe: Effect.succeed(describe) }
      }
      case "mac": {
        const keyring = yield* Effect.cached(loadNativeKeyring)
        return makeMacKeyStore({ dir: dataDir, keyring, reason: choice.reason })
      }
      case "keyring": {
        const keyring = yield* Effect.cached(loadNativeKeyring)
        return makeKeyringKeyStore({ keyring, reason: choice.reason })
      }
    }
  })

/** The live token store: backend by `OLARES_CLI_KEYSTORE` or platform, data in `AppPaths.dataDir`. */
export const KeyStoreLive: Layer.Layer<KeyStore, never, AppPaths> = Layer.effect(
  KeyStore,
  Effect.gen(function*() {
    const paths = yield* AppPaths
    // A string with a default cannot fail to load; anything else is a broken ConfigProvider.
    const forced = yield* Config.string(KEYSTORE_ENV).pipe(Config.withDefault(""), Effect.orDie)
    const choice = selectBackend(forced, process.platform)
    if (choice.ignored !== undefined) yield* Effect.logWarning(choice.ignored)
    const onDisk = choice.kind === "file" || choice.kind === "mac"
    const reason = onDisk ? `${choice.reason}; data dir from ${paths.dataDirSource}` : choice.reason
    return yield* makeKeyStore({ ...choice, reason }, paths.dataDir)
  })
)
