/**
 * The composition root of the command tree, and the one module under src/commands that may import
 * layers (test/unit/import-rules.test.ts): each verb gets here the layers it needs (`Command.provide`),
 * the terminal from its own parsed `--no-input`. The HTTP stack is imported only when a command
 * first talks to a server, so offline commands never load it (start-up time).
 */
import * as Command from "@effect/cli/Command"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { makeDoctorLive } from "../../layers/DoctorLive.js"
import type { NetworkLive } from "../../layers/NetworkLive.js"
import { makePromptLive } from "../../layers/PromptLive.js"
import { StdioLive } from "../../layers/StdioLive.js"
import { HttpAuth, type HttpAuthShape } from "../services/HttpAuth.js"
import { OlaresAuthApi } from "../services/OlaresAuthApi.js"
import { Reachability } from "../services/Reachability.js"
import { RefreshCoordinator } from "../services/RefreshCoordinator.js"
import { api as apiCommand } from "./api.js"
import { doctor } from "./doctor/index.js"
import { importCommand } from "./import.js"
import { list } from "./list/index.js"
import { login } from "./login.js"
import { profileGroup } from "./profile.js"
import { remove } from "./remove/index.js"
import { use } from "./use/index.js"
import { whoami } from "./whoami/index.js"

/**
 * The services of `load()`'s layer, built the first time they are asked for (once, however many
 * fibers ask), inside the scope of the layer that serves them and over the context it was given.
 */
const onDemand = <ROut, RIn>(name: string, load: () => Promise<Layer.Layer<ROut, never, RIn>>) =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const context = yield* Effect.context<RIn>()
    return yield* Effect.cached(
      Effect.logDebug(`loading ${name} on first use`).pipe(
        Effect.zipRight(Effect.promise(load)),
        Effect.flatMap((layer) => Effect.provide(Layer.buildWithScope(layer, scope), context))
      )
    )
  })

/** What the network layers need from the local ones. */
type NetworkNeeds = Layer.Layer.Context<typeof NetworkLive>

/**
 * HttpAuth, OlaresAuthApi and RefreshCoordinator whose first use imports and builds `NetworkLive`:
 * `profile list --refresh-version` and the start-up import of a mounted credential pay for the
 * HTTP stack only when they really call a server.
 */
export const NetworkOnDemand: Layer.Layer<HttpAuth | OlaresAuthApi | RefreshCoordinator, never, NetworkNeeds> = Layer
  .scopedContext(
    Effect.map(
      onDemand("NetworkLive", () => import("../../layers/NetworkLive.js").then((m) => m.NetworkLive)),
      (network) => {
        const auth = Effect.map(network, Context.get(HttpAuth))
        const authApi = Effect.map(network, Context.get(OlaresAuthApi))
        const coordinator = Effect.map(network, Context.get(RefreshCoordinator))
        const forProfile = (p: Parameters<HttpAuthShape["forProfile"]>[0]) =>
          Effect.flatMap(auth, (a) => (typeof p === "string" ? a.forProfile(p) : a.forProfile(p)))
        return Context.make(
          HttpAuth,
          HttpAuth.of({
            current: Effect.flatMap(auth, (a) => a.current),
            forProfile: forProfile as HttpAuthShape["forProfile"]
          })
        ).pipe(
          Context.add(
            OlaresAuthApi,
            OlaresAuthApi.of({
              login: (target, password, totp) => Effect.flatMap(authApi, (a) => a.login(target, password, totp)),
              refresh: (target, token, access, timeout) =>
                Effect.flatMap(authApi, (a) => a.refresh(target, token, access, timeout))
            })
          ),
          Context.add(
            RefreshCoordinator,
            RefreshCoordinator.of({
              refresh: (target, stale) => Effect.flatMap(coordinator, (c) => c.refresh(target, stale))
            })
          )
        )
      }
    )
  )

/** Reachability whose first probe imports and builds its HTTP clients (`profile doctor --offline` never does). */
const ReachabilityOnDemand: Layer.Layer<Reachability> = Layer.scoped(
  Reachability,
  Effect.map(
    onDemand("ReachabilityLive", () => import("../../layers/ReachabilityLive.js").then((m) => m.ReachabilityLive)),
    (loaded) =>
      Reachability.of({
        probe: (url, options) => Effect.flatMap(loaded, (c) => Context.get(c, Reachability).probe(url, options))
      })
  )
)

/** The terminal as the verb's own `--no-input` (or OLARES_CLI_NO_INPUT) asks. */
const withPrompt = <Name extends string, R, E, A extends { readonly noInput: boolean }>(
  self: Command.Command<Name, R, E, A>
) => Command.provide(self, (opts: A) => makePromptLive(opts.noInput))

/** `olares-cli profile ...`, every verb with its layers. */
export const profile = profileGroup.pipe(
  Command.withSubcommands([
    withPrompt(Command.provide(login, NetworkOnDemand)),
    withPrompt(Command.provide(importCommand, NetworkOnDemand)),
    withPrompt(Command.provide(list, NetworkOnDemand)),
    withPrompt(use),
    withPrompt(remove),
    withPrompt(Command.provide(whoami, NetworkOnDemand)),
    withPrompt(Command.provide(doctor, makeDoctorLive(ReachabilityOnDemand)))
  ])
)

/** `olares-cli api`, with the network and the standard streams. */
export const api = withPrompt(Command.provide(apiCommand, Layer.merge(NetworkOnDemand, StdioLive)))
