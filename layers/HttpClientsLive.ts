/** The two plain HTTP clients (verifying / not verifying TLS certificates) over node:http(s) agents. */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { isCredentialHeader, REDACTED, redactUrl, stripControls } from "../src/domain/Scrub.js"
import { HttpClients } from "../src/services/HttpClients.js"

/**
 * `POST https://auth.../api/refresh [accept: application/json, x-authorization: <redacted>]`: no
 * secret values. Every credential-like header is redacted (Authorization, Proxy-Authorization,
 * Cookie, and any name containing token/auth/secret/session/key/password, user `-H` ones included),
 * and so are URL credentials and credential-like query values.
 */
export const requestLine = (request: HttpClientRequest.HttpClientRequest): string => {
  const headers = Object.entries(request.headers).map(([name, value]) =>
    `${name}: ${isCredentialHeader(name) ? REDACTED : value}`
  )
  return stripControls(
    `${request.method} ${redactUrl(request.url)}${headers.length === 0 ? "" : ` [${headers.join(", ")}]`}`
  )
}

// Every request of the CLI goes through one of these two clients, so this is the one place that
// logs them (shown with OLARES_CLI_DEBUG=1); bodies are never logged, they carry the secrets.
const withDebugLog = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  client.pipe(
    HttpClient.tapRequest((request) => Effect.logDebug(requestLine(request))),
    HttpClient.tap((response) =>
      Effect.logDebug(
        `HTTP ${response.status} for ${response.request.method} ${stripControls(redactUrl(response.request.url))}`
      )
    )
  )

// No trace headers are sent to an Olares server, whoever made the client.
const prepared = (client: HttpClient.HttpClient) => withDebugLog(HttpClient.withTracerPropagation(client, false))

// Agents are plain objects until the first request opens a socket, so building both is cheap; the
// layer's scope destroys them (and any idle socket) when the program ends.
const clientWith = (rejectUnauthorized: boolean) =>
  NodeHttpClient.make.pipe(
    Effect.provideServiceEffect(NodeHttpClient.HttpAgent, NodeHttpClient.makeAgent({ rejectUnauthorized })),
    Effect.map(prepared)
  )

/**
 * `HttpClients` over the program's own `HttpClient.HttpClient` (a fake in a test, a proxy-aware or
 * fetch-based client): both TLS policies use it, so a profile's `insecureSkipVerify` is then the
 * client's business.
 */
export const HttpClientsFromContext: Layer.Layer<HttpClients, never, HttpClient.HttpClient> = Layer.effect(
  HttpClients,
  Effect.map(HttpClient.HttpClient, (client) => {
    const c = prepared(client)
    return HttpClients.of({ get: () => c })
  })
)

/**
 * `HttpClients` for the CLI and `OlaresCliLive`: the program's `HttpClient.HttpClient` when one is in
 * context (see `HttpClientsFromContext`), else two clients over `@effect/platform-node` agents; the
 * insecure one skips certificate checks.
 */
export const HttpClientsLive: Layer.Layer<HttpClients> = Layer.scoped(
  HttpClients,
  Effect.gen(function*() {
    const provided = yield* Effect.serviceOption(HttpClient.HttpClient)
    if (Option.isSome(provided)) {
      const c = prepared(provided.value)
      return HttpClients.of({ get: () => c })
    }
    const secure = yield* clientWith(true)
    const insecure = yield* clientWith(false)
    return HttpClients.of({ get: (insecureSkipVerify) => (insecureSkipVerify ? insecure : secure) })
  })
)
