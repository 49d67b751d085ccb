/**
 * The library as a consumer uses it, in process, through `olares-cli` and `olares-cli/testing` only:
 * where the token may go (foreign hosts, scheme-relative paths, redirects), transport from
 * context, each port replaceable, the 403 rule, TestClock behaviour, and quiet logging.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { afterEach, beforeEach, describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { vi } from "vitest"
import {
  AppPaths,
  FileLock,
  HttpAuth,
  HttpClients,
  KeyStore,
  KeyStoreLive,
  makeOlaresCli,
  OlaresAuthApi,
  ProfileRepo,
  Prompt,
  RefreshCoordinator,
  scopeUrl,
  TokenScope
} from "../../src/index.js"
import { makeOlaresCliTest, OlaresCliTest, PromptNone, seedProfile, TestPaths, testServer } from "../../src/testing.js"
import { recordSecret } from "../support/leaks.js"
import { type OlaresTestServer, onSecret } from "../support/server.js"

onSecret(recordSecret)

// Nothing the library does may reach the process's stdout or stderr by itself.
let writes: Array<string> = []
beforeEach(() => {
  writes = []
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation(
      ((chunk: string | Uint8Array) => {
        writes.push(String(chunk))
        return true
      }) as typeof stream.write
    )
  }
})
afterEach(() => {
  vi.restoreAllMocks()
  expect(writes).toEqual([])
})

/** A second loopback server that records whatever reaches it: the "foreign host". */
const foreign = testServer()

/** The headers the foreign server saw, any path. */
const leaked = (srv: OlaresTestServer) =>
  srv.requests().map((r) => ({ token: r.headers["x-authorization"], cookie: r.headers["cookie"] }))

describe("the token never leaves the profile's hosts", () => {
  it.scoped("an absolute URL on another origin (another port) fails ForeignUrl before anything is sent", () =>
    Effect.gen(function*() {
      const server = yield* testServer()
      const evil = yield* foreign
      yield* seedProfile(server)
      const { client } = yield* (yield* HttpAuth).current
      for (const url of [`${evil.url}/x`, `http://localhost:${server.port}/x`, "https://example.com/x"]) {
        const err = yield* Effect.flip(client.get(url))
        expect(err._tag).toBe("ForeignUrl")
        expect(err.message).toContain("refusing to send the alice@olares.com token to")
      }
      expect(evil.requests()).toHaveLength(0)
      expect(server.requests()).toHaveLength(0)
    }).pipe(Effect.provide(OlaresCliTest)))

  it.scoped("scheme-relative and backslash paths resolve to the foreign origin and are refused", () =>
    Effect.gen(function*() {
      const server = yield* testServer()
      const evil = yield* foreign
      yield* seedProfile(server, { state: "expired" })
      const { client } = yield* (yield* HttpAuth).current
      const authority = `127.0.0.1:${evil.port}`
      for (const raw of [`//${authority}/x`, `/\\${authority}/x`, `/\\\t/${authority}/x`, `\\\\${authority}/x`]) {
        expect((yield* Effect.flip(client.get(raw)))._tag).toBe("ForeignUrl")
      }
      expect(evil.requests()).toHaveLength(0)
      // no refresh was spent on them either
      expect(server.hits("/api/refresh")).toBe(0)
      // the same trick towards the profile's own origin is just a URL on it
      const ok = yield* client.get(`//127.0.0.1:${server.port}/api/echo/x`)
      expect(ok.status).toBe(200)
    }).pipe(Effect.provide(OlaresCliTest)))

  it.scoped("a cross-origin redirect is returned, not followed; the foreign server gets no token and no cookie", () =>
    Effect.gen(function*() {
      const server = yield* testServer()
      const evil = yield* foreign
      yield* seedProfile(server)
      server.setFault("/api/moved", { status: 302, location: `${evil.url}/steal` })
      const { client } = yield* (yield* HttpAuth).current
      const res = yield* client.get("/api/moved")
      expect(res.status).toBe(302)
      expect(res.headers["location"]).toBe(`${evil.url}/steal`)
      // a program that follows redirects on the authed client: every hop passes the origin check
      const err = yield* Effect.flip(HttpClient.followRedirects(client).get("/api/moved"))
      expect(err._tag).toBe("ForeignUrl")
      expect(leaked(evil)).toEqual([])
    }).pipe(Effect.provide(OlaresCliTest)))

  it.scoped("a fetch-based transport (which follows redirects by default) is told not to", () =>
    Effect.gen(function*() {
      const server = yield* testServer()
      const evil = yield* foreign
      yield* seedProfile(server)
      server.setFault("/api/moved", { status: 307, location: `${evil.url}/steal` })
      const { client } = yield* (yield* HttpAuth).current
      const res = yield* client.get("/api/moved")
      expect(res.status).toBe(307)
      expect(leaked(evil)).toEqual([])
    }).pipe(Effect.provide(OlaresCliTest), Effect.provide(FetchHttpClient.layer)))

  it.scoped("TokenScope widens it for a program that means it", () =>
    Effect.gen(function*() {
      const server = yield* testServer()
      const proxy = yield* foreign
      yield* seedProfile(server)
      const { client } = yield* (yield* HttpAuth).current
      const res = yield* client.get(`${proxy.url}/api/echo/x`).pipe(
        Effect.provideService(TokenScope, { extraOrigins: [proxy.url] })
      )
      expect(res.status).toBe(200)
      expect(proxy.hits("/api/echo/x")).toBe(1)
    }).pipe(Effect.provide(OlaresCliTest)))

  describe("the rule itself (scopeUrl)", () => {
    const id = "alice@olares.com" as Parameters<typeof scopeUrl>[1]
    const derived = { olaresId: id, localUrlPrefix: "dev." }
    const override = { olaresId: id, authUrlOverride: "http://127.0.0.1:8787/" }
    const cases: ReadonlyArray<readonly [string, object, string, string | undefined]> = [
      ["path", derived, "/api/x", "https://desktop.dev.alice.olares.com/api/x"],
      ["relative path", derived, "api/x", "https://desktop.dev.alice.olares.com/api/x"],
      ["service host", derived, "https://files.dev.alice.olares.com/a?b=1", "https://files.dev.alice.olares.com/a?b=1"],
      ["deeper service host", derived, "https://x.y.dev.alice.olares.com/", "https://x.y.dev.alice.olares.com/"],
      [
        "explicit default port",
        derived,
        "https://files.dev.alice.olares.com:443/",
        "https://files.dev.alice.olares.com/"
      ],
      ["upper case host", derived, "https://FILES.DEV.ALICE.OLARES.COM/", "https://files.dev.alice.olares.com/"],
      ["cleartext http to a derived host", derived, "http://files.dev.alice.olares.com/", undefined],
      ["another port on a derived host", derived, "https://files.dev.alice.olares.com:8443/", undefined],
      ["the zone without the prefix", derived, "https://files.alice.olares.com/", undefined],
      ["a look-alike suffix", derived, "https://files.dev.alice.olares.com.evil.example/", undefined],
      ["a look-alike label", derived, "https://evildev.alice.olares.com/", undefined],
      ["userinfo", derived, "https://u:p@files.dev.alice.olares.com/", undefined],
      ["scheme-relative", derived, "//evil.example/x", undefined],
      ["backslash", derived, "/\\evil.example/x", undefined],
      ["backslash and tab", derived, "/\\\t/evil.example/x", undefined],
      ["another scheme", derived, "ftp://files.dev.alice.olares.com/", undefined],
      ["javascript", derived, "javascript:alert(1)", undefined],
      ["override origin over http", override, "/api/x", "http://127.0.0.1:8787/api/x"],
      ["override origin, absolute", override, "http://127.0.0.1:8787/x", "http://127.0.0.1:8787/x"],
      ["override host, other port", override, "http://127.0.0.1:8788/x", undefined],
      ["override host, https", override, "https://127.0.0.1:8787/x", undefined],
      [
        "derived host beside an override",
        override,
        "https://files.alice.olares.com/x",
        "https://files.alice.olares.com/x"
      ]
    ]
    for (const [name, profile, raw, want] of cases) {
      it(`${name}: ${JSON.stringify(raw)} -> ${want ?? "ForeignUrl"}`, () => {
        const got = scopeUrl(profile as never, id, raw)
        if (want === undefined) expect(Either.isLeft(got) && got.left._tag).toBe("ForeignUrl")
        else expect(got).toEqual(Either.right(want))
      })
    }
    it("an error never shows control characters of the caller's text", () => {
      const got = scopeUrl(derived as never, id, "http://[\u0007\u009b")
      expect(Either.isLeft(got) && got.left.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
    })
  })
})

/** A fake transport: answers like Olares (401 to `stale`, a grant at /api/refresh), recording each request. */
const fakeTransport = (seen: Ref.Ref<ReadonlyArray<HttpClientRequest.HttpClientRequest>>, fresh: string) =>
  HttpClient.make((request) =>
    Effect.gen(function*() {
      yield* Ref.update(seen, (all) => [...all, request])
      const json = (status: number, body: unknown) =>
        HttpClientResponse.fromWeb(request, new Response(JSON.stringify(body), { status }))
      if (request.url.endsWith("/api/refresh")) {
        return json(200, {
          status: "OK",
          data: { access_token: fresh, refresh_token: "rt-fake-rotated", session_id: "" }
        })
      }
      return request.headers["x-authorization"] === fresh ? json(200, { ok: true }) : json(401, { message: "no" })
    })
  )

const jwt = (claims: Record<string, unknown>) => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url")
  const token = `${b64({ alg: "HS256" })}.${b64(claims)}.sig`
  recordSecret(token)
  return token
}

describe("transport from context", () => {
  it.effect("a fake HttpClient provided by the test is the one used, refresh logic included", () =>
    Effect.gen(function*() {
      const seen = yield* Ref.make<ReadonlyArray<HttpClientRequest.HttpClientRequest>>([])
      const stale = jwt({ exp: 1, jti: "stale" })
      const fresh = jwt({ exp: 4_102_444_800, jti: "fresh" })
      const layer = makeOlaresCliTest({
        config: { currentProfile: "alice@olares.com", profiles: [{ olaresId: "alice@olares.com" }] },
        records: [{
          olaresId: "alice@olares.com",
          accessToken: Redacted.make(stale),
          refreshToken: Redacted.make("rt-fake")
        }]
      }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, fakeTransport(seen, fresh))))
      const res = yield* Effect.flatMap(HttpAuth, (a) => a.current).pipe(
        Effect.flatMap(({ client }) => client.get("/api/olares-info")),
        Effect.provide(layer)
      )
      expect(res.status).toBe(200)
      const requests = yield* Ref.get(seen)
      expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        "GET https://desktop.alice.olares.com/api/olares-info",
        "POST https://auth.alice.olares.com/api/refresh",
        "GET https://desktop.alice.olares.com/api/olares-info"
      ])
      // /api/refresh carries the access token it replaces, as the reference does
      expect(requests.map((r) => r.headers["x-authorization"])).toEqual([stale, stale, fresh])
    }))
})

describe("each port can be replaced (makeOlaresCli)", () => {
  const ID = "alice@olares.com"
  const config = { currentProfile: ID, profiles: [{ olaresId: ID }] }
  const stale = jwt({ exp: 1, jti: "port-stale" })
  const fresh = jwt({ exp: 4_102_444_800, jti: "port-fresh" })
  const record = { olaresId: ID, accessToken: Redacted.make(stale), refreshToken: Redacted.make("rt-port") }
  const call = Effect.flatMap(HttpAuth, (a) => a.current).pipe(Effect.flatMap(({ client }) => client.get("/api/x")))

  it.effect("HttpClients", () =>
    Effect.gen(function*() {
      const seen = yield* Ref.make<ReadonlyArray<HttpClientRequest.HttpClientRequest>>([])
      const fake = fakeTransport(seen, fresh)
      const layer = makeOlaresCliTest({
        config,
        records: [record],
        ports: { httpClients: Layer.succeed(HttpClients, { get: () => fake }) }
      })
      expect((yield* Effect.provide(call, layer)).status).toBe(200)
      expect(yield* Ref.get(seen)).toHaveLength(3)
    }))

  it.effect("OlaresAuthApi and RefreshCoordinator", () =>
    Effect.gen(function*() {
      const seen = yield* Ref.make<ReadonlyArray<HttpClientRequest.HttpClientRequest>>([])
      const refreshed = yield* Ref.make(0)
      const coordinator = Layer.succeed(RefreshCoordinator, {
        refresh: () => Effect.as(Ref.update(refreshed, (n) => n + 1), Redacted.make(fresh))
      })
      const transport = HttpClient.HttpClient
      const layer = makeOlaresCliTest({ config, records: [record], ports: { refreshCoordinator: coordinator } }).pipe(
        Layer.provide(Layer.succeed(transport, fakeTransport(seen, fresh)))
      )
      expect((yield* Effect.provide(call, layer)).status).toBe(200)
      expect(yield* Ref.get(refreshed)).toBe(1)
      // the fake coordinator answered: /api/refresh was never sent
      expect((yield* Ref.get(seen)).map((r) => r.url)).not.toContain("https://auth.alice.olares.com/api/refresh")

      const apiCalls = yield* Ref.make(0)
      const authApi = Layer.succeed(OlaresAuthApi, {
        login: () => Effect.dieMessage("unused"),
        refresh: () =>
          Effect.as(Ref.update(apiCalls, (n) => n + 1), {
            accessToken: Redacted.make(fresh),
            refreshToken: Option.none(),
            sessionId: Option.none()
          })
      })
      const layer2 = makeOlaresCliTest({ config, records: [record], ports: { authApi } }).pipe(
        Layer.provide(Layer.succeed(transport, fakeTransport(seen, fresh)))
      )
      expect((yield* Effect.provide(call, layer2)).status).toBe(200)
      expect(yield* Ref.get(apiCalls)).toBe(1)
    }))

  it.effect("KeyStore, ProfileRepo, FileLock and Prompt", () =>
    Effect.gen(function*() {
      const seen = yield* Ref.make<ReadonlyArray<HttpClientRequest.HttpClientRequest>>([])
      const locked = yield* Ref.make<ReadonlyArray<string>>([])
      const fileLock = Layer.succeed(FileLock, {
        lock: (path) => Ref.update(locked, (all) => [...all, path]),
        isLocked: () => Effect.succeed(false)
      })
      const layer = makeOlaresCliTest({ config, records: [record], ports: { fileLock } }).pipe(
        Layer.provide(Layer.succeed(HttpClient.HttpClient, fakeTransport(seen, fresh)))
      )
      yield* Effect.gen(function*() {
        expect((yield* call).status).toBe(200)
        // the refresh took the locks through the fake, at the paths derived from the test AppPaths
        // (the config home's, then the data dir's)
        expect(yield* Ref.get(locked)).toEqual([
          `${TestPaths.locksDir}/alice@olares.com.refresh.lock`,
          `${TestPaths.dataDir}/locks/alice@olares.com.refresh.lock`
        ])
        // the rotated token went to the memory store and the config came from the memory repo
        const stored = Option.getOrThrow(yield* Effect.flatMap(KeyStore, (k) => k.get(ID)))
        expect(Redacted.value(stored.accessToken)).toBe(fresh)
        expect((yield* Effect.flatMap(ProfileRepo, (r) => r.load)).profiles).toHaveLength(1)
        expect((yield* Prompt).interactive).toBe(false)
        expect((yield* Effect.flip((yield* Prompt).stdinLine))._tag).toBe("StorageError")
      }).pipe(Effect.provide(layer))
      // and the default test ports stay in memory: nothing under the fixed paths was created
      expect(existsSync(TestPaths.home)).toBe(false)
    }))

  it.effect("AppPaths (with the live file-backed ports under it)", () =>
    Effect.gen(function*() {
      const root = mkdtempSync(join(tmpdir(), "olares-ports-"))
      try {
        const paths = {
          home: join(root, "home"),
          configFile: join(root, "home", "config.json"),
          locksDir: join(root, "home", "locks"),
          dataDir: join(root, "data", "olares-cli"),
          dataDirSource: "test"
        }
        const layer = makeOlaresCli({ appPaths: Layer.succeed(AppPaths, paths), prompt: PromptNone }).pipe(
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["OLARES_CLI_KEYSTORE", "file"]]))))
        )
        yield* Effect.gen(function*() {
          yield* (yield* ProfileRepo).update((c) =>
            Effect.succeed([undefined, { ...c, profiles: [{ olaresId: ID }] }] as const)
          )
          yield* (yield* KeyStore).set(record)
        }).pipe(Effect.provide(layer))
        expect(existsSync(paths.configFile)).toBe(true)
        expect(existsSync(join(paths.dataDir, "master.key"))).toBe(true)
      } finally {
        rmSync(root, { recursive: true, force: true })
      }
    }))
})

describe("403 without a refresh storm", () => {
  const fiveForbidden = (server: OlaresTestServer) =>
    Effect.gen(function*() {
      server.setFault("/api/echo/forbidden", { status: 403 })
      const { client } = yield* (yield* HttpAuth).current
      for (let i = 0; i < 5; i++) {
        expect((yield* Effect.flip(client.get("/api/echo/forbidden")))._tag).toBe("PermissionDenied")
      }
      return server.hits("/api/refresh")
    })

  it.live("5 sequential 403s on a token granted moments ago: no refresh at all", () =>
    Effect.gen(function*() {
      const server = yield* testServer()
      yield* seedProfile(server)
      expect(yield* fiveForbidden(server)).toBe(0)
      expect(server.hits("/api/echo/forbidden")).toBe(5)
    }).pipe(Effect.provide(OlaresCliTest), Effect.scoped))

  it.live("5 sequential 403s on a token granted 2 minutes ago: one refresh, then none", () =>
    Effect.gen(function*() {
      const server = yield* testServer()
      yield* seedProfile(server, { ageSeconds: 120 })
      expect(yield* fiveForbidden(server)).toBe(1)
      expect(server.hits("/api/echo/forbidden")).toBe(6)
    }).pipe(Effect.provide(OlaresCliTest), Effect.scoped))
})

describe("under @effect/vitest's TestClock", () => {
  it.scoped("a grant revoked at TestClock 0 is stamped invalidated and stays so", () =>
    Effect.gen(function*() {
      const server = yield* testServer()
      const { olaresId } = yield* seedProfile(server, { state: "expired" })
      server.revokeGrants("alice")
      const auth = yield* HttpAuth
      const { client } = yield* auth.current
      const err = yield* Effect.flip(client.get("/api/olares-info"))
      expect(err).toMatchObject({ _tag: "TokenInvalidated", invalidatedAt: 1 })
      const stored = Option.getOrThrow(yield* (yield* KeyStore).get(olaresId))
      expect(stored.invalidatedAt).toBe(1)
      // it sticks: the next resolution fails at once, with no network call
      server.reset()
      expect((yield* Effect.flip(auth.current))._tag).toBe("TokenInvalidated")
      expect(server.requests()).toHaveLength(0)
    }).pipe(Effect.provide(OlaresCliTest)))

  it.scoped("seedProfile's invalidated state is stamped at max(1, now) too", () =>
    Effect.gen(function*() {
      const server = yield* testServer()
      yield* seedProfile(server, { state: "invalidated" })
      expect(yield* Effect.flip(Effect.flatMap(HttpAuth, (a) => a.current))).toMatchObject({
        _tag: "TokenInvalidated",
        invalidatedAt: 1
      })
    }).pipe(Effect.provide(OlaresCliTest)))

  it.scoped("a refresh waiting on a contended lock times out when the TestClock passes 30 s", () =>
    Effect.gen(function*() {
      const server = yield* testServer()
      yield* seedProfile(server, { state: "expired" })
      const locks = yield* FileLock
      // someone else holds this identity's refresh lock and never lets go
      const path = `${TestPaths.locksDir}/alice@olares.com.refresh.lock`
      const held = yield* Deferred.make<void>()
      yield* Effect.forkScoped(Effect.scoped(
        locks.lock(path, { timeout: "1 second" }).pipe(
          Effect.zipRight(Deferred.succeed(held, undefined)),
          Effect.zipRight(Effect.never)
        )
      ))
      yield* Deferred.await(held)
      expect(yield* locks.isLocked(path)).toBe(true)
      const { client } = yield* (yield* HttpAuth).current
      const call = yield* Effect.fork(client.get("/api/olares-info"))
      yield* TestClock.adjust("29 seconds")
      expect(Option.isNone(yield* Fiber.poll(call))).toBe(true)
      yield* TestClock.adjust("2 seconds")
      expect(yield* Effect.flip(Fiber.join(call))).toMatchObject({ _tag: "LockTimeout", path, seconds: 30 })
      expect(server.hits("/api/refresh")).toBe(0)
    }).pipe(Effect.provide(OlaresCliTest)))
})

describe("quiet", () => {
  it.effect("a library warning is a Warning log entry through the program's logger, never a write", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<ReadonlyArray<string>>([])
      const logger = Logger.make(({ logLevel, message }) => {
        Effect.runSync(Ref.update(entries, (all) => [...all, `${logLevel.label}: ${String(message)}`]))
      })
      yield* Effect.provide(KeyStore, KeyStoreLive).pipe(
        Effect.provide(Layer.succeed(AppPaths, TestPaths)),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["OLARES_CLI_KEYSTORE", "bogus"]]))),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      const logged = yield* Ref.get(entries)
      expect(logged.some((l) => l.startsWith("WARN: ") && l.includes("OLARES_CLI_KEYSTORE"))).toBe(true)
    }))
})
