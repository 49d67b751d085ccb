/** The two profile-level reads: role (`/api/backend/v1/user-info`) and OS version (`/api/olares-info`). */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { HttpStatusError, ResponseDecodeError, TimeoutError, TransportError } from "./errors.js"
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

/** GET through the authenticated client; non-2xx, timeouts and bad JSON become typed transient errors. */
const getJson = <A, I>(authed: AuthedClient, path: string, schema: Schema.Schema<A, I>, timeout: Duration.DurationInput) => {
  const url = authed.baseUrl + path
  return authed.client.execute(HttpClientRequest.get(url, { acceptJson: true })).pipe(
    Effect.flatMap((res) =>
      Effect.flatMap(res.text, (text): Effect.Effect<A, HttpStatusError | ResponseDecodeError> => {
        const body = text.length > MAX_BODY ? text.slice(0, MAX_BODY) : text
        if (res.status < 200 || res.status >= 300) {
          return Effect.fail(
            new HttpStatusError({ endpoint: `GET ${path}`, status: res.status, body: body.slice(0, 200) })
          )
        }
        return Either.match(Schema.decodeUnknownEither(Schema.parseJson(schema))(body), {
          onLeft: () =>
            Effect.fail(new ResponseDecodeError({ endpoint: `GET ${path}`, detail: `response is not the expected JSON (body=${JSON.stringify(body.slice(0, 200))})` })),
          onRight: Effect.succeed
        })
      })
    ),
    Effect.timeoutFail({ duration: timeout, onTimeout: () => new TimeoutError({ endpoint: `GET ${path}`, seconds: Duration.toSeconds(timeout) }) }),
    Effect.catchTags({
      RequestError: (e: HttpClientError.RequestError) => Effect.fail(new TransportError({ endpoint: `GET ${path}`, detail: e.cause instanceof Error ? e.cause.message : e.message })),
      ResponseError: (e: HttpClientError.ResponseError) => Effect.fail(new TransportError({ endpoint: `GET ${path}`, detail: e.message }))
    })
  )
}

const checkCode = (what: string, env: { code?: number | undefined; message?: string | undefined }) =>
  env.code === undefined || env.code === 0 || env.code === 200
    ? Effect.void
    : Effect.fail(new ResponseDecodeError({ endpoint: what, detail: env.message !== undefined && env.message !== "" ? env.message : `server returned code=${env.code}` }))

/** The server's view of the user: name and owner role. */
export const fetchUserInfo = (authed: AuthedClient, timeout: Duration.DurationInput = "10 seconds") =>
  getJson(authed, USER_INFO, UserInfo, timeout).pipe(
    Effect.tap((env) => checkCode("whoami", env)),
    Effect.map((env) => ({ name: env.data?.name, ownerRole: env.data?.owner_role }))
  )

/** The Olares OS version string, e.g. `1.12.6` or `1.12.6-20260603`. */
export const fetchOsVersion = (authed: AuthedClient, timeout: Duration.DurationInput = "10 seconds") =>
  getJson(authed, OLARES_INFO, OlaresInfo, timeout).pipe(
    Effect.tap((env) => checkCode("olares-info", env)),
    Effect.flatMap((env) => {
      const v = env.data?.osVersion ?? ""
      return v === ""
        ? Effect.fail(new ResponseDecodeError({ endpoint: "GET /api/olares-info", detail: "response did not include an osVersion" }))
        : Effect.succeed(v)
    })
  )
