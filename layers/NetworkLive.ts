/** The network half of the wiring, imported on demand by commands that talk to a server. */
import * as Layer from "effect/Layer"
import type { AppPaths } from "../src/services/AppPaths.js"
import type { FileLock } from "../src/services/FileLock.js"
import type { HttpClients } from "../src/services/HttpClients.js"
import type { KeyStore } from "../src/services/KeyStore.js"
import type { OlaresAuthApi } from "../src/services/OlaresAuthApi.js"
import type { RefreshCoordinator } from "../src/services/RefreshCoordinator.js"
import { HttpAuthLive } from "./HttpAuthLive.js"
import { HttpClientsLive } from "./HttpClientsLive.js"
import { OlaresAuthApiLive } from "./OlaresAuthApiLive.js"
import { RefreshCoordinatorLive } from "./RefreshCoordinatorLive.js"

/** Network ports a program may replace (each defaults to the live one). */
export interface NetworkPorts<E = never> {
  /** The transport (default: the program's `HttpClient.HttpClient` if provided, else Node agents). */
  readonly httpClients?: Layer.Layer<HttpClients, E>
  /** The Olares auth protocol (login, refresh). */
  readonly authApi?: Layer.Layer<OlaresAuthApi, E, HttpClients>
  /** The single-flight refresher. */
  readonly refreshCoordinator?: Layer.Layer<RefreshCoordinator, E, KeyStore | FileLock | OlaresAuthApi | AppPaths>
}

/** HttpClients + OlaresAuthApi + RefreshCoordinator + HttpAuth, with any of the first three replaced. */
export const makeNetwork = <E = never>(ports: NetworkPorts<E> = {}) => {
  const auth = (ports.authApi ?? OlaresAuthApiLive).pipe(Layer.provideMerge(ports.httpClients ?? HttpClientsLive))
  const refresh = (ports.refreshCoordinator ?? RefreshCoordinatorLive).pipe(Layer.provideMerge(auth))
  return HttpAuthLive.pipe(Layer.provideMerge(refresh))
}

/** HttpClients + OlaresAuthApi + RefreshCoordinator + HttpAuth; needs the local services. */
export const NetworkLive = makeNetwork()
