/** HttpAuthLive against a real loopback HTTP server (reference notes 6.1-6.4, 10.6). */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { createServer } from "node:http"
import type { IncomingHttpHeaders, Server, ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { HttpAuthLive, isReplayable } from "../../layers/HttpAuthLive.js"
import { makeMemory } from "../../layers/KeyStoreMemory.js"
import { RefreshCoordinatorLive } from "../../layers/RefreshCoordinatorLive.js"
import type { Profile, ProfileConfig } from "../../src/domain/ProfileConfig.js"
import type { StoredToken } from "../../src/domain/StoredToken.js"
import { TransportError } from "../../src/errors.js"
import type { TransientHttpError } from "../../src/errors.js"
import { AppPaths } from "../../src/services/AppPaths.js"
import { FileLock } from "../../src/services/FileLock.js"
import { HttpAuth } from "../../src/services/HttpAuth.js"
import { HttpClients } from "../../src/services/HttpClients.js"
import { KeyStore } from "../../src/services/KeyStore.js"
import { OlaresAuthApi, RefreshRejected } from "../../src/services/OlaresAuthApi.js"
import type { TokenGrant } from "../../src/services/OlaresAuthApi.js"
import { ProfileRepo } from "../../src/services/ProfileRepo.js"
import { recordSecret } from "../support/leaks.js"

// ---------------------------------------------------------------------------------------------
// A small loopback server: accepts the tokens in `valid`, answers `rejectWith` to anything else.
// ---------------------------------------------------------------------------------------------

interface Hit {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

const server = {
  valid: new Set<string>(),
  rejectWith: 401,
  hits: [] as Array<Hit>,
  url: "",
  instance: undefined as Server | undefined,
  /** Responses held open by `/hang` paths, ended between tests. */
  held: [] as Array<ServerResponse>
}

/** Polls (real time) until the server has seen what a test waits for. */
const waitFor = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10))
  if (!cond()) throw new Error("timed out waiting for the loopback server")
}

const hitsFor = (path: string) => server.hits.filter((h) => h.path === path)

beforeAll(() =>
  new Promise<void>((resolve) => {
    const srv = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        const hit: Hit = {
          method: req.method ?? "",
          path: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8")
        }
        server.hits.push(hit)
        if (hit.path.startsWith("/hang")) {
          server.held.push(res)
          return
        }
        const token = req.headers["x-authorization"]
        if (typeof token === "string" && server.valid.has(token)) {
          res.writeHead(200, { "content-type": "application/json" })
          res.end(JSON.stringify({ ok: true, path: hit.path, body: hit.body }))
        } else {
          res.writeHead(server.rejectWith, { "content-type": "application/json" })
          res.end(JSON.stringify({ status: "KO", message: "Unauthorized", session_id: "leaky-session-id" }))
        }
      })
    })
    srv.listen(0, "127.0.0.1", () => {
      server.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`
      server.instance = srv
      resolve()
    })
  })
)

afterAll(() =>
  new Promise<void>((resolve) => {
    server.instance?.closeAllConnections()
    server.instance?.close(() => resolve())
  })
)

beforeEach(() => {
  for (const res of server.held) res.destroy()
  server.held = []
  server.valid = new Set()
  server.rejectWith = 401
  server.hits = []
})

// ---------------------------------------------------------------------------------------------
// Test doubles for everything but HTTP.
// ---------------------------------------------------------------------------------------------

const ID = "alice@olares.com"

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url")

/** An unsigned but well-formed JWT whose `exp` is `expSec` (seconds); `tag` keeps tokens distinct. */
const jwt = (expSec: number | undefined, tag: string): string => {
  const token = `${b64url({ alg: "HS512", typ: "JWT" })}.${b64url({ exp: expSec, jti: tag })}.c2lnbmF0dXJl`
  recordSecret(token)
  return token
}

const record = (at: string, extra: Partial<StoredToken> = {}): StoredToken => ({
  olaresId: ID,
  accessToken: Redacted.make(at),
  refreshToken: Redacted.make("refresh-token-0"),
  ...extra
})

const grant = (at: string): TokenGrant => ({
  accessToken: Redacted.make(at),
  refreshToken: Option.some(Redacted.make("refresh-token-1")),
  sessionId: Option.none()
})

interface Setup {
  readonly profiles?: ReadonlyArray<Profile>
  readonly config?: ProfileConfig
  readonly records?: ReadonlyArray<StoredToken>
  /** What `/api/refresh` answers (through the fake protocol). */
  readonly refresh?: () => Effect.Effect<TokenGrant, RefreshRejected | TransientHttpError>
}

const loopbackProfile = (): Profile => ({ olaresId: ID, authUrlOverride: `${server.url}/` })

/** HttpAuthLive over the real coordinator, a memory store, a fake protocol and a real Node HTTP client. */
const setup = (opts: Setup = {}) => {
  const refreshCalls = Ref.unsafeMake(0)
  const api = Layer.succeed(
    OlaresAuthApi,
    OlaresAuthApi.of({
      login: () => Effect.dieMessage("not used"),
      refresh: () =>
        Effect.zipRight(
          Ref.update(refreshCalls, (n) => n + 1),
          (opts.refresh ?? (() => Effect.fail(new TransportError({ endpoint: "/api/refresh", detail: "unset" }))))()
        )
    })
  )
  const config: ProfileConfig = opts.config ?? { profiles: opts.profiles ?? [loopbackProfile()] }
  const repo = Layer.effect(
    ProfileRepo,
    Effect.map(Ref.make(config), (ref) =>
      ProfileRepo.of({
        path: "/tmp/olares-http-test/config.json",
        load: Ref.get(ref),
        update: (f) =>
          Effect.flatMap(Ref.get(ref), f).pipe(
            Effect.flatMap(([a, next]) => Effect.as(Ref.set(ref, next), a))
          )
      }))
  )
  const lock = Layer.succeed(FileLock, { lock: () => Effect.void, isLocked: () => Effect.succeed(false) })
  const paths = Layer.succeed(AppPaths, {
    home: "/tmp/olares-http-test",
    configFile: "/tmp/olares-http-test/config.json",
    locksDir: "/tmp/olares-http-test/locks",
    dataDir: "/tmp/olares-http-test/data",
    dataDirSource: "test"
  })
  const clients = Layer.effect(HttpClients, Effect.map(HttpClient.HttpClient, (client) => ({ get: () => client })))
    .pipe(
      Layer.provide(NodeHttpClient.layer)
    )
  const store = Layer.effect(KeyStore, makeMemory(opts.records ?? []))
  const layer = HttpAuthLive.pipe(
    Layer.provideMerge(RefreshCoordinatorLive),
    Layer.provideMerge(Layer.mergeAll(store, api, lock, paths, repo, clients))
  )
  return { layer, refreshCalls }
}

const NOW = 1_800_000_000_000
const nowSec = NOW / 1000

const jsonBody = <E, R>(res: Effect.Effect<{ readonly json: Effect.Effect<unknown, E> }, E, R>) =>
  Effect.flatMap(res, (r) => r.json)

describe("HttpAuthLive: resolution (spec section 8 order)", () => {
  it.effect("no profile at all: NoProfile", () => {
    const { layer } = setup({ profiles: [] })
    return Effect.gen(function*() {
      const auth = yield* HttpAuth
      const err = yield* Effect.flip(auth.current)
      expect(err._tag).toBe("NoProfile")
      expect(err.message).toContain("no Olares profile is configured")
    }).pipe(Effect.provide(layer))
  })

  it.effect("a current pointer that names nothing: NoProfile", () => {
    const { layer } = setup({ config: { currentProfile: "ghost", profiles: [loopbackProfile()] } })
    return Effect.gen(function*() {
      expect((yield* Effect.flip((yield* HttpAuth).current))._tag).toBe("NoProfile")
    }).pipe(Effect.provide(layer))
  })

  it.effect("no record: NotLoggedIn", () => {
    const { layer } = setup()
    return Effect.gen(function*() {
      const err = yield* Effect.flip((yield* HttpAuth).current)
      expect(err).toMatchObject({ _tag: "NotLoggedIn", olaresId: ID })
    }).pipe(Effect.provide(layer))
  })

  it.effect("an invalidated record: TokenInvalidated with the stored time, no network", () => {
    const { layer, refreshCalls } = setup({
      records: [record(jwt(nowSec + 3600, "inv"), { invalidatedAt: 1_234_000 })]
    })
    return Effect.gen(function*() {
      const err = yield* Effect.flip((yield* HttpAuth).current)
      expect(err).toMatchObject({ _tag: "TokenInvalidated", olaresId: ID, invalidatedAt: 1_234_000 })
      expect(yield* Ref.get(refreshCalls)).toBe(0)
      expect(server.hits).toHaveLength(0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a stored access token that is not a JWT fails resolution, pointing at login", () => {
    const { layer } = setup({ records: [record("not-a-jwt")] })
    return Effect.gen(function*() {
      const err = yield* Effect.flip((yield* HttpAuth).current)
      expect(err._tag).toBe("StorageError")
      expect(err.message).toContain("decode access token: token does not look like a JWT (want 3 segments, got 1)")
      expect((err as { recovery?: string }).recovery).toBe("olares-cli profile login --olares-id alice@olares.com")
    }).pipe(Effect.provide(layer))
  })

  it.effect("an expired token still resolves (the transport refreshes on rejection); so does one without exp", () => {
    const { layer } = setup({ records: [record(jwt(nowSec - 3600, "expired"))] })
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const authed = yield* (yield* HttpAuth).current
      expect(authed.olaresId).toBe(ID)
      const noExp = setup({ records: [record(jwt(undefined, "noexp"))] })
      const again = yield* Effect.provide(Effect.flatMap(HttpAuth, (a) => a.current), noExp.layer)
      expect(again.olaresId).toBe(ID)
    }).pipe(Effect.provide(layer))
  })

  it.effect("an unparseable olaresId in config.json is a typed InvalidOlaresId", () => {
    const { layer } = setup({ profiles: [{ olaresId: "a b@c" }] })
    return Effect.gen(function*() {
      expect((yield* Effect.flip((yield* HttpAuth).current))._tag).toBe("InvalidOlaresId")
    }).pipe(Effect.provide(layer))
  })

  it.effect("baseUrl and serviceUrl: derived with the prefix, or the override's origin", () => {
    const derived = setup({
      profiles: [{ olaresId: ID, localUrlPrefix: "dev." }],
      records: [record(jwt(nowSec + 3600, "d"))]
    })
    const overridden = setup({
      profiles: [{ olaresId: ID, authUrlOverride: "http://127.0.0.1:4567/some/path/" }],
      records: [record(jwt(nowSec + 3600, "o"))]
    })
    return Effect.gen(function*() {
      const a = yield* Effect.provide(Effect.flatMap(HttpAuth, (h) => h.current), derived.layer)
      expect(a.baseUrl).toBe("https://desktop.dev.alice.olares.com")
      expect(a.serviceUrl("files")).toBe("https://files.dev.alice.olares.com")
      expect(a.serviceUrl("market")).toBe("https://market.dev.alice.olares.com")
      const b = yield* Effect.provide(Effect.flatMap(HttpAuth, (h) => h.current), overridden.layer)
      expect(b.baseUrl).toBe("http://127.0.0.1:4567")
      expect(b.serviceUrl("files")).toBe("http://127.0.0.1:4567")
    })
  })

  it.effect("forProfile resolves a profile that is not the current one", () => {
    const { layer } = setup({
      config: { currentProfile: "other", profiles: [{ olaresId: "bob@olares.com", name: "other" }, loopbackProfile()] },
      records: [record(jwt(nowSec + 3600, "fp"))]
    })
    return Effect.gen(function*() {
      const auth = yield* HttpAuth
      expect((yield* Effect.flip(auth.current))._tag).toBe("NotLoggedIn")
      const a = yield* auth.forProfile(loopbackProfile())
      expect(a.olaresId).toBe(ID)
    }).pipe(Effect.provide(layer))
  })
})

describe("HttpAuthLive: replayable requests", () => {
  it.effect("200: no refresh, all three auth headers present, an existing cookie is kept", () => {
    const t0 = jwt(nowSec + 3600, "t0")
    server.valid.add(t0)
    const { layer, refreshCalls } = setup({ records: [record(t0)] })
    return Effect.gen(function*() {
      const { client } = yield* (yield* HttpAuth).current
      const res = yield* client.get(`${server.url}/api/olares-info`, { headers: { cookie: "lang=en" } })
      expect(res.status).toBe(200)
      expect(yield* Ref.get(refreshCalls)).toBe(0)
      expect(server.hits).toHaveLength(1)
      const h = server.hits[0]!.headers
      expect(h["x-authorization"]).toBe(t0)
      expect(h["cookie"]).toBe(`lang=en; auth_token=${t0}`)
      expect(h["x-unauth-error"]).toBe("Non-Redirect")
      expect(h["authorization"]).toBeUndefined()
    }).pipe(Effect.provide(layer))
  })

  it.effect("a path-only URL goes to baseUrl; without a caller cookie only auth_token is sent", () => {
    const t0 = jwt(nowSec + 3600, "rel")
    server.valid.add(t0)
    const { layer } = setup({ records: [record(t0)] })
    return Effect.gen(function*() {
      const { client } = yield* (yield* HttpAuth).current
      const body = yield* jsonBody(client.get("/api/backend/v1/user-info"))
      expect(body).toMatchObject({ ok: true, path: "/api/backend/v1/user-info" })
      expect(server.hits[0]!.headers["cookie"]).toBe(`auth_token=${t0}`)
    }).pipe(Effect.provide(layer))
  })

  it.effect("401: one refresh, one retry carrying the new token, the cell keeps it for later requests", () => {
    const t0 = jwt(nowSec + 3600, "old")
    const t1 = jwt(nowSec + 7200, "new")
    server.valid.add(t1)
    const { layer, refreshCalls } = setup({ records: [record(t0)], refresh: () => Effect.succeed(grant(t1)) })
    return Effect.gen(function*() {
      const { client } = yield* (yield* HttpAuth).current
      const res = yield* client.execute(
        HttpClientRequest.post(`${server.url}/api/x`).pipe(HttpClientRequest.bodyUnsafeJson({ n: 1 }))
      )
      expect(res.status).toBe(200)
      expect(yield* Ref.get(refreshCalls)).toBe(1)
      expect(server.hits.map((h) => h.headers["x-authorization"])).toEqual([t0, t1])
      // The body was sent again on the retry.
      expect(server.hits.map((h) => h.body)).toEqual(["{\"n\":1}", "{\"n\":1}"])
      expect(server.hits[1]!.headers["cookie"]).toBe(`auth_token=${t1}`)
      // Next request goes out with the new token straight away.
      yield* client.get(`${server.url}/api/y`)
      expect(server.hits[2]!.headers["x-authorization"]).toBe(t1)
      expect(yield* Ref.get(refreshCalls)).toBe(1)
      // And the store has it.
      const rec = Option.getOrThrow(yield* Effect.flatMap(KeyStore, (ks) => ks.get(ID)))
      expect(Redacted.value(rec.accessToken)).toBe(t1)
    }).pipe(Effect.provide(layer))
  })

  for (const status of [401, 459] as const) {
    it.effect(`retry answered ${status} again: AccessTokenRejected, exactly 2 upstream hits and 1 refresh`, () => {
      server.rejectWith = status
      const { layer, refreshCalls } = setup({
        records: [record(jwt(nowSec + 3600, `a${status}`))],
        refresh: () => Effect.succeed(grant(jwt(nowSec + 7200, `b${status}`)))
      })
      return Effect.gen(function*() {
        const { client } = yield* (yield* HttpAuth).current
        const err = yield* Effect.flip(client.get(`${server.url}/api/x`))
        expect(err).toMatchObject({ _tag: "AccessTokenRejected", olaresId: ID, status })
        expect(err.message).toBe(
          `server rejected the access token (HTTP ${status}); please run: olares-cli profile login --olares-id alice@olares.com`
        )
        expect(err.message).not.toContain("leaky-session-id")
        expect(server.hits).toHaveLength(2)
        expect(yield* Ref.get(refreshCalls)).toBe(1)
      }).pipe(Effect.provide(layer))
    })
  }

  it.effect("403 then 403: one refresh, then PermissionDenied with the spec's message", () => {
    server.rejectWith = 403
    const { layer, refreshCalls } = setup({
      records: [record(jwt(nowSec + 3600, "p0"))],
      refresh: () => Effect.succeed(grant(jwt(nowSec + 7200, "p1")))
    })
    return Effect.gen(function*() {
      const { client } = yield* (yield* HttpAuth).current
      const err = yield* Effect.flip(client.get(`${server.url}/api/settings`))
      expect(err._tag).toBe("PermissionDenied")
      expect(err.message).toBe(
        "server rejected the request (HTTP 403); the active identity does not have permission for this resource or action; inspect it with `olares-cli profile whoami --refresh`"
      )
      expect(server.hits).toHaveLength(2)
      expect(yield* Ref.get(refreshCalls)).toBe(1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a refresh failure on the reactive path is returned as that error, with no retry", () => {
    const { layer, refreshCalls } = setup({
      records: [record(jwt(nowSec + 3600, "r0"))],
      refresh: () => Effect.fail(new RefreshRejected({ status: 401 }))
    })
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { client } = yield* (yield* HttpAuth).current
      const err = yield* Effect.flip(client.get(`${server.url}/api/x`))
      expect(err).toMatchObject({ _tag: "TokenInvalidated", olaresId: ID, invalidatedAt: NOW })
      expect(server.hits).toHaveLength(1)
      expect(yield* Ref.get(refreshCalls)).toBe(1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("replayable + expired token: no pre-refresh, the reactive path (2 upstream hits)", () => {
    const t0 = jwt(nowSec - 10, "exp0")
    const t1 = jwt(nowSec + 3600, "exp1")
    server.valid.add(t1)
    const { layer, refreshCalls } = setup({ records: [record(t0)], refresh: () => Effect.succeed(grant(t1)) })
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { client } = yield* (yield* HttpAuth).current
      const res = yield* client.get(`${server.url}/api/x`)
      expect(res.status).toBe(200)
      expect(server.hits.map((h) => h.headers["x-authorization"])).toEqual([t0, t1])
      expect(yield* Ref.get(refreshCalls)).toBe(1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("other statuses are plain responses (no refresh)", () => {
    const t0 = jwt(nowSec + 3600, "st")
    const { layer, refreshCalls } = setup({ records: [record(t0)] })
    server.rejectWith = 404
    return Effect.gen(function*() {
      const { client } = yield* (yield* HttpAuth).current
      const res = yield* client.get(`${server.url}/missing`)
      expect(res.status).toBe(404)
      expect(yield* Ref.get(refreshCalls)).toBe(0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("each attempt of a replayable request is bounded by 30 s on the Clock", () => {
    const t0 = jwt(nowSec + 3600, "hang")
    server.valid.add(t0)
    const { layer } = setup({ records: [record(t0)] })
    return Effect.gen(function*() {
      const { client } = yield* (yield* HttpAuth).current
      const fiber = yield* Effect.fork(Effect.flip(client.get(`${server.url}/hang`)))
      yield* Effect.promise(() => waitFor(() => server.held.length === 1))
      yield* TestClock.adjust("29 seconds")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      const err = yield* Fiber.join(fiber)
      expect(err).toMatchObject({ _tag: "TimeoutError", seconds: 30 })
      expect(err.message).toBe(`${server.url}/hang: no answer within 30s`)
    }).pipe(Effect.provide(layer))
  })

  it.effect("50 concurrent requests rejected with one stale token share a single refresh", () => {
    const t0 = jwt(nowSec + 3600, "c0")
    const t1 = jwt(nowSec + 7200, "c1")
    server.valid.add(t1)
    const { layer, refreshCalls } = setup({ records: [record(t0)], refresh: () => Effect.succeed(grant(t1)) })
    return Effect.gen(function*() {
      const { client } = yield* (yield* HttpAuth).current
      const statuses = yield* Effect.forEach(
        Array.from({ length: 50 }),
        (_, i) => Effect.map(client.get(`${server.url}/api/c/${i}`), (r) => r.status),
        { concurrency: "unbounded" }
      )
      expect(new Set(statuses)).toEqual(new Set([200]))
      expect(yield* Ref.get(refreshCalls)).toBe(1)
      expect(server.hits.filter((h) => h.headers["x-authorization"] === t1)).toHaveLength(50)
    }).pipe(Effect.provide(layer))
  })
})

describe("HttpAuthLive: streaming (non-replayable) requests", () => {
  const upload = (url: string) =>
    HttpClientRequest.post(url).pipe(
      HttpClientRequest.bodyStream(
        Stream.make(new TextEncoder().encode("chunk-1"), new TextEncoder().encode("chunk-2"))
      )
    )

  it("classifies bodies like the reference's replayability table", () => {
    expect(isReplayable(HttpClientRequest.get("/x").body)).toBe(true)
    expect(isReplayable(HttpClientRequest.bodyText(HttpClientRequest.post("/x"), "a").body)).toBe(true)
    expect(isReplayable(HttpClientRequest.bodyUint8Array(HttpClientRequest.post("/x"), new Uint8Array(1)).body)).toBe(
      true
    )
    expect(isReplayable(upload("/x").body)).toBe(false)
  })

  it.effect("token expiring in 30 s: refreshed first, one upstream hit carrying the new token", () => {
    const t0 = jwt(nowSec + 30, "s0")
    const t1 = jwt(nowSec + 3600, "s1")
    server.valid.add(t0)
    server.valid.add(t1)
    const { layer, refreshCalls } = setup({ records: [record(t0)], refresh: () => Effect.succeed(grant(t1)) })
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { client } = yield* (yield* HttpAuth).current
      const res = yield* client.execute(upload(`${server.url}/api/upload`))
      expect(res.status).toBe(200)
      expect(yield* Ref.get(refreshCalls)).toBe(1)
      expect(server.hits).toHaveLength(1)
      expect(server.hits[0]!.headers["x-authorization"]).toBe(t1)
      expect(server.hits[0]!.body).toBe("chunk-1chunk-2")
    }).pipe(Effect.provide(layer))
  })

  it.effect("already expired: refreshed first as well", () => {
    const t0 = jwt(nowSec - 1, "se0")
    const t1 = jwt(nowSec + 3600, "se1")
    server.valid.add(t1)
    const { layer, refreshCalls } = setup({ records: [record(t0)], refresh: () => Effect.succeed(grant(t1)) })
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { client } = yield* (yield* HttpAuth).current
      expect((yield* client.execute(upload(`${server.url}/api/upload`))).status).toBe(200)
      expect(yield* Ref.get(refreshCalls)).toBe(1)
      expect(server.hits.map((h) => h.headers["x-authorization"])).toEqual([t1])
    }).pipe(Effect.provide(layer))
  })

  it.effect("token expiring in 90 s: no pre-refresh", () => {
    const t0 = jwt(nowSec + 90, "n0")
    server.valid.add(t0)
    const { layer, refreshCalls } = setup({ records: [record(t0)] })
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { client } = yield* (yield* HttpAuth).current
      expect((yield* client.execute(upload(`${server.url}/api/upload`))).status).toBe(200)
      expect(yield* Ref.get(refreshCalls)).toBe(0)
      expect(server.hits.map((h) => h.headers["x-authorization"])).toEqual([t0])
    }).pipe(Effect.provide(layer))
  })

  it.effect("the 60 s window follows the Clock: 90 s left, then 40 s later it pre-refreshes", () => {
    const t0 = jwt(nowSec + 90, "w0")
    const t1 = jwt(nowSec + 3600, "w1")
    server.valid.add(t0)
    server.valid.add(t1)
    const { layer, refreshCalls } = setup({ records: [record(t0)], refresh: () => Effect.succeed(grant(t1)) })
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { client } = yield* (yield* HttpAuth).current
      yield* client.execute(upload(`${server.url}/api/upload`))
      yield* TestClock.adjust("40 seconds")
      yield* client.execute(upload(`${server.url}/api/upload`))
      expect(server.hits.map((h) => h.headers["x-authorization"])).toEqual([t0, t1])
      expect(yield* Ref.get(refreshCalls)).toBe(1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("pre-refresh failure: the error, and zero upstream hits", () => {
    const { layer, refreshCalls } = setup({
      records: [record(jwt(nowSec + 10, "f0"))],
      refresh: () => Effect.fail(new RefreshRejected({ status: 401 }))
    })
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { client } = yield* (yield* HttpAuth).current
      const err = yield* Effect.flip(client.execute(upload(`${server.url}/api/upload`)))
      expect(err).toMatchObject({ _tag: "TokenInvalidated", olaresId: ID, invalidatedAt: NOW })
      expect(server.hits).toHaveLength(0)
      expect(yield* Ref.get(refreshCalls)).toBe(1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a 401 on a stream is not retried: AccessTokenRejected, one hit, no refresh", () => {
    const { layer, refreshCalls } = setup({ records: [record(jwt(nowSec + 3600, "x0"))] })
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { client } = yield* (yield* HttpAuth).current
      const err = yield* Effect.flip(client.execute(upload(`${server.url}/api/upload`)))
      expect(err).toMatchObject({ _tag: "AccessTokenRejected", status: 401 })
      expect(server.hits).toHaveLength(1)
      expect(yield* Ref.get(refreshCalls)).toBe(0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("streams are not timed", () => {
    const t0 = jwt(nowSec + 3600, "shang")
    server.valid.add(t0)
    const { layer } = setup({ records: [record(t0)] })
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { client } = yield* (yield* HttpAuth).current
      const fiber = yield* Effect.fork(client.execute(upload(`${server.url}/hang-upload`)))
      yield* Effect.promise(() => waitFor(() => server.held.length === 1))
      yield* TestClock.adjust("10 minutes")
      expect(fiber.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a 403 on a stream is PermissionDenied", () => {
    server.rejectWith = 403
    const { layer } = setup({ records: [record(jwt(nowSec + 3600, "y0"))] })
    return Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { client } = yield* (yield* HttpAuth).current
      expect((yield* Effect.flip(client.execute(upload(`${server.url}/api/upload`))))._tag).toBe("PermissionDenied")
    }).pipe(Effect.provide(layer))
  })
})

describe("HttpAuthLive: as a library", () => {
  it.effect("an outside Effect program provides the layer and yields HttpAuth", () => {
    const t0 = jwt(nowSec + 3600, "lib")
    server.valid.add(t0)
    const { layer } = setup({ records: [record(t0)] })
    // What a library user writes: no olares-cli internals beyond the tag.
    const program = Effect.gen(function*() {
      const auth = yield* HttpAuth
      const { baseUrl, client } = yield* auth.current
      const res = yield* client.get(`${baseUrl}/api/olares-info`)
      return yield* res.json
    })
    return Effect.gen(function*() {
      const body = yield* Effect.provide(program, layer)
      expect(body).toMatchObject({ ok: true, path: "/api/olares-info" })
      expect(hitsFor("/api/olares-info")).toHaveLength(1)
    })
  })

  it.effect("the authed client composes with the platform's combinators", () => {
    const t0 = jwt(nowSec + 3600, "combo")
    server.valid.add(t0)
    const { layer } = setup({ records: [record(t0)] })
    return Effect.gen(function*() {
      const { client } = yield* (yield* HttpAuth).current
      const ok = client.pipe(
        HttpClient.mapRequest(HttpClientRequest.prependUrl(server.url)),
        HttpClient.filterStatusOk
      )
      const res = yield* ok.get("/api/z")
      expect(res.status).toBe(200)
      expect(server.hits[0]!.headers["x-authorization"]).toBe(t0)
    }).pipe(Effect.provide(layer))
  })
})
