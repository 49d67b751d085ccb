/** The two profile-level reads: role (`/api/backend/v1/user-info`) and OS version (`/api/olares-info`). */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { goQuote, olaresVersionProblem } from "./domain/OlaresVersion.js"
import {
  BackendVersionInvalid,
  HttpStatusError,
  InvalidOlaresVersion,
  ResponseDecodeError,
  TimeoutError,
  TransportError
} from "./errors.js"
import type { AuthedClient } from "./services/HttpAuth.js"

const USER_INFO = "/api/backend/v1/user-info"
const OLARES_INFO = "/api/olares-info"

/** `owner` → `Owner`, `admin` → `Admin`, `normal` → `User`, empty → `(unknown)`. */
export const roleLabel = (role: string | undefined): string => {
  if (role === undefined || role === "") return "(unknown)"
  if (role === "owner") return "Owner"
  if (role === "admin") return "Admin"
  if (role === "normal") return "User"
  return role.charAt(0).toUpperCase() + role.slice(1).toLowerCase()
}

const Envelope = <A, I>(data: Schema.Schema<A, I>) =>
  Schema.Struct({ code: Schema.optional(Schema.Number), message: Schema.optional(Schema.String), data: Schema.optional(data) })

const UserInfo = Envelope(Schema.Struct({ name: Schema.optional(Schema.String), owner_role: Schema.optional(Schema.String) }))
const OlaresInfo = Envelope(Schema.Struct({ osVersion: Schema.optional(Schema.String) }))

const MAX_BODY = 1024 * 1024

/** The body as text, reading at most MAX_BODY bytes; `undefined` when it is larger (never buffered whole). */
const readCapped = (res: HttpClientResponse.HttpClientResponse) =>
  res.stream.pipe(
    Stream.runFoldWhile(
      { chunks: [] as Array<Uint8Array>, size: 0 },
      (s) => s.size <= MAX_BODY,
      (s, chunk) => {
        s.chunks.push(chunk)
        return { chunks: s.chunks, size: s.size + chunk.length }
      }
    ),
    Effect.map(({ chunks, size }) => (size > MAX_BODY ? undefined : Buffer.concat(chunks).toString("utf8")))
  )

const isJson = (text: string) => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** GET through the authenticated client; non-2xx, timeouts, oversized and bad JSON become typed transient errors. */
const getJson = <A, I>(authed: AuthedClient, path: string, schema: Schema.Schema<A, I>, timeout: Duration.DurationInput) => {
  const url = authed.baseUrl + path
  const endpoint = `GET ${path}`
  return authed.client.pipe(HttpClient.withScope).execute(HttpClientRequest.get(url, { acceptJson: true })).pipe(
    Effect.flatMap((res) =>
      Effect.flatMap(readCapped(res), (body): Effect.Effect<A, HttpStatusError | ResponseDecodeError> => {
        if (body === undefined) {
          return Effect.fail(new ResponseDecodeError({ endpoint, detail: `response body is larger than ${MAX_BODY} bytes; refusing to read it` }))
        }
        if (res.status < 200 || res.status >= 300) {
          return Effect.fail(new HttpStatusError({ endpoint, status: res.status, body: body.slice(0, 200) }))
        }
        return Either.match(Schema.decodeUnknownEither(Schema.parseJson(schema))(body), {
          // a JSON body is never echoed: it may carry tokens
          onLeft: () =>
            Effect.fail(new ResponseDecodeError({
              endpoint,
              detail: isJson(body)
                ? "response is not the expected JSON"
                : `response is not the expected JSON (body=${JSON.stringify(body.slice(0, 200))})`
            })),
          onRight: Effect.succeed
        })
      })
    ),
    Effect.scoped,
    Effect.timeoutFail({ duration: timeout, onTimeout: () => new TimeoutError({ endpoint, seconds: Duration.toSeconds(timeout) }) }),
    Effect.catchTags({
      RequestError: (e: HttpClientError.RequestError) => Effect.fail(new TransportError({ endpoint, detail: e.cause instanceof Error ? e.cause.message : e.message })),
      ResponseError: (e: HttpClientError.ResponseError) => Effect.fail(new TransportError({ endpoint, detail: e.message }))
    })
  )
}

/** A 2xx answer without `data` is not an answer (e.g. an error envelope the gateway made up). */
const requireData = <D>(path: string, env: { data?: D | undefined; message?: string | undefined }) =>
  env.data === undefined || env.data === null
    ? Effect.fail(new ResponseDecodeError({
      endpoint: `GET ${path}`,
      detail: `response has no data${env.message !== undefined && env.message !== "" ? ` (message: ${env.message.slice(0, 200)})` : ""}`
    }))
    : Effect.succeed(env.data)

const checkCode = (what: string, env: { code?: number | undefined; message?: string | undefined }) =>
  env.code === undefined || env.code === 0 || env.code === 200
    ? Effect.void
    : Effect.fail(new ResponseDecodeError({ endpoint: what, detail: env.message !== undefined && env.message !== "" ? env.message : `server returned code=${env.code}` }))

/** The server's view of the user: name and owner role. */
export const fetchUserInfo = (authed: AuthedClient, timeout: Duration.DurationInput = "10 seconds") =>
  getJson(authed, USER_INFO, UserInfo, timeout).pipe(
    Effect.tap((env) => checkCode(`GET ${USER_INFO}`, env)),
    Effect.flatMap((env) => requireData(USER_INFO, env)),
    Effect.map((data) => ({ name: data.name, ownerRole: data.owner_role }))
  )

/**
 * The Olares OS version string, e.g. `1.12.6` or `1.12.6-20260603`, validated as an Olares semver
 * before any caller can cache or print it.
 */
export const fetchOsVersion = (authed: AuthedClient, timeout: Duration.DurationInput = "10 seconds") =>
  getJson(authed, OLARES_INFO, OlaresInfo, timeout).pipe(
    Effect.tap((env) => checkCode(`GET ${OLARES_INFO}`, env)),
    Effect.flatMap((env): Effect.Effect<string, ResponseDecodeError | BackendVersionInvalid> => {
      const v = (env.data?.osVersion ?? "").trim()
      if (v === "") {
        return Effect.fail(new ResponseDecodeError({ endpoint: OLARES_INFO, detail: "returned an empty osVersion" }))
      }
      const problem = olaresVersionProblem(v)
      return problem === undefined
        ? Effect.succeed(v)
        : Effect.fail(new BackendVersionInvalid({ quoted: goQuote(v), reason: problem }))
    })
  )

/** `--olares-version`: the validated value, or the reference's usage error. */
export const checkVersionFlag = (raw: string): Effect.Effect<string, InvalidOlaresVersion> => {
  const v = raw.trim()
  const problem = olaresVersionProblem(v)
  return problem === undefined ? Effect.succeed(v) : Effect.fail(new InvalidOlaresVersion({ quoted: goQuote(v), reason: problem }))
}
