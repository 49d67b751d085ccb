/** OlaresAuthApiLive over real loopback HTTP(S) against the test server: wire format, cookies, error mapping. */
import { describe, expect, it } from "@effect/vitest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { decodeJwt } from "jose"
import { createHash } from "node:crypto"
import { HttpClientsLive } from "../../layers/HttpClientsLive.js"
import { OlaresAuthApiLive, saltedPasswordHash } from "../../layers/OlaresAuthApiLive.js"
import { OlaresId } from "../../src/domain/OlaresId.js"
import { type AuthTarget, OlaresAuthApi } from "../../src/services/OlaresAuthApi.js"
import { useServer } from "../support/e2e.js"
import { ALICE, BOB, closedPort, type Fault, hasOpenssl, selfSignedCert, startServer, totp } from "../support/server.js"

const ApiLive = OlaresAuthApiLive.pipe(Layer.provide(HttpClientsLive))

const fx = useServer()

const target = (user: string, url = fx.server.url, insecureSkipVerify = false): AuthTarget => ({
  authUrl: url,
  olaresId: OlaresId.make(`${user}@olares.com`),
  insecureSkipVerify
})

const login = (t: AuthTarget, password: string, code?: string) =>
  Effect.flatMap(
    OlaresAuthApi,
    (api) => api.login(t, Redacted.make(password), Option.map(Option.fromNullable(code), Redacted.make))
  ).pipe(Effect.provide(ApiLive))

const refresh = (t: AuthTarget, rt: string, at?: string, timeout: Duration.DurationInput = "10 seconds") =>
  Effect.flatMap(
    OlaresAuthApi,
    (api) => api.refresh(t, Redacted.make(rt), Option.map(Option.fromNullable(at), Redacted.make), timeout)
  ).pipe(Effect.provide(ApiLive))

const userInfo = (token: string, url = fx.server.url) =>
  fetch(`${url}/api/backend/v1/user-info`, { headers: { "X-Authorization": token } })

const sessionCookie = (res: Response): string => {
  const set = res.headers.getSetCookie()[0] ?? ""
  return set.split(";")[0]!
}

// Messages of any error: none may contain a credential.
const assertNoSecrets = (message: string, ...secrets: ReadonlyArray<string>) => {
  for (const s of secrets) expect(message).not.toContain(s)
}

describe("login (firstfactor)", () => {
  it.effect("logs in a user without 2FA and sends the exact firstfactor body", () =>
    Effect.gen(function*() {
      const grant = yield* login(target("alice"), ALICE.password)
      const access = Redacted.value(grant.accessToken)
      expect(decodeJwt(access).username).toBe("alice")
      expect(Option.isSome(grant.refreshToken)).toBe(true)
      expect(Option.isSome(grant.sessionId)).toBe(true)
      expect(fx.server.hits("/api/firstfactor")).toBe(1)
      expect(fx.server.hits("/api/secondfactor/totp")).toBe(0)

      const req = fx.server.lastRequest("/api/firstfactor")!
      expect(req.method).toBe("POST")
      expect(req.query).toBe("hideCookie=true")
      expect(req.headers["content-type"]).toBe("application/json")
      expect(req.headers["accept"]).toBe("application/json")
      expect(req.headers["x-authorization"]).toBeUndefined()
      // the md5 vector: md5("alice-password-123@Olares2025")
      expect(createHash("md5").update("alice-password-123@Olares2025").digest("hex")).toBe(
        "a28f4e1f92e55da43cc6b33b04130a56"
      )
      expect(saltedPasswordHash("alice-password-123")).toBe("a28f4e1f92e55da43cc6b33b04130a56")
      expect(req.body).toBe(
        "{\"username\":\"alice\",\"password\":\"a28f4e1f92e55da43cc6b33b04130a56\",\"keepMeLoggedIn\":false," +
          "\"requestMethod\":\"POST\",\"targetURL\":\"https://desktop.alice.olares.com\",\"acceptCookie\":true}"
      )
      expect(req.body).not.toContain(ALICE.password)
      expect(req.headers["traceparent"]).toBeUndefined()

      const res = yield* Effect.promise(() => userInfo(access))
      expect(res.status).toBe(200)
      expect(yield* Effect.promise(() => res.json())).toEqual({
        code: 0,
        message: "",
        data: { name: "alice", owner_role: "owner" }
      })
    }))

  it.effect("username and targetURL come from the olaresId (local part, domain), never from the auth URL", () =>
    Effect.gen(function*() {
      const other = yield* Effect.promise(() =>
        startServer({ domain: "example.com", users: [{ username: "carol", password: "carol-password-789" }] })
      )
      const t: AuthTarget = {
        authUrl: other.url,
        olaresId: OlaresId.make("carol@example.com"),
        insecureSkipVerify: false
      }
      yield* login(t, "carol-password-789").pipe(Effect.ensuring(Effect.promise(() => other.close())))
      const body = JSON.parse(other.lastRequest("/api/firstfactor")!.body)
      expect(body.username).toBe("carol")
      expect(body.targetURL).toBe("https://desktop.carol.example.com")
    }))

  it.effect("a wrong password is LoginRejected naming /api/firstfactor, without the password", () =>
    Effect.gen(function*() {
      const err = yield* login(target("alice"), "not-the-password").pipe(Effect.flip)
      expect(err._tag).toBe("LoginRejected")
      if (err._tag !== "LoginRejected") return
      expect(err.endpoint).toBe("/api/firstfactor")
      // the reference's text (the JSON body summarised to its message, never echoed whole)
      expect(err.message).toBe("/api/firstfactor returned HTTP 401: Authentication failed. Check your credentials.")
      expect(err.exitCode).toBe(4)
      assertNoSecrets(err.message, "not-the-password", saltedPasswordHash("not-the-password"))
    }))

  it.effect("an unknown user is LoginRejected", () =>
    Effect.gen(function*() {
      const err = yield* login(target("mallory"), "whatever-password").pipe(Effect.flip)
      expect(err._tag).toBe("LoginRejected")
    }))
})

describe("login with TOTP (secondfactor)", () => {
  it.effect("a correct code completes the login; cookie, X-Authorization and X-Unauth-Error are sent", () =>
    Effect.gen(function*() {
      const code = totp(BOB.totpSecret!, Date.now())
      const grant = yield* login(target("bob"), BOB.password, code)
      const access = Redacted.value(grant.accessToken)
      expect(fx.server.hits("/api/firstfactor")).toBe(1)
      expect(fx.server.hits("/api/secondfactor/totp")).toBe(1)
      expect((yield* Effect.promise(() => userInfo(access))).status).toBe(200)

      const second = fx.server.lastRequest("/api/secondfactor/totp")!
      expect(second.body).toBe(`{"targetUrl":"https://desktop.bob.olares.com","token":"${code}"}`)
      expect(second.headers["x-unauth-error"]).toBe("Non-Redirect")
      expect(second.headers["content-type"]).toBe("application/json")
      expect(second.headers["accept"]).toBe("application/json")
      // X-Authorization is the first-factor token, which the desktop endpoints refuse
      const firstToken = second.headers["x-authorization"] as string
      expect(firstToken).not.toBe(access)
      expect((yield* Effect.promise(() => userInfo(firstToken))).status).toBe(401)
      // the server answered an empty session_id: the first one is kept, and it is the cookie that was carried
      expect(Option.isSome(grant.sessionId)).toBe(true)
      expect(second.headers["cookie"]).toBe(`authelia_session=${Option.getOrThrow(grant.sessionId)}`)
      expect(Option.isSome(grant.refreshToken)).toBe(true)
    }))

  it.effect("a new session_id from the second factor wins over the first one", () =>
    Effect.gen(function*() {
      const other = yield* Effect.promise(() => startServer({ secondFactorSessionId: "new" }))
      const grant = yield* login(target("bob", other.url), BOB.password, totp(BOB.totpSecret!, Date.now())).pipe(
        Effect.ensuring(Effect.promise(() => other.close()))
      )
      const cookie = other.lastRequest("/api/secondfactor/totp")!.headers["cookie"]
      expect(cookie).not.toBe(`authelia_session=${Option.getOrThrow(grant.sessionId)}`)
    }))

  it.effect("a wrong code is LoginRejected naming /api/secondfactor/totp", () =>
    Effect.gen(function*() {
      const good = totp(BOB.totpSecret!, Date.now())
      const bad = good === "000000" ? "111111" : "000000"
      const err = yield* login(target("bob"), BOB.password, bad).pipe(Effect.flip)
      expect(err._tag).toBe("LoginRejected")
      if (err._tag !== "LoginRejected") return
      expect(err.endpoint).toBe("/api/secondfactor/totp")
      expect(err.message).toBe(
        "/api/secondfactor/totp returned HTTP 401: Authentication failed. Check your credentials."
      )
      assertNoSecrets(err.message, bad, BOB.password)
    }))

  it.effect("no code when the server says fa2 is TotpRequired, without calling secondfactor", () =>
    Effect.gen(function*() {
      const err = yield* login(target("bob"), BOB.password).pipe(Effect.flip)
      expect(err._tag).toBe("TotpRequired")
      expect(err.message).toBe("two-factor authentication required: re-run with --totp <code>")
      expect(fx.server.hits("/api/firstfactor")).toBe(1)
      expect(fx.server.hits("/api/secondfactor/totp")).toBe(0)
    }))

  it.effect("a TOTP code is ignored for an account without 2FA", () =>
    Effect.gen(function*() {
      yield* login(target("alice"), ALICE.password, "123456")
      expect(fx.server.hits("/api/secondfactor/totp")).toBe(0)
    }))

  it.effect("the server really needs the cookie: secondfactor without it is 401, with it 200", () =>
    Effect.gen(function*() {
      const first = yield* Effect.promise(() =>
        fetch(`${fx.server.url}/api/firstfactor?hideCookie=true`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({
            username: "bob",
            password: saltedPasswordHash(BOB.password),
            keepMeLoggedIn: false,
            requestMethod: "POST",
            targetURL: "https://desktop.bob.olares.com",
            acceptCookie: true
          })
        })
      )
      expect(first.status).toBe(200)
      const cookie = sessionCookie(first)
      expect(cookie).toMatch(/^authelia_session=/)
      const body = (yield* Effect.promise(() => first.json())) as { data: { access_token: string; fa2: boolean } }
      expect(body.data.fa2).toBe(true)
      const second = (headers: Record<string, string>) =>
        Effect.promise(() =>
          fetch(`${fx.server.url}/api/secondfactor/totp`, {
            method: "POST",
            redirect: "manual",
            headers: { "Content-Type": "application/json", "X-Authorization": body.data.access_token, ...headers },
            body: JSON.stringify({
              targetUrl: "https://desktop.bob.olares.com",
              token: totp(BOB.totpSecret!, Date.now())
            })
          })
        )
      expect((yield* second({ "X-Unauth-Error": "Non-Redirect" })).status).toBe(401)
      expect((yield* second({ Cookie: cookie })).status).toBe(302)
      expect((yield* second({ "X-Unauth-Error": "Non-Redirect", Cookie: cookie })).status).toBe(200)
    }))
})

describe("refresh", () => {
  it.effect("rotates: new access and refresh tokens, the old refresh token is dead afterwards", () =>
    Effect.gen(function*() {
      const g = yield* Effect.promise(() => fx.server.issueGrant("alice", { ttlSeconds: -60 }))
      expect((yield* Effect.promise(() => userInfo(g.accessToken))).status).toBe(401)
      const r = yield* refresh(target("alice"), g.refreshToken, g.accessToken)
      const access = Redacted.value(r.accessToken)
      expect(access).not.toBe(g.accessToken)
      expect((yield* Effect.promise(() => userInfo(access))).status).toBe(200)
      const next = Redacted.value(Option.getOrThrow(r.refreshToken))
      expect(next).not.toBe(g.refreshToken)
      expect(fx.server.isRefreshTokenLive(g.refreshToken)).toBe(false)
      expect(Option.getOrThrow(r.sessionId)).toBe(g.sessionId)

      const req = fx.server.lastRequest("/api/refresh")!
      expect(req.body).toBe(JSON.stringify({ refreshToken: g.refreshToken }))
      expect(req.headers["x-authorization"]).toBe(g.accessToken)
      expect(req.headers["content-type"]).toBe("application/json")
      expect(req.headers["accept"]).toBe("application/json")

      const err = yield* refresh(target("alice"), g.refreshToken).pipe(Effect.flip)
      expect(err).toMatchObject({ _tag: "RefreshRejected", status: 401 })
      expect(fx.server.lastRequest("/api/refresh")!.headers["x-authorization"]).toBeUndefined()
      expect(fx.server.hits("/api/refresh")).toBe(2)

      yield* refresh(target("alice"), next)
      expect(fx.server.hits("/api/refresh")).toBe(3)
    }))

  it.effect("without rotation the reply has no refresh_token: Option.none() and the old token keeps working", () =>
    Effect.gen(function*() {
      fx.server.setRotateRefreshTokens(false)
      const g = yield* Effect.promise(() => fx.server.issueGrant("alice"))
      const r1 = yield* refresh(target("alice"), g.refreshToken)
      expect(Option.isNone(r1.refreshToken)).toBe(true)
      const r2 = yield* refresh(target("alice"), g.refreshToken)
      expect(Redacted.value(r2.accessToken)).not.toBe("")
      expect(fx.server.hits("/api/refresh")).toBe(2)
    }))

  it.effect.each([401, 403, 459])("HTTP %i is RefreshRejected", (status) =>
    Effect.gen(function*() {
      const g = yield* Effect.promise(() => fx.server.issueGrant("alice"))
      fx.server.setFault("/api/refresh", { status, times: 1 })
      const err = yield* refresh(target("alice"), g.refreshToken).pipe(Effect.flip)
      expect(err).toMatchObject({ _tag: "RefreshRejected", status })
      expect(fx.server.hits("/api/refresh")).toBe(1)
    }))
})

interface TransientCase {
  readonly name: string
  readonly fault: Fault
  readonly tag: string
  readonly contains: string
}

const transientCases: ReadonlyArray<TransientCase> = [
  { name: "500", fault: { status: 500 }, tag: "HttpStatusError", contains: "returned HTTP 500: {\"status\":\"KO\"" },
  { name: "502 html page", fault: { status: 502, kind: "html" }, tag: "HttpStatusError", contains: "...(truncated)" },
  { name: "404", fault: { status: 404 }, tag: "HttpStatusError", contains: "returned HTTP 404" },
  { name: "garbage", fault: { kind: "garbage" }, tag: "ResponseDecodeError", contains: "response is not JSON" },
  { name: "html on 200", fault: { kind: "html" }, tag: "ResponseDecodeError", contains: "response is not JSON" },
  { name: "empty", fault: { kind: "empty" }, tag: "ResponseDecodeError", contains: "empty response body" },
  { name: "nodata", fault: { kind: "nodata" }, tag: "ResponseDecodeError", contains: "response has no data" },
  { name: "huge", fault: { kind: "huge" }, tag: "ResponseDecodeError", contains: "larger than 1048576 bytes" },
  { name: "huge on 500", fault: { kind: "huge", status: 500 }, tag: "HttpStatusError", contains: "...(truncated)" },
  { name: "reset", fault: { kind: "reset" }, tag: "TransportError", contains: "127.0.0.1" }
]

describe("transient failures name the endpoint", () => {
  it.effect.each(transientCases)("/api/refresh: $name -> $tag", (c) =>
    Effect.gen(function*() {
      const g = yield* Effect.promise(() => fx.server.issueGrant("alice"))
      fx.server.setFault("/api/refresh", c.fault)
      const err = yield* refresh(target("alice"), g.refreshToken, g.accessToken).pipe(Effect.flip)
      expect(err._tag).toBe(c.tag)
      expect(err.message.startsWith("/api/refresh")).toBe(true)
      expect(err.message).toContain(c.contains)
      expect(err.message.length).toBeLessThan(600)
      assertNoSecrets(err.message, g.refreshToken, g.accessToken)
      // a transient failure never burns the grant
      expect(fx.server.isRefreshTokenLive(g.refreshToken)).toBe(true)
    }))

  it.effect.each(transientCases)("/api/firstfactor: $name -> $tag", (c) =>
    Effect.gen(function*() {
      fx.server.setFault("/api/firstfactor", c.fault)
      const err = yield* login(target("alice"), ALICE.password).pipe(Effect.flip)
      expect(err._tag).toBe(c.tag)
      expect(err.message.startsWith("/api/firstfactor")).toBe(true)
      expect(err.message).toContain(c.contains)
      assertNoSecrets(err.message, ALICE.password, saltedPasswordHash(ALICE.password))
    }))

  it.effect("/api/secondfactor/totp: 500 is HttpStatusError naming it", () =>
    Effect.gen(function*() {
      fx.server.setFault("/api/secondfactor/totp", { status: 500 })
      const code = totp(BOB.totpSecret!, Date.now())
      const err = yield* login(target("bob"), BOB.password, code).pipe(Effect.flip)
      expect(err._tag).toBe("HttpStatusError")
      expect(err.message.startsWith("/api/secondfactor/totp returned HTTP 500")).toBe(true)
    }))

  it.effect("status-error on refresh is a ResponseDecodeError quoting the status and message", () =>
    Effect.gen(function*() {
      const g = yield* Effect.promise(() => fx.server.issueGrant("alice"))
      fx.server.setFault("/api/refresh", { kind: "status-error" })
      const err = yield* refresh(target("alice"), g.refreshToken).pipe(Effect.flip)
      expect(err._tag).toBe("ResponseDecodeError")
      expect(err.message).toBe("/api/refresh: refresh failed: error: simulated failure")
    }))

  it.effect("status-error on firstfactor is LoginRejected (a verdict of the auth server)", () =>
    Effect.gen(function*() {
      fx.server.setFault("/api/firstfactor", { kind: "status-error" })
      const err = yield* login(target("alice"), ALICE.password).pipe(Effect.flip)
      expect(err._tag).toBe("LoginRejected")
      expect(err.message).toBe("/api/firstfactor: first-factor authentication failed: error: simulated failure")
    }))

  it.live("slow refresh hits the given timeout", () =>
    Effect.gen(function*() {
      const g = yield* Effect.promise(() => fx.server.issueGrant("alice"))
      fx.server.setFault("/api/refresh", { delayMs: 5_000 })
      const started = Date.now()
      const err = yield* refresh(target("alice"), g.refreshToken, undefined, "300 millis").pipe(Effect.flip)
      expect(Date.now() - started).toBeLessThan(3_000)
      expect(err).toMatchObject({ _tag: "TimeoutError", endpoint: "/api/refresh", seconds: 0.3 })
      expect(err.message).toBe("/api/refresh: no answer within 0.3s")
    }))

  it.live("a delay shorter than the timeout succeeds", () =>
    Effect.gen(function*() {
      const g = yield* Effect.promise(() => fx.server.issueGrant("alice"))
      fx.server.setFault("/api/refresh", { delayMs: 100 })
      const r = yield* refresh(target("alice"), g.refreshToken, undefined, "5 seconds")
      expect(Option.isSome(r.refreshToken)).toBe(true)
    }))

  it.effect("login calls time out after 10 s (TestClock)", () =>
    Effect.gen(function*() {
      fx.server.setFault("/api/firstfactor", { delayMs: 30_000, times: 1 })
      const fiber = yield* Effect.fork(login(target("alice"), ALICE.password))
      yield* Effect.promise(async () => {
        while (fx.server.hits("/api/firstfactor") === 0) await new Promise((r) => setTimeout(r, 5))
      })
      yield* TestClock.adjust("10 seconds")
      const exit = yield* Fiber.join(fiber).pipe(Effect.flip)
      expect(exit).toMatchObject({ _tag: "TimeoutError", endpoint: "/api/firstfactor", seconds: 10 })
    }))

  it.effect("connection refused is a TransportError naming the endpoint and the address", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => closedPort())
      const url = `http://127.0.0.1:${port}`
      const e1 = yield* login(target("alice", url), ALICE.password).pipe(Effect.flip)
      expect(e1._tag).toBe("TransportError")
      expect(e1.message).toContain("/api/firstfactor: cannot connect to")
      expect(e1.message).toContain(`127.0.0.1:${port}`)
      expect(e1.message).toContain("connection refused")
      const e2 = yield* refresh(target("alice", url), "rt-some-refresh-token").pipe(Effect.flip)
      expect(e2._tag).toBe("TransportError")
      expect(e2.message.startsWith("/api/refresh: cannot connect to")).toBe(true)
      assertNoSecrets(e2.message, "rt-some-refresh-token")
    }))

  it.effect("an unresolvable host is a TransportError", () =>
    Effect.gen(function*() {
      const e = yield* login(target("alice", "http://auth.alice.invalid"), ALICE.password).pipe(Effect.flip)
      expect(e._tag).toBe("TransportError")
      expect(e.message.startsWith("/api/firstfactor:")).toBe(true)
    }))

  it.effect("an empty access_token is a ResponseDecodeError", () =>
    Effect.gen(function*() {
      const other = yield* Effect.promise(async () => {
        const http = await import("node:http")
        const s = http.createServer((_req, res) => {
          res.writeHead(200, { "content-type": "application/json" })
          res.end(JSON.stringify({ status: "OK", data: { access_token: "", refresh_token: "rt-abcdefgh" } }))
        })
        await new Promise<void>((r) => s.listen(0, "127.0.0.1", r))
        return s
      })
      const url = `http://127.0.0.1:${(other.address() as { port: number }).port}`
      const e1 = yield* refresh(target("alice", url), "rt-whatever-token").pipe(Effect.flip)
      expect(e1.message).toBe("/api/refresh: refresh returned empty access_token")
      const e2 = yield* login(target("alice", url), ALICE.password).pipe(Effect.flip)
      expect(e2.message).toBe("/api/firstfactor: response carried an empty access_token")
      yield* Effect.promise(() => new Promise((r) => other.close(r)))
    }))
})

describe("TLS", () => {
  if (!hasOpenssl()) {
    console.warn("TLS tests skipped: the openssl CLI is not installed, so no self-signed certificate can be made")
  }

  it.effect.skipIf(!hasOpenssl())(
    "a self-signed HTTPS server fails verification unless insecureSkipVerify",
    () =>
      Effect.gen(function*() {
        const tlsServer = yield* Effect.promise(() => startServer({ tls: selfSignedCert() }))
        expect(tlsServer.url.startsWith("https://127.0.0.1:")).toBe(true)
        const err = yield* login(target("alice", tlsServer.url), ALICE.password).pipe(Effect.flip)
        expect(err._tag).toBe("TransportError")
        expect(err.message).toContain("/api/firstfactor: TLS certificate verification failed")
        expect(err.message).toContain("--insecure-skip-verify")
        expect(tlsServer.hits("/api/firstfactor")).toBe(0)

        const grant = yield* login(target("alice", tlsServer.url, true), ALICE.password)
        expect(decodeJwt(Redacted.value(grant.accessToken)).username).toBe("alice")
        const rt = Redacted.value(Option.getOrThrow(grant.refreshToken))
        const r = yield* refresh(target("alice", tlsServer.url, true), rt)
        expect(Option.isSome(r.refreshToken)).toBe(true)
        const e2 = yield* refresh(target("alice", tlsServer.url, false), rt).pipe(Effect.flip)
        expect(e2._tag).toBe("TransportError")
        yield* Effect.promise(() => tlsServer.close())
      })
  )

  it.effect.skipIf(!hasOpenssl())("https to a plain HTTP server is a TLS TransportError", () =>
    Effect.gen(function*() {
      const err = yield* login(target("alice", fx.server.url.replace("http:", "https:")), ALICE.password).pipe(
        Effect.flip
      )
      expect(err._tag).toBe("TransportError")
      expect(err.message).toContain("TLS")
    }))
})
