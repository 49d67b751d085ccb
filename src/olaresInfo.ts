/** The two profile-level reads: role (`/api/backend/v1/user-info`) and OS version (`/api/olares-info`). */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { parseJson } from "./domain/Json.js"
import { goQuote, olaresVersionProblem } from "./domain/OlaresVersion.js"
import { isValidRole } from "./domain/Role.js"
import { scrubText, secretsOfHeaders, summariseBody } from "./domain/Scrub.js"
import {
  BackendVersionInvalid,
  HttpStatusError,
  InvalidOlaresVersion,
  ResponseDecodeError,
  TimeoutError
} from "./errors.js"
import { readCapped as readCappedBody, toTransportError } from "./http/HttpReply.js"
import type { AuthedClient } from "./services/HttpAuth.js"

const USER_INFO = "/api/backend/v1/user-info"
const OLARES_INFO = "/api/olares-info"

const Envelope = <A, I>(data: Schema.Schema<A, I>) =>
  Schema.Struct({
    code: Schema.optional(Schema.Number),
    message: Schema.optional(Schema.String),
    data: Schema.optional(data)
  })

const UserInfo = Envelope(
  Schema.Struct({ name: Schema.optional(Schema.String), owner_role: Schema.optional(Schema.String) })
)
const OlaresInfo = Envelope(Schema.Struct({ osVersion: Schema.optional(Schema.String) }))

const MAX_BODY = 1024 * 1024

/** The body as text, reading at most `max` bytes; `undefined` when it is larger (never buffered whole). */
export const readCapped = (res: HttpClientResponse.HttpClientResponse, max: number = MAX_BODY) =>
  readCappedBody(res, max)

/** GET through the authenticated client; non-2xx, timeouts, oversized and bad JSON become typed transient errors. */
const getJson = <A, I>(
  authed: AuthedClient,
  path: string,
  schema: Schema.Schema<A, I>,
  timeout: Duration.DurationInput
) => {
  const url = authed.baseUrl + path
  const endpoint = `GET ${path}`
  return authed.client.pipe(HttpClient.withScope).execute(HttpClientRequest.get(url, { acceptJson: true })).pipe(
    Effect.flatMap((res) =>
      Effect.flatMap(
        readCapped(res),
        (
          body
        ): Effect.Effect<
          { readonly env: A; readonly secrets: ReadonlyArray<string> },
          HttpStatusError | ResponseDecodeError
        > => {
          if (body === undefined) {
            return Effect.fail(
              new ResponseDecodeError({
                endpoint,
                detail: `response body is larger than ${MAX_BODY} bytes; refusing to read it`
              })
            )
          }
          // what this request carried (the token in X-Authorization and the cookie) is masked in any echo
          const secrets = secretsOfHeaders(res.request.headers)
          if (res.status < 200 || res.status >= 300) {
            return Effect.fail(
              new HttpStatusError({ endpoint, status: res.status, body: summariseBody(body, secrets, 200) })
            )
          }
          const parsed = parseJson(body)
          if (!parsed.ok) {
            return Effect.fail(
              new ResponseDecodeError({
                endpoint,
                detail: parsed.tooDeep
                  ? `response is not usable: ${parsed.reason}`
                  : `response is not the expected JSON (body=${scrubText(body, secrets, 200)})`
              })
            )
          }
          return Either.match(Schema.decodeUnknownEither(schema)(parsed.value), {
            // a JSON body is never echoed: it may carry tokens
            onLeft: () =>
              Effect.fail(new ResponseDecodeError({ endpoint, detail: "response is not the expected JSON" })),
            onRight: (env) => Effect.succeed({ env, secrets })
          })
        }
      )
    ),
    Effect.scoped,
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () => new TimeoutError({ endpoint, seconds: Duration.toSeconds(timeout) })
    }),
    Effect.catchTags({
      RequestError: (e: HttpClientError.RequestError) => Effect.fail(toTransportError(endpoint, url)(e)),
      ResponseError: (e: HttpClientError.ResponseError) => Effect.fail(toTransportError(endpoint, url)(e))
    })
  )
}

interface Read<E> {
  readonly env: E
  readonly secrets: ReadonlyArray<string>
}

/** A 2xx answer without `data` is not an answer (e.g. an error envelope the gateway made up). */
const requireData = <D>(path: string, { env, secrets }: Read<{ data?: D | undefined; message?: string | undefined }>) =>
  env.data === undefined || env.data === null
    ? Effect.fail(
      new ResponseDecodeError({
        endpoint: `GET ${path}`,
        detail: `response has no data${
          env.message !== undefined && env.message !== "" ? ` (message: ${scrubText(env.message, secrets, 200)})` : ""
        }`
      })
    )
    : Effect.succeed(env.data)

const checkCode = (what: string, { env, secrets }: Read<{ code?: number | undefined; message?: string | undefined }>) =>
  env.code === undefined || env.code === 0 || env.code === 200
    ? Effect.void
    : Effect.fail(
      new ResponseDecodeError({
        endpoint: what,
        detail: env.message !== undefined && env.message !== ""
          ? scrubText(env.message, secrets, 200)
          : `server returned code=${env.code}`
      })
    )

/**
 * The server's view of the user: name (scrubbed, capped) and owner role. A role that is not a
 * known one or a plain word is dropped with a warning, so it is never cached nor shown.
 */
export const fetchUserInfo = (authed: AuthedClient, timeout: Duration.DurationInput = "10 seconds") =>
  getJson(authed, USER_INFO, UserInfo, timeout).pipe(
    Effect.tap((read) => checkCode(`GET ${USER_INFO}`, read)),
    Effect.flatMap((read) => Effect.map(requireData(USER_INFO, read), (data) => ({ data, secrets: read.secrets }))),
    Effect.flatMap(({ data, secrets }) => {
      const role = data.owner_role
      const name = data.name === undefined ? undefined : scrubText(data.name, secrets, 64)
      if (role === undefined || role === "" || isValidRole(role)) return Effect.succeed({ name, ownerRole: role })
      return Effect.as(
        Effect.logWarning(
          `the server reported an owner_role that is not a known role or a plain word (${role.length} characters); it was not cached`
        ),
        { name, ownerRole: undefined }
      )
    })
  )

/**
 * The Olares OS version string, e.g. `1.12.6` or `1.12.6-20260603`, validated as an Olares semver
 * before any caller can cache or print it.
 */
export const fetchOsVersion = (authed: AuthedClient, timeout: Duration.DurationInput = "10 seconds") =>
  getJson(authed, OLARES_INFO, OlaresInfo, timeout).pipe(
    Effect.tap((read) => checkCode(`GET ${OLARES_INFO}`, read)),
    Effect.map((read) => read.env),
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
  return problem === undefined
    ? Effect.succeed(v)
    : Effect.fail(new InvalidOlaresVersion({ quoted: goQuote(v), reason: problem }))
}
