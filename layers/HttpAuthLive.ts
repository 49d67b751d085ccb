/**
 * The authenticated transport (spec section 7, reference notes 6.2-6.4): every request carries the
 * profile's access token; replayable requests refresh once and retry once on 401/403/459, streaming
 * requests refresh first when the token is within 60 s of expiry.
 */
import * as Headers from "@effect/platform/Headers"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type { Profile } from "../src/domain/Config.js"
import { currentProfile } from "../src/domain/Config.js"
import { decodeExpiry, needsPreflight } from "../src/domain/Jwt.js"
import type { OlaresId } from "../src/domain/OlaresId.js"
import { authUrl, desktopUrl, parseOlaresId, serviceUrl } from "../src/domain/OlaresId.js"
import { unsafeProfileUrl } from "../src/domain/ProfileUrls.js"
import { isInvalidated } from "../src/domain/StoredToken.js"
import {
  AccessTokenRejected,
  NoProfile,
  NotLoggedIn,
  PermissionDenied,
  StorageError,
  TimeoutError,
  TokenInvalidated
} from "../src/errors.js"
import type { AuthedClient, HttpAuthError, ResolveError } from "../src/services/HttpAuth.js"
import { HttpAuth } from "../src/services/HttpAuth.js"
import { HttpClients } from "../src/services/HttpClients.js"
import { KeyStore } from "../src/services/KeyStore.js"
import type { AuthTarget } from "../src/services/OlaresAuthApi.js"
import { ProfileRepo } from "../src/services/ProfileRepo.js"
import { RefreshCoordinator } from "../src/services/RefreshCoordinator.js"

/** Overall timeout of one attempt of a replayable request (streams are untimed). */
export const REQUEST_TIMEOUT_SECONDS = 30

/** Statuses that make the transport refresh (401 Authelia, 403 edge, 459 second factor wanted). */
export const isAuthRejection = (status: number): boolean => status === 401 || status === 403 || status === 459

const isStreamLike = (u: unknown): boolean =>
  typeof u === "object" && u !== null &&
  (typeof (u as { pipe?: unknown }).pipe === "function" ||
    typeof (u as { getReader?: unknown }).getReader === "function" ||
    Symbol.asyncIterator in u)

/** A body that can be sent twice: empty, bytes, text/JSON, form data. Streams (files, pipes) cannot. */
export const isReplayable = (body: HttpBody.HttpBody): boolean => {
  switch (body._tag) {
    case "Stream":
      return false
    case "Raw":
      return !isStreamLike(body.body)
    default:
      return true
  }
}

/** The three auth headers of the reference transport; an empty token leaves the request unchanged. */
export const authorize = (
  request: HttpClientRequest.HttpClientRequest,
  token: Redacted.Redacted<string>
): HttpClientRequest.HttpClientRequest => {
  const value = Redacted.value(token)
  if (value === "") return request
  const cookie = request.headers["cookie"]
  const authCookie = `auth_token=${value}`
  return HttpClientRequest.setHeaders(request, {
    "x-authorization": value,
    "cookie": cookie === undefined || cookie === "" ? authCookie : `${cookie}; ${authCookie}`,
    "x-unauth-error": "Non-Redirect"
  })
}

/** The typed failure for a request the server still refused after the transport did all it may. */
export const rejection = (olaresId: string, status: number): AccessTokenRejected | PermissionDenied =>
  status === 403 ? new PermissionDenied({ olaresId }) : new AccessTokenRejected({ olaresId, status })

const originOf = (url: string): Option.Option<string> => {
  try {
    return Option.some(new URL(url).origin)
  } catch {
    return Option.none()
  }
}

const hasOverride = (p: Profile): p is Profile & { readonly authUrlOverride: string } =>
  p.authUrlOverride !== undefined && p.authUrlOverride !== ""

/** `baseUrl` of a profile: the override's origin when set (loopback tests), else the desktop host. */
export const profileBaseUrl = (profile: Profile, id: OlaresId): string =>
  hasOverride(profile)
    ? Option.getOrElse(originOf(profile.authUrlOverride), () => authUrl(id, profile))
    : desktopUrl(id, { localUrlPrefix: profile.localUrlPrefix })

/** `serviceUrl` of a profile: with an override every service is the override's origin. */
export const profileServiceUrl = (profile: Profile, id: OlaresId) => (service: string): string =>
  hasOverride(profile)
    ? Option.getOrElse(originOf(profile.authUrlOverride), () => authUrl(id, profile))
    : serviceUrl(service, id, { localUrlPrefix: profile.localUrlPrefix })

/** Where the coordinator refreshes this profile's grant. */
export const authTargetOf = (profile: Profile, id: OlaresId): AuthTarget => ({
  authUrl: authUrl(id, { authUrlOverride: profile.authUrlOverride, localUrlPrefix: profile.localUrlPrefix }),
  olaresId: id,
  insecureSkipVerify: profile.insecureSkipVerify ?? false
})

// The rejected body is never shown (it can carry a session id); read it only to free the connection.
const drain = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.ignore(Effect.timeout(response.arrayBuffer, "5 seconds"))

// The reference redacts its own header; the platform's default list only knows `authorization`.
const withRedactedAuthHeader = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.locallyWith(effect, Headers.currentRedactedNames, (names) => [...names, "x-authorization"])

/** Builds the transport from its dependencies (yielded once, so methods have `R = never`). */
export const make = Effect.gen(function*() {
  const repo = yield* ProfileRepo
  const store = yield* KeyStore
  const coordinator = yield* RefreshCoordinator
  const clients = yield* HttpClients

  const buildClient = (
    profile: Profile,
    id: OlaresId,
    initial: Redacted.Redacted<string>
  ): Effect.Effect<HttpClient.HttpClient.With<HttpAuthError>> =>
    Effect.gen(function*() {
      const base = clients.get(profile.insecureSkipVerify ?? false)
      const target = authTargetOf(profile, id)
      const baseUrl = profileBaseUrl(profile, id)
      // Shared by every request of this client, so one refresh serves all of them.
      const cell = yield* Ref.make(initial)

      const refreshFrom = (sent: Redacted.Redacted<string>) =>
        Effect.tap(coordinator.refresh(target, sent), (fresh) =>
          // Only replace what we sent: a concurrent request may already have stored something newer.
          Ref.update(cell, (cur) => (Redacted.value(cur) === Redacted.value(sent) ? fresh : cur)))

      const send = (request: HttpClientRequest.HttpClientRequest, token: Redacted.Redacted<string>) =>
        withRedactedAuthHeader(base.execute(authorize(request, token)))

      const timed = <E>(
        request: HttpClientRequest.HttpClientRequest,
        effect: Effect.Effect<HttpClientResponse.HttpClientResponse, E>
      ) =>
        Effect.timeoutFail(effect, {
          duration: `${REQUEST_TIMEOUT_SECONDS} seconds`,
          onTimeout: () => new TimeoutError({ endpoint: request.url, seconds: REQUEST_TIMEOUT_SECONDS })
        })

      const replayable = (request: HttpClientRequest.HttpClientRequest) =>
        Effect.gen(function*() {
          const sent = yield* Ref.get(cell)
          const first = yield* timed(request, send(request, sent))
          if (!isAuthRejection(first.status)) return first
          yield* drain(first)
          const fresh = yield* refreshFrom(sent)
          // Exactly one retry; whatever it answers is final (no refresh loops on auth errors).
          const second = yield* timed(request, send(request, fresh))
          if (!isAuthRejection(second.status)) return second
          yield* drain(second)
          return yield* Effect.fail(rejection(id, second.status))
        })

      const streaming = (request: HttpClientRequest.HttpClientRequest) =>
        Effect.gen(function*() {
          let token = yield* Ref.get(cell)
          const now = yield* Clock.currentTimeMillis
          // A stream can be sent only once, so a token about to expire is refreshed before sending.
          if (needsPreflight(Redacted.value(token), now)) token = yield* refreshFrom(token)
          const response = yield* send(request, token)
          if (!isAuthRejection(response.status)) return response
          yield* drain(response)
          return yield* Effect.fail(rejection(id, response.status))
        })

      const resolveUrl = (request: HttpClientRequest.HttpClientRequest) =>
        request.url.startsWith("/") ? HttpClientRequest.prependUrl(request, baseUrl) : request

      return HttpClient.makeWith(
        (effect: Effect.Effect<HttpClientRequest.HttpClientRequest>) =>
          Effect.flatMap(effect, (request) => {
            const resolved = resolveUrl(request)
            return isReplayable(resolved.body) ? replayable(resolved) : streaming(resolved)
          }),
        Effect.succeed
      )
    })

  const forProfile = Effect.fn("HttpAuth.forProfile")(
    function*(profile: Profile) {
      const id = yield* parseOlaresId(profile.olaresId)
      // an old config.json may hold a prefix or override that moves the host: no token goes there
      const unsafe = unsafeProfileUrl(profile)
      if (unsafe !== undefined) return yield* Effect.fail(unsafe)
      const stored = yield* store.get(id)
      if (Option.isNone(stored)) return yield* Effect.fail(new NotLoggedIn({ olaresId: id }))
      const record = stored.value
      if (isInvalidated(record)) {
        return yield* Effect.fail(new TokenInvalidated({ olaresId: id, invalidatedAt: record.invalidatedAt ?? 0 }))
      }
      const expiry = decodeExpiry(Redacted.value(record.accessToken))
      if (expiry._tag === "Unparseable") {
        return yield* Effect.fail(
          new StorageError({
            path: `token store (olares-cli/${id})`,
            detail: `decode access token: ${expiry.reason}`,
            hint: `olares-cli profile login --olares-id ${id}`
          })
        )
      }
      // Expired tokens are still handed out: the transport refreshes on the first rejection.
      const client = yield* buildClient(profile, id, record.accessToken)
      const authed: AuthedClient = {
        profile,
        olaresId: id,
        baseUrl: profileBaseUrl(profile, id),
        serviceUrl: profileServiceUrl(profile, id),
        client
      }
      return authed
    },
    (effect): Effect.Effect<AuthedClient, ResolveError> => effect
  )

  const current = Effect.gen(function*() {
    const config = yield* repo.load
    const profile = yield* Option.match(currentProfile(config), {
      onNone: () => Effect.fail(new NoProfile()),
      onSome: Effect.succeed
    })
    return yield* forProfile(profile)
  }).pipe(Effect.withSpan("HttpAuth.current"))

  return HttpAuth.of({ current, forProfile })
})

/** The live transport. */
export const HttpAuthLive: Layer.Layer<HttpAuth, never, ProfileRepo | KeyStore | RefreshCoordinator | HttpClients> =
  Layer.effect(HttpAuth, make)
