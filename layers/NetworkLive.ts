/** The network half of the wiring, imported on demand by commands that talk to a server. */
import * as Layer from "effect/Layer"
import { HttpAuthLive } from "./HttpAuthLive.js"
import { HttpClientsLive } from "./HttpClientsLive.js"
import { OlaresAuthApiLive } from "./OlaresAuthApiLive.js"
import { RefreshCoordinatorLive } from "./RefreshCoordinatorLive.js"

const Auth = OlaresAuthApiLive.pipe(Layer.provideMerge(HttpClientsLive))
const Refresh = RefreshCoordinatorLive.pipe(Layer.provideMerge(Auth))

/** HttpClients + OlaresAuthApi + RefreshCoordinator + HttpAuth; needs the local services. */
export const NetworkLive = HttpAuthLive.pipe(Layer.provideMerge(Refresh))
