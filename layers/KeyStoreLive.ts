/** Picks the token-store backend for this machine (or the one `OLARES_CLI_KEYSTORE` forces). */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { AppPaths } from "../src/services/AppPaths.js"
import { KeyStore, type KeyStoreShape } from "../src/services/KeyStore.js"
import { type BackendChoice, KEYSTORE_ENV, selectBackend } from "./internal/Backend.js"
import { makeLinuxFileKeyStore } from "./KeyStoreFile.js"
import { loadNativeKeyring, makeKeyringKeyStore, makeMacKeyStore } from "./KeyStoreKeyring.js"
import { makeMemory } from "./KeyStoreMemory.js"
import { loadWinVault, makeRegistryKeyStore } from "./KeyStoreRegistry.js"

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
      case "registry": {
        const vault = yield* Effect.cached(loadWinVault)
        // Records of earlier versions (Credential Manager) are moved over when read; only Windows has them.
        const legacy = process.platform === "win32" ? yield* Effect.cached(loadNativeKeyring) : undefined
        return makeRegistryKeyStore({ vault, reason: choice.reason, ...(legacy === undefined ? {} : { legacy }) })
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
