/** The two plain HTTP clients (verifying / not verifying TLS certificates) over node:http(s) agents. */
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { HttpClients } from "../src/services/HttpClients.js"

// Agents are plain objects until the first request opens a socket, so building both is cheap; the
// layer's scope destroys them (and any idle socket) when the program ends.
const clientWith = (rejectUnauthorized: boolean) =>
  NodeHttpClient.make.pipe(
    Effect.provideServiceEffect(NodeHttpClient.HttpAgent, NodeHttpClient.makeAgent({ rejectUnauthorized })),
    // no trace headers are sent to an Olares server
    Effect.map(HttpClient.withTracerPropagation(false))
  )

/** `HttpClients` backed by `@effect/platform-node`; the insecure client skips certificate checks. */
export const HttpClientsLive: Layer.Layer<HttpClients> = Layer.scoped(
  HttpClients,
  Effect.gen(function*() {
    const secure = yield* clientWith(true)
    const insecure = yield* clientWith(false)
    return HttpClients.of({ get: (insecureSkipVerify) => (insecureSkipVerify ? insecure : secure) })
  })
)
