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
import { makeLocalLive } from "../layers/Main.js"
import { NetworkLive } from "../layers/NetworkLive.js"
import { makeOlaresCli } from "../layers/OlaresCli.js"

export * from "./domain/Jwt.js"
export * from "./domain/OlaresId.js"
export * from "./domain/ProfileConfig.js"
export { roleLabel } from "./domain/Role.js"
export * from "./domain/StoredToken.js"
export { profileBaseUrl, profileServiceUrl, scopeUrl, TokenScope, type TokenScopeShape } from "./domain/TokenScope.js"
export * from "./errors.js"
export { fetchOsVersion, fetchUserInfo } from "./olaresInfo.js"
export * from "./schemas.js"
export { AppPaths, type AppPathsShape } from "./services/AppPaths.js"
export { FileLock, type FileLockShape, type LockOptions } from "./services/FileLock.js"
export {
  type AuthedClient,
  HttpAuth,
  type HttpAuthError,
  type HttpAuthShape,
  type ResolveError
} from "./services/HttpAuth.js"
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
export { makeLocalLive, makeOlaresCli, NetworkLive }
export { AppPathsLive } from "../layers/AppPathsLive.js"
export { FileLockLive } from "../layers/FileLockLive.js"
export { HttpAuthLive } from "../layers/HttpAuthLive.js"
export { HttpClientsFromContext, HttpClientsLive } from "../layers/HttpClientsLive.js"
export { KeyStoreLive } from "../layers/KeyStoreLive.js"
export { KeyStoreMemory, makeMemory as makeMemoryKeyStore } from "../layers/KeyStoreMemory.js"
export type { LocalPorts } from "../layers/Main.js"
export type { NetworkPorts } from "../layers/NetworkLive.js"
export { OlaresAuthApiLive } from "../layers/OlaresAuthApiLive.js"
export type { OlaresCliPorts } from "../layers/OlaresCli.js"
export { ProfileRepoFile } from "../layers/ProfileRepoFile.js"
export { PromptNone } from "../layers/PromptNone.js"
export { RefreshCoordinatorLive } from "../layers/RefreshCoordinatorLive.js"
/** The CLI's logger: warnings to stderr as `warning: ...` (debug lines with OLARES_CLI_DEBUG); the library itself never prints. */
export { StderrLogger } from "./output.js"

/**
 * Everything, wired like the CLI (same files, same locks; never prompts): AppPaths, FileLock,
 * ProfileRepo, KeyStore, Prompt, HttpClients, OlaresAuthApi, RefreshCoordinator and HttpAuth. Use
 * `makeOlaresCli({ ...ports })` to replace any port.
 */
export const OlaresCliLive = makeOlaresCli()
