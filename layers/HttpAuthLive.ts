/**
 * The authenticated transport: every request carries the
 * profile's access token, but only to the profile's own hosts (src/domain/TokenScope.ts); replayable
 * requests refresh once and retry once on 401/403/459 (a 403 to a token granted within 60 s is
 * `PermissionDenied` at once), streaming requests refresh first when the token is within 60 s of
 * expiry. Requests go through the `HttpClients` port, i.e. whatever transport the program provides.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { decodeExpiry, decodeIssuedAt, needsPreflight } from "../src/domain/Jwt.js"
import { mountedTokenFor, type MountState } from "../src/domain/ManagedCredential.js"
import type { OlaresId } from "../src/domain/OlaresId.js"
import { authUrl, parseOlaresId } from "../src/domain/OlaresId.js"
import type { Profile } from "../src/domain/ProfileConfig.js"
import { currentProfile, findProfile } from "../src/domain/ProfileConfig.js"
import { unsafeProfileUrl } from "../src/domain/ProfileUrls.js"
import { isInvalidated } from "../src/domain/StoredToken.js"
import { profileBaseUrl, profileServiceUrl, scopeUrl, TokenScope } from "../src/domain/TokenScope.js"
import {
  AccessTokenRejected,
  NoProfile,
  NotLoggedIn,
  PermissionDenied,
  ProfileNotFound,
  StorageError,
  TimeoutError,
  TokenInvalidated
} from "../src/errors.js"
import type { AuthedClient, HttpAuthError, HttpAuthShape, ResolveError } from "../src/services/HttpAuth.js"
import { HttpAuth } from "../src/services/HttpAuth.js"
import { HttpClients } from "../src/services/HttpClients.js"
import { KeyStore } from "../src/services/KeyStore.js"
import { ManagedMount } from "../src/services/ManagedMount.js"
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

export { profileBaseUrl, profileServiceUrl }

/** A 403 answered to a token granted less than this long ago is a verdict on permission, not on the token. */
export const FRESH_GRANT_MS = 60_000

/** The token a client sends, and when it was granted (our `grantedAt`), if known. */
interface Held {
  readonly token: Redacted.Redacted<string>
  readonly grantedAt: number | undefined
}

/** True when the token was granted within the last 60 s, by our own `grantedAt` or its `iat` claim. */
export const isFreshGrant = (held: Held, nowMs: number): boolean =>
  [held.grantedAt, decodeIssuedAt(Redacted.value(held.token))].some((at) =>
    at !== undefined && at > 0 && nowMs >= at && nowMs - at < FRESH_GRANT_MS
  )

/** Where the coordinator refreshes this profile's grant (records keyed by the id as config.json stores it). */
export const authTargetOf = (profile: Profile, id: OlaresId): AuthTarget => ({
  authUrl: authUrl(id, { authUrlOverride: profile.authUrlOverride, localUrlPrefix: profile.localUrlPrefix }),
  olaresId: id,
  account: profile.olaresId,
  insecureSkipVerify: profile.insecureSkipVerify ?? false
})

// The rejected body is never shown (it can carry a session id); read it only to free the connection.
const drain = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.ignore(Effect.timeout(response.arrayBuffer, "5 seconds"))

// The reference redacts its own header; the platform's default list only knows `authorization`.
const withRedactedAuthHeader = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.locallyWith(effect, Headers.currentRedactedNames, (names) => [...names, "x-authorization"])

// A fetch-based transport follows redirects by default, re-sending our headers to wherever the
// server points: ask it not to, so a 3xx comes back as a response (the Node client never follows).
const withoutFetchRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(
    Effect.serviceOption(FetchHttpClient.RequestInit),
    (init) =>
      Effect.provideService(effect, FetchHttpClient.RequestInit, {
        ...Option.getOrElse(init, () => ({})),
        redirect: "manual"
      })
  )

/** Builds the transport from its dependencies (yielded once, so methods have `R = never`). */
export const make = Effect.gen(function*() {
  const repo = yield* ProfileRepo
  const store = yield* KeyStore
  const coordinator = yield* RefreshCoordinator
  const clients = yield* HttpClients

  const mount = yield* Effect.serviceOption(ManagedMount)

  /** A platform-issued profile's target carries the mount's refresh token, read now (it may be re-issued). */
  const targetOf = (profile: Profile, id: OlaresId): Effect.Effect<AuthTarget> => {
    const target = authTargetOf(profile, id)
    if (profile.managed !== true) return Effect.succeed(target)
    const load = Option.match(mount, {
      onNone: () => Effect.succeed<MountState>({ _tag: "Unset" }),
      onSome: (m) => m.load
    })
    return Effect.map(load, (state) => ({
      ...target,
      managed: { appName: profile.appName ?? "", refreshToken: mountedTokenFor(state, profile.olaresId) }
    }))
  }

  const buildClient = (
    profile: Profile,
    id: OlaresId,
    target: AuthTarget,
    initial: Held
  ): Effect.Effect<HttpClient.HttpClient.With<HttpAuthError>> =>
    Effect.gen(function*() {
      const base = clients.get(profile.insecureSkipVerify ?? false)
      // Shared by every request of this client, so one refresh serves all of them.
      const cell = yield* Ref.make(initial)

      const refreshFrom = (sent: Redacted.Redacted<string>) =>
        Effect.tap(coordinator.refresh(target, sent), (fresh) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            // Only replace what we sent: a concurrent request may already have stored something newer.
            Ref.update(cell, (cur) =>
              Redacted.value(cur.token) === Redacted.value(sent) ? { token: fresh, grantedAt: now } : cur)))

      const send = (request: HttpClientRequest.HttpClientRequest, token: Redacted.Redacted<string>) =>
        withoutFetchRedirects(withRedactedAuthHeader(base.execute(authorize(request, token))))

      const timed = <E>(
        request: HttpClientRequest.HttpClientRequest,
        effect: Effect.Effect<HttpClientResponse.HttpClientResponse, E>
      ) =>
        Effect.timeoutFail(effect, {
          duration: `${REQUEST_TIMEOUT_SECONDS} seconds`,
          onTimeout: () =>
            new TimeoutError({ endpoint: request.url, seconds: REQUEST_TIMEOUT_SECONDS })
        })

      const replayable = (request: HttpClientRequest.HttpClientRequest) =>
        Effect.gen(function*() {
          const sent = yield* Ref.get(cell)
          const first = yield* timed(request, send(request, sent.token))
          if (!isAuthRejection(first.status)) return first
          yield* drain(first)
          // A token granted moments ago is not stale: a 403 to it is about permission, and a refresh
          // would only rotate the grant (five forbidden calls must not cost five refreshes).
          if (first.status === 403 && isFreshGrant(sent, yield* Clock.currentTimeMillis)) {
            return yield* Effect.fail(new PermissionDenied({ olaresId: id }))
          }
          const fresh = yield* refreshFrom(sent.token)
          // Exactly one retry; whatever it answers is final (no refresh loops on auth errors).
          const second = yield* timed(request, send(request, fresh))
          if (!isAuthRejection(second.status)) return second
          yield* drain(second)
          return yield* Effect.fail(rejection(id, second.status))
        })

      const streaming = (request: HttpClientRequest.HttpClientRequest) =>
        Effect.gen(function*() {
          let token = (yield* Ref.get(cell)).token
          const now = yield* Clock.currentTimeMillis
          // A stream can be sent only once, so a token about to expire is refreshed before sending.
          if (needsPreflight(Redacted.value(token), now)) token = yield* refreshFrom(token)
          const response = yield* send(request, token)
          if (!isAuthRejection(response.status)) return response
          yield* drain(response)
          return yield* Effect.fail(rejection(id, response.status))
        })

      // Every attempt passes here, including one a `followRedirects` wrapper makes for a Location:
      // resolve, then check the origin, before the token is attached.
      const scoped = (request: HttpClientRequest.HttpClientRequest) =>
        Effect.flatMap(TokenScope, (scope) =>
          Either.match(scopeUrl(profile, id, request.url, scope), {
            onLeft: Effect.fail,
            onRight: (url) => Effect.succeed(HttpClientRequest.setUrl(request, url))
          }))

      return HttpClient.makeWith(
        (effect: Effect.Effect<HttpClientRequest.HttpClientRequest>) =>
          Effect.flatMap(Effect.flatMap(effect, scoped), (resolved) =>
            isReplayable(resolved.body) ? replayable(resolved) : streaming(resolved)),
        Effect.succeed
      )
    })

  const resolve = Effect.fn("HttpAuth.forProfile")(
    function*(profile: Profile) {
      const id = yield* parseOlaresId(profile.olaresId)
      // an old config.json may hold a prefix or override that moves the host: no token goes there
      const unsafe = unsafeProfileUrl(profile)
      if (unsafe !== undefined) return yield* Effect.fail(unsafe)
      // The key-store account is the id as config.json holds it: the Go CLI stores a bare `alice` so.
      const account = profile.olaresId
      const target = yield* targetOf(profile, id)
      const managedApp = target.managed?.appName
      const stored = yield* store.get(account)
      let record = Option.getOrUndefined(stored)
      if (record !== undefined && isInvalidated(record)) {
        return yield* Effect.fail(
          new TokenInvalidated({ olaresId: account, invalidatedAt: record.invalidatedAt ?? 0, managedApp })
        )
      }
      if (target.managed !== undefined && (record === undefined || Redacted.value(record.accessToken) === "")) {
        // Not exchanged yet (the start-up exchange could not reach the server): exchange the mount now.
        if (Option.isNone(target.managed.refreshToken)) {
          return yield* Effect.fail(new NotLoggedIn({ olaresId: account, managedApp }))
        }
        const fresh = yield* coordinator.refresh(target, Redacted.make(""))
        record = { olaresId: account, accessToken: fresh }
      }
      if (record === undefined) return yield* Effect.fail(new NotLoggedIn({ olaresId: account }))
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
      const client = yield* buildClient(profile, id, target, { token: record.accessToken, grantedAt: record.grantedAt })
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

  // A name or olaresId is looked up like `profile use` does; config.json is not changed.
  const byKey = (key: string): Effect.Effect<AuthedClient, ResolveError | ProfileNotFound> =>
    Effect.gen(function*() {
      const found = findProfile(yield* repo.load, key)
      if (Option.isNone(found)) return yield* Effect.fail(new ProfileNotFound({ key }))
      return yield* resolve(found.value)
    })

  const forProfile =
    ((p: Profile | string) => (typeof p === "string" ? byKey(p) : resolve(p))) as HttpAuthShape["forProfile"]

  const current = Effect.gen(function*() {
    const config = yield* repo.load
    const profile = yield* Option.match(currentProfile(config), {
      onNone: () => Effect.fail(new NoProfile()),
      onSome: Effect.succeed
    })
    return yield* resolve(profile)
  }).pipe(Effect.withSpan("HttpAuth.current"))

  return HttpAuth.of({ current, forProfile })
})

/** The live transport. */
export const HttpAuthLive: Layer.Layer<HttpAuth, never, ProfileRepo | KeyStore | RefreshCoordinator | HttpClients> =
  Layer.effect(HttpAuth, make)
