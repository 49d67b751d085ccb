/** Reachability probes over the plain `HttpClients` (no token, no cookie, no redirect following). */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { describeCause } from "../src/http/HttpReply.js"
import { HttpClients } from "../src/services/HttpClients.js"
import { type ProbeErrorKind, Reachability } from "../src/services/Reachability.js"
import { HttpClientsLive } from "./HttpClientsLive.js"

/** Sorts a Node network error into the kinds `profile doctor` explains differently. */
export const classifyNetworkError = (cause: unknown): { readonly kind: ProbeErrorKind; readonly detail: string } => {
  const { code, text } = describeCause(cause)
  const detail = code !== "" && !text.includes(code) ? `${text} (${code})` : text
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") return { kind: "dns", detail }
  if (code === "ECONNREFUSED") return { kind: "refused", detail }
  if (code === "ETIMEDOUT") return { kind: "timeout", detail }
  if (
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|^ERR_TLS|^ERR_SSL|^EPROTO$/.test(code) ||
    /certificate|\bSSL\b|\bTLS\b/i.test(text)
  ) return { kind: "tls", detail }
  return { kind: "network", detail }
}

/** `Reachability` over `HttpClients`: one `HEAD <url>` bounded by the given timeout. */
export const ReachabilityFromClients: Layer.Layer<Reachability, never, HttpClients> = Layer.effect(
  Reachability,
  Effect.gen(function*() {
    const clients = yield* HttpClients
    const probe = Effect.fn("Reachability.probe")(function*(
      url: string,
      options: { readonly insecureSkipVerify: boolean; readonly timeout: Duration.DurationInput }
    ) {
      const start = yield* Clock.currentTimeMillis
      const elapsed = Effect.map(Clock.currentTimeMillis, (now) => Math.max(0, Math.round(now - start)))
      const timeout = Duration.decode(options.timeout)
      return yield* clients.get(options.insecureSkipVerify).execute(HttpClientRequest.head(url)).pipe(
        Effect.timeout(timeout),
        Effect.matchEffect({
          onSuccess: (res) =>
            Effect.map(elapsed, (elapsedMs) => ({ _tag: "Answered" as const, status: res.status, elapsedMs })),
          onFailure: (e) =>
            Effect.map(elapsed, (elapsedMs) => {
              if (e._tag === "TimeoutException") {
                return {
                  _tag: "Failed" as const,
                  kind: "timeout" as const,
                  detail: `no answer within ${Duration.format(timeout)}`,
                  elapsedMs
                }
              }
              const c = classifyNetworkError(e._tag === "RequestError" ? e.cause ?? e : e)
              return { _tag: "Failed" as const, kind: c.kind, detail: c.detail, elapsedMs }
            })
        })
      )
    })
    return Reachability.of({ probe })
  })
)

/** `Reachability` with its own node HTTP clients (loaded on demand by `profile doctor`). */
export const ReachabilityLive: Layer.Layer<Reachability> = ReachabilityFromClients.pipe(Layer.provide(HttpClientsLive))
