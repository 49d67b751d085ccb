/**
 * The library surface: other Effect programs compose these layers to make authenticated calls as
 * the active olares-cli profile, with transparent refresh shared with the CLI (same files, same
 * locks). Typical use:
 *
 *   const program = Effect.gen(function*() {
 *     const auth = yield* HttpAuth
 *     const { client, baseUrl } = yield* auth.current
 *     const res = yield* client.get(`${baseUrl}/api/olares-info`)
 *     return yield* res.json
 *   })
 *   program.pipe(Effect.provide(OlaresCliLive), NodeRuntime.runMain)
 */
import * as Layer from "effect/Layer"
import { makeLocalLive } from "../layers/Main.js"
import { NetworkLive } from "../layers/NetworkLive.js"

export * from "./errors.js"
export * from "./schemas.js"
export * from "./domain/Config.js"
export * from "./domain/Jwt.js"
export * from "./domain/OlaresId.js"
export * from "./domain/StoredToken.js"
export { AppPaths, type AppPathsShape } from "./services/AppPaths.js"
export { FileLock, type FileLockShape, type LockOptions } from "./services/FileLock.js"
export { type AuthedClient, HttpAuth, type HttpAuthError, type HttpAuthShape, type ResolveError } from "./services/HttpAuth.js"
export { HttpClients, type HttpClientsShape } from "./services/HttpClients.js"
export { KeyStore, type KeyStoreError, type KeyStoreShape } from "./services/KeyStore.js"
export {
  type AuthTarget,
  OlaresAuthApi,
  type OlaresAuthApiShape,
  RefreshRejected,
  type TokenGrant
} from "./services/OlaresAuthApi.js"
export { ProfileRepo, type ProfileRepoShape } from "./services/ProfileRepo.js"
export { Prompt, type PromptShape } from "./services/Prompt.js"
export { RefreshCoordinator, type RefreshCoordinatorShape, type RefreshError } from "./services/RefreshCoordinator.js"
export { fetchOsVersion, fetchUserInfo, roleLabel } from "./olaresInfo.js"
export { makeLocalLive, NetworkLive }
export { KeyStoreMemory, makeMemory as makeMemoryKeyStore } from "../layers/KeyStoreMemory.js"

/**
 * Everything, wired like the CLI (never prompts): AppPaths, FileLock, ProfileRepo, KeyStore,
 * HttpClients, OlaresAuthApi, RefreshCoordinator and HttpAuth.
 */
export const OlaresCliLive = NetworkLive.pipe(Layer.provideMerge(makeLocalLive(true)))
