/**
 * The Olares auth wire protocol over @effect/platform's HttpClient: `/api/firstfactor`, the TOTP
 * `/api/secondfactor/totp` (with the first response's cookies) and `/api/refresh`, each mapped onto
 * the typed errors of `src/errors.ts`. Request bodies are never echoed; response bodies only cut.
 */
import * as Cookies from "@effect/platform/Cookies"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { createHash } from "node:crypto"
import { parseJson } from "../src/domain/Json.js"
import { localPart, loginTargetUrl } from "../src/domain/OlaresId.js"
import { isHeaderSafe, scrubText, SNIPPET_CHARS, summariseBody } from "../src/domain/Scrub.js"
import type { TransportError } from "../src/errors.js"
import { HttpStatusError, LoginRejected, ResponseDecodeError, TimeoutError, TotpRequired } from "../src/errors.js"
import { readBody, toTransportError } from "../src/http/HttpReply.js"
import { HttpClients } from "../src/services/HttpClients.js"
import { type AuthTarget, OlaresAuthApi, RefreshRejected, type TokenGrant } from "../src/services/OlaresAuthApi.js"

/** Endpoint names used in errors (no host, no query). */
export const Endpoint = {
  firstFactor: "/api/firstfactor",
  secondFactor: "/api/secondfactor/totp",
  refresh: "/api/refresh"
} as const

/** Timeout of each login call (firstfactor, secondfactor). */
export const LOGIN_TIMEOUT = Duration.seconds(10)

/** At most this many bytes of a response are read; a larger body is refused, never buffered. */
export const MAX_RESPONSE_BYTES = 1024 * 1024

/** How much of an error body is echoed. */
export const ERROR_BODY_CHARS = SNIPPET_CHARS

/** Lower-case hex md5 of `password + "@Olares2025"`: an Olares wire quirk, not a security measure. */
export const saltedPasswordHash = (password: string): string =>
  createHash("md5").update(password + "@Olares2025", "utf8").digest("hex")

/**
 * An error body as our messages show it (`src/domain/Scrub.ts`): the secrets the request carried
 * masked, a JSON body summarised (status/message only), controls removed, cut to 256 characters
 * plus `...(truncated)` like the reference. A hostile server must neither drive the user's
 * terminal nor get our own secrets printed back through it.
 */
export const truncateBody = (body: string, secrets: ReadonlyArray<string> = []): string => summariseBody(body, secrets)

/** The token strings of a reply's `data` (masked too: a failing reply may carry the grant it refused to complete). */
const dataSecrets = (data: unknown): Array<string> =>
  typeof data === "object" && data !== null
    ? ["access_token", "refresh_token", "session_id"].flatMap((k) => {
      const v = (data as Record<string, unknown>)[k]
      return typeof v === "string" ? [v] : []
    })
    : []

/**
 * What an error message shows of a refusal's body: the envelope's `message` when it is JSON with
 * one (a JSON body itself may carry tokens, so it is never echoed whole), else the body cut. The one
 * place error bodies of the login calls are formatted.
 */
const errorBodyText = (endpoint: string, reply: RawReply, secrets: ReadonlyArray<string>): string => {
  const env = decodeEnvelope(endpoint, reply, secrets)
  return Either.isRight(env) && env.right.message !== ""
    ? scrubText(env.right.message, [...secrets, ...dataSecrets(env.right.data)])
    : truncateBody(reply.body, secrets)
}

const REFRESH_REJECTED = new Set([401, 403, 459])

// ---------------------------------------------------------------------------------------------
// Transport: send, read at most MAX_RESPONSE_BYTES, map failures
// ---------------------------------------------------------------------------------------------

interface RawReply {
  readonly status: number
  readonly body: string
  readonly tooLarge: boolean
}

/** Reads at most MAX_RESPONSE_BYTES of a reply; a larger one is flagged, never buffered whole. */
const readReply = (res: HttpClientResponse.HttpClientResponse) =>
  Effect.map(
    readBody(res, MAX_RESPONSE_BYTES),
    (b): RawReply => ({ status: res.status, body: b.text, tooLarge: b.tooLarge })
  )

/** Sends one request and reads its reply, with the endpoint's timeout; the connection is released after. */
const exchange = (
  client: HttpClient.HttpClient,
  endpoint: string,
  request: HttpClientRequest.HttpClientRequest,
  timeout: Duration.DurationInput
): Effect.Effect<RawReply, TransportError | TimeoutError> => {
  return client.pipe(HttpClient.withScope).execute(request).pipe(
    Effect.flatMap(readReply),
    Effect.scoped,
    Effect.mapError(toTransportError(endpoint, request.url)),
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () => new TimeoutError({ endpoint, seconds: Duration.toSeconds(Duration.decode(timeout)) })
    })
  )
}

// ---------------------------------------------------------------------------------------------
// Decoding the Authelia envelope
// ---------------------------------------------------------------------------------------------

const NullableString = Schema.optional(Schema.NullOr(Schema.String))

const Envelope = Schema.Struct({
  status: NullableString,
  message: NullableString,
  data: Schema.optional(Schema.Unknown)
})

const TokenData = Schema.Struct({
  access_token: NullableString,
  token_type: NullableString,
  refresh_token: NullableString,
  session_id: NullableString,
  fa2: Schema.optional(Schema.NullOr(Schema.Boolean))
})

type TokenData = typeof TokenData.Type

// Only the paths of a schema failure are reported: the values could be tokens.
const shapeProblem = (error: ParseResult.ParseError, prefix: string): string => {
  const paths = ParseResult.ArrayFormatter.formatErrorSync(error).map((i) =>
    [prefix, ...i.path.map(String)].filter((p) => p !== "").join(".")
  )
  return `unexpected response shape (${Array.from(new Set(paths)).join(", ") || "root"})`
}

interface Decoded {
  readonly status: string
  readonly message: string
  readonly data: unknown
}

/** JSON + envelope; a non-JSON body is echoed scrubbed and cut, a JSON one never (it may hold tokens). */
const decodeEnvelope = (
  endpoint: string,
  reply: RawReply,
  secrets: ReadonlyArray<string>
): Either.Either<Decoded, ResponseDecodeError> => {
  const fail = (detail: string) => Either.left(new ResponseDecodeError({ endpoint, detail }))
  if (reply.tooLarge) return fail(`response body is larger than ${MAX_RESPONSE_BYTES} bytes; refusing to read it`)
  if (reply.body.trim() === "") return fail("empty response body (expected JSON)")
  const parsed = parseJson(reply.body)
  if (!parsed.ok) {
    return fail(
      parsed.tooDeep
        ? `response is not usable: ${parsed.reason}`
        : `response is not JSON (body=${truncateBody(reply.body, secrets)})`
    )
  }
  const json = parsed.value
  return Schema.decodeUnknownEither(Envelope)(json).pipe(
    Either.mapLeft((e) => new ResponseDecodeError({ endpoint, detail: shapeProblem(e, "") })),
    Either.map((env) => ({ status: env.status ?? "", message: env.message ?? "", data: env.data }))
  )
}

const decodeTokenData = (endpoint: string, data: unknown): Either.Either<TokenData, ResponseDecodeError> => {
  if (data === undefined || data === null) {
    return Either.left(new ResponseDecodeError({ endpoint, detail: "response has no data" }))
  }
  return Schema.decodeUnknownEither(TokenData)(data).pipe(
    Either.mapLeft((e) => new ResponseDecodeError({ endpoint, detail: shapeProblem(e, "data") }))
  )
}

const isOk = (status: string) => status.toLowerCase() === "ok"

const statusText = (d: Decoded, sent: ReadonlyArray<string>) => {
  const secrets = [...sent, ...dataSecrets(d.data)]
  return `${scrubText(d.status, secrets)}${d.message === "" ? "" : `: ${scrubText(d.message, secrets)}`}`
}

/** A token that cannot travel in a header value (CR/LF, controls, spaces, non-ASCII) is refused before it is stored. */
const checkHeaderSafe = (endpoint: string, d: TokenData): Either.Either<TokenData, ResponseDecodeError> => {
  const bad = (["access_token", "refresh_token"] as const).find((k) => {
    const v = d[k]
    return v !== undefined && v !== null && v !== "" && !isHeaderSafe(v)
  })
  return bad === undefined ? Either.right(d) : Either.left(
    new ResponseDecodeError({
      endpoint,
      detail:
        `the server returned a ${bad} that cannot be sent in an HTTP header (control characters, spaces or non-ASCII); refusing to store it`
    })
  )
}

const nonEmpty = (s: string | null | undefined): Option.Option<string> =>
  s === undefined || s === null || s === "" ? Option.none() : Option.some(s)

const toGrant = (d: TokenData, accessToken: string): TokenGrant => ({
  accessToken: Redacted.make(accessToken),
  refreshToken: Option.map(nonEmpty(d.refresh_token), Redacted.make),
  sessionId: nonEmpty(d.session_id),
  ...(d.fa2 === true ? { fa2: true } : {})
})

/** A login step's reply: 401 and non-OK statuses are verdicts on the credential, the rest transient. */
const loginReply = (
  endpoint: string,
  factor: "first-factor" | "second-factor",
  reply: RawReply,
  secrets: ReadonlyArray<string>
): Effect.Effect<
  { readonly data: TokenData; readonly accessToken: string },
  LoginRejected | HttpStatusError | ResponseDecodeError
> => {
  if (reply.status === 401) {
    // The reference's `<endpoint> returned HTTP 401: <body>`; a verdict on the credential (exit 4).
    return Effect.fail(new LoginRejected({ endpoint, status: 401, detail: errorBodyText(endpoint, reply, secrets) }))
  }
  if (reply.status !== 200) {
    return Effect.fail(new HttpStatusError({ endpoint, status: reply.status, body: truncateBody(reply.body, secrets) }))
  }
  return Effect.gen(function*() {
    const env = yield* decodeEnvelope(endpoint, reply, secrets)
    if (!isOk(env.status)) {
      return yield* new LoginRejected({
        endpoint,
        detail: `${factor} authentication failed: ${statusText(env, secrets)}`
      })
    }
    const data = yield* Either.flatMap(decodeTokenData(endpoint, env.data), (d) => checkHeaderSafe(endpoint, d))
    const accessToken = data.access_token ?? ""
    if (accessToken === "") {
      return yield* new ResponseDecodeError({ endpoint, detail: "response carried an empty access_token" })
    }
    return { data, accessToken }
  })
}

const jsonPost = (url: string, body: string) =>
  HttpClientRequest.post(url).pipe(
    HttpClientRequest.setHeader("Accept", "application/json"),
    HttpClientRequest.bodyText(body, "application/json")
  )

// ---------------------------------------------------------------------------------------------
// The layer
// ---------------------------------------------------------------------------------------------

/** `OlaresAuthApi` over the shared `HttpClients`. */
export const OlaresAuthApiLive: Layer.Layer<OlaresAuthApi, never, HttpClients> = Layer.effect(
  OlaresAuthApi,
  Effect.gen(function*() {
    const clients = yield* HttpClients

    const login = Effect.fn("OlaresAuthApi.login")(function*(
      target: AuthTarget,
      password: Redacted.Redacted<string>,
      totp: Option.Option<Redacted.Redacted<string>>
    ) {
      // one cookie jar per login: the Authelia session of the first factor is what the second needs
      const jar = yield* Ref.make(Cookies.empty)
      const client = clients.get(target.insecureSkipVerify).pipe(HttpClient.withCookiesRef(jar))
      const desktop = loginTargetUrl(target.olaresId)
      const firstBody = JSON.stringify({
        username: localPart(target.olaresId),
        password: saltedPasswordHash(Redacted.value(password)),
        keepMeLoggedIn: false,
        requestMethod: "POST",
        targetURL: desktop,
        acceptCookie: true
      })
      const firstReply = yield* exchange(
        client,
        Endpoint.firstFactor,
        jsonPost(`${target.authUrl}/api/firstfactor?hideCookie=true`, firstBody),
        LOGIN_TIMEOUT
      )
      const sentFirst = [Redacted.value(password), saltedPasswordHash(Redacted.value(password))]
      const first = yield* loginReply(Endpoint.firstFactor, "first-factor", firstReply, sentFirst)
      if (first.data.fa2 !== true) return toGrant(first.data, first.accessToken)

      if (Option.isNone(totp)) return yield* new TotpRequired()
      const secondBody = JSON.stringify({ targetUrl: desktop, token: Redacted.value(totp.value).trim() })
      const secondReply = yield* exchange(
        client,
        Endpoint.secondFactor,
        jsonPost(`${target.authUrl}/api/secondfactor/totp`, secondBody).pipe(
          HttpClientRequest.setHeader("X-Authorization", first.accessToken),
          HttpClientRequest.setHeader("X-Unauth-Error", "Non-Redirect")
        ),
        LOGIN_TIMEOUT
      )
      // what the second request carried: the first token, the TOTP code and the session cookies
      const cookies = Object.values((yield* Ref.get(jar)).cookies).map((c) => c.value)
      const sentSecond = [...sentFirst, ...dataSecrets(first.data), Redacted.value(totp.value), ...cookies]
      const second = yield* loginReply(Endpoint.secondFactor, "second-factor", secondReply, sentSecond)
      const grant = toGrant(second.data, second.accessToken)
      return Option.isSome(grant.sessionId) ? grant : { ...grant, sessionId: nonEmpty(first.data.session_id) }
    })

    const refresh = Effect.fn("OlaresAuthApi.refresh")(function*(
      target: AuthTarget,
      refreshToken: Redacted.Redacted<string>,
      accessToken: Option.Option<Redacted.Redacted<string>>,
      timeout: Duration.DurationInput
    ) {
      const endpoint = Endpoint.refresh
      const body = JSON.stringify({ refreshToken: Redacted.value(refreshToken) })
      let request = jsonPost(`${target.authUrl}/api/refresh`, body)
      if (Option.isSome(accessToken)) {
        request = HttpClientRequest.setHeader(request, "X-Authorization", Redacted.value(accessToken.value))
      }
      const reply = yield* exchange(clients.get(target.insecureSkipVerify), endpoint, request, timeout)
      const sent = [Redacted.value(refreshToken), ...Option.toArray(Option.map(accessToken, Redacted.value))]
      if (REFRESH_REJECTED.has(reply.status)) return yield* new RefreshRejected({ status: reply.status })
      if (reply.status !== 200) {
        return yield* new HttpStatusError({ endpoint, status: reply.status, body: truncateBody(reply.body, sent) })
      }
      const env = yield* decodeEnvelope(endpoint, reply, sent)
      if (!isOk(env.status)) {
        return yield* new ResponseDecodeError({ endpoint, detail: `refresh failed: ${statusText(env, sent)}` })
      }
      const data = yield* Either.flatMap(decodeTokenData(endpoint, env.data), (d) => checkHeaderSafe(endpoint, d))
      const access = data.access_token ?? ""
      if (access === "") {
        return yield* new ResponseDecodeError({ endpoint, detail: "refresh returned empty access_token" })
      }
      return toGrant(data, access)
    })

    return OlaresAuthApi.of({ login, refresh })
  })
)
