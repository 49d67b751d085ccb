/** The loopback test server itself: TOTP vectors, JWT minting, endpoint checks, faults, admin API, counters. */
import { describe, expect, it } from "@effect/vitest"
import { decodeJwt, SignJWT } from "jose"
import { createHash } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import * as https from "node:https"
import { join } from "node:path"
import { useServer } from "../support/e2e.js"
import {
  ALICE,
  base32Decode,
  base32Encode,
  BOB,
  type FaultKind,
  hasOpenssl,
  HUGE_BODY_BYTES,
  mintJwt,
  newTotpSecret,
  saltedMd5,
  selfSignedCert,
  startServer,
  totp,
  verifyTotp
} from "../support/server.js"

const fx = useServer()

interface Reply {
  readonly status: number
  readonly text: string
  readonly headers: Headers
  readonly json: () => any
}

const call = async (path: string, init: RequestInit = {}, base = fx.server.url): Promise<Reply> => {
  const r = await fetch(`${base}${path}`, { redirect: "manual", ...init })
  const text = await r.text()
  return { status: r.status, text, headers: r.headers, json: () => JSON.parse(text) }
}

const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })

const firstFactorBody = (username: string, password: string) => ({
  username,
  password: saltedMd5(password),
  keepMeLoggedIn: false,
  requestMethod: "POST",
  targetURL: `https://desktop.${username}.olares.com`,
  acceptCookie: true
})

const authed = (path: string, token: string) => call(path, { headers: { "X-Authorization": token } })

describe("TOTP", () => {
  // RFC 6238 appendix B, SHA1 rows, secret = ASCII "12345678901234567890"
  const rfcSecret = base32Encode(Buffer.from("12345678901234567890"))
  const vectors: ReadonlyArray<readonly [number, string]> = [
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"]
  ]

  it("base32 of the RFC secret is the well-known value and round-trips", () => {
    expect(rfcSecret).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    expect(base32Decode(rfcSecret).toString()).toBe("12345678901234567890")
    expect(base32Decode("gezd gnbv-gy3t qojq gezd gnbv gy3t qojq====").toString()).toBe("12345678901234567890")
    for (let n = 0; n < 40; n++) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff))
      expect(base32Decode(base32Encode(bytes)).equals(bytes)).toBe(true)
    }
    expect(() => base32Decode("ABC1")).toThrow(/invalid base32/)
  })

  it("6-digit code at 59 s is 287082", () => {
    expect(totp(rfcSecret, 59_000)).toBe("287082")
  })

  it.each(vectors)("RFC 6238 vector T=%i -> %s (8 digits) and its last 6 digits", (t, code) => {
    expect(totp(rfcSecret, t * 1000, { digits: 8 })).toBe(code)
    expect(totp(rfcSecret, t * 1000)).toBe(code.slice(2))
  })

  it("verification accepts one step either side, not two", () => {
    const secret = newTotpSecret()
    expect(secret).toMatch(/^[A-Z2-7]{32}$/)
    const t = 1_700_000_015_000
    const code = totp(secret, t)
    expect(verifyTotp(secret, code, t)).toBe(true)
    expect(verifyTotp(secret, code, t + 30_000)).toBe(true)
    expect(verifyTotp(secret, code, t - 30_000)).toBe(true)
    expect(verifyTotp(secret, totp(secret, t + 60_000), t)).toBe(false)
    expect(verifyTotp(secret, "12345", t)).toBe(false)
  })

  it("salted md5 vector", () => {
    expect(saltedMd5("alice-password-123")).toBe("a28f4e1f92e55da43cc6b33b04130a56")
  })
})

describe("JWT minting", () => {
  it("exp = iat + ttl, with username and a random jti", async () => {
    const nowMs = 1_800_000_000_000
    const t = await mintJwt({ username: "alice", ttl: 120, nowMs })
    const p = decodeJwt(t)
    expect(p.iat).toBe(1_800_000_000)
    expect(p.exp).toBe(1_800_000_120)
    expect(p.username).toBe("alice")
    expect(typeof p.jti).toBe("string")
    expect(decodeJwt(await mintJwt({ nowMs })).jti).not.toBe(p.jti)
    expect(decodeJwt(await mintJwt({ expSeconds: 42 })).exp).toBe(42)
    expect(decodeJwt(await mintJwt({ noExp: true })).exp).toBeUndefined()
  })

  it("valid tokens are accepted, expired and foreign ones are not", async () => {
    expect((await authed("/api/backend/v1/user-info", await mintJwt({ ttl: 60 }))).status).toBe(200)
    expect((await authed("/api/backend/v1/user-info", await fx.server.mintJwt({ noExp: true }))).status).toBe(200)
    const expired = await mintJwt({ ttl: -5 })
    expect(decodeJwt(expired).exp! * 1000).toBeLessThan(Date.now())
    expect((await authed("/api/backend/v1/user-info", expired)).status).toBe(401)
    const foreign = await new SignJWT({ username: "alice" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("1h")
      .sign(new Uint8Array(32))
    expect((await authed("/api/backend/v1/user-info", foreign)).status).toBe(401)
    expect((await authed("/api/backend/v1/user-info", "not-a-jwt")).status).toBe(401)
    expect((await call("/api/backend/v1/user-info")).status).toBe(401)
  })

  it("the server's access TTL is configurable, negative mints stale tokens", async () => {
    fx.server.setAccessTtl(-30)
    const r = await postJson("/api/firstfactor?hideCookie=true", firstFactorBody("alice", ALICE.password))
    const token = r.json().data.access_token as string
    expect(decodeJwt(token).exp! * 1000).toBeLessThan(Date.now())
    expect((await authed("/api/olares-info", token)).status).toBe(401)
  })
})

describe("endpoints", () => {
  it("firstfactor: success sets a session cookie and answers the token envelope", async () => {
    const r = await postJson("/api/firstfactor?hideCookie=true", firstFactorBody("alice", ALICE.password))
    expect(r.status).toBe(200)
    expect(r.headers.getSetCookie()[0]).toMatch(/^authelia_session=sid-[^;]+; Path=\/; HttpOnly/)
    const body = r.json()
    expect(body.status).toBe("OK")
    expect(Object.keys(body.data)).toEqual(["access_token", "token_type", "refresh_token", "session_id", "fa2"])
    expect(body.data.token_type).toBe("Bearer")
    expect(body.data.fa2).toBe(false)
    expect(fx.server.isRefreshTokenLive(body.data.refresh_token)).toBe(true)
  })

  it("firstfactor: a wrong password is 401 with the Authelia KO body", async () => {
    const r = await postJson("/api/firstfactor?hideCookie=true", firstFactorBody("alice", "wrong-password"))
    expect(r.status).toBe(401)
    expect(r.json()).toEqual({ status: "KO", message: "Authentication failed. Check your credentials." })
  })

  it("firstfactor: the body is checked exactly", async () => {
    const good = firstFactorBody("alice", ALICE.password)
    const { username: _u, ...rest } = good
    const ff = (body: unknown) => postJson("/api/firstfactor?hideCookie=true", body)
    const cases: ReadonlyArray<readonly [string, Promise<Reply>]> = [
      ["no hideCookie", postJson("/api/firstfactor", good)],
      ["key order", ff({ ...rest, username: "alice" })],
      ["keepMeLoggedIn", ff({ ...good, keepMeLoggedIn: true })],
      ["acceptCookie", ff({ ...good, acceptCookie: false })],
      ["requestMethod", ff({ ...good, requestMethod: "GET" })],
      ["targetURL", ff({ ...good, targetURL: "https://vault.alice.olares.com/server" })],
      ["plain password", ff({ ...good, password: ALICE.password })],
      ["not JSON", ff("username=alice")],
      [
        "content type",
        call("/api/firstfactor?hideCookie=true", {
          method: "POST",
          headers: { Accept: "application/json" },
          body: JSON.stringify(good)
        })
      ]
    ]
    for (const [name, p] of cases) {
      const r = await p
      expect([name, r.status]).toEqual([name, name === "plain password" ? 401 : 400])
    }
  })

  it("firstfactor for a TOTP user: fa2 true, a first-factor token refused elsewhere, no refresh token", async () => {
    const r = await postJson("/api/firstfactor?hideCookie=true", firstFactorBody("bob", BOB.password))
    const data = r.json().data
    expect(data.fa2).toBe(true)
    expect(data.refresh_token).toBeUndefined()
    expect((await authed("/api/backend/v1/user-info", data.access_token)).status).toBe(401)
    expect((await authed("/api/echo/x", data.access_token)).status).toBe(401)
  })

  it("secondfactor: needs the cookie, the first token, X-Unauth-Error and a valid code", async () => {
    const r = await postJson("/api/firstfactor?hideCookie=true", firstFactorBody("bob", BOB.password))
    const cookie = r.headers.getSetCookie()[0]!.split(";")[0]!
    const first = r.json().data.access_token as string
    const body = (code: string) => ({ targetUrl: "https://desktop.bob.olares.com", token: code })
    const base = { "X-Authorization": first, "X-Unauth-Error": "Non-Redirect", Cookie: cookie }
    const code = fx.server.totpNow("bob")
    expect(code).toBe(totp(BOB.totpSecret!, Date.now()))
    expect((await postJson("/api/secondfactor/totp", body(code), { ...base, Cookie: "" })).status).toBe(401)
    expect((await postJson("/api/secondfactor/totp", body(code), { ...base, "X-Authorization": "other" })).status).toBe(
      401
    )
    const noUnauth = await postJson("/api/secondfactor/totp", body(code), { ...base, "X-Unauth-Error": "" })
    expect(noUnauth.status).toBe(302)
    expect(noUnauth.headers.get("location")).toBe("/login")
    const wrong = await postJson("/api/secondfactor/totp", body(code === "000000" ? "111111" : "000000"), base)
    expect(wrong.status).toBe(401)
    expect(wrong.json()).toEqual({ status: "KO", message: "Authentication failed. Check your credentials." })
    const ok = await postJson("/api/secondfactor/totp", body(code), base)
    expect(ok.status).toBe(200)
    const data = ok.json().data
    expect(data.session_id).toBe("")
    expect((await authed("/api/backend/v1/user-info", data.access_token)).json()).toEqual({
      code: 0,
      message: "",
      data: { name: "bob", owner_role: "admin" }
    })
    // the pending session is consumed
    expect((await postJson("/api/secondfactor/totp", body(code), base)).status).toBe(401)
  })

  it("refresh: rotation kills the used token; no rotation omits refresh_token", async () => {
    const g = await fx.server.issueGrant("alice")
    const r1 = await postJson("/api/refresh", { refreshToken: g.refreshToken })
    expect(r1.status).toBe(200)
    const next = r1.json().data.refresh_token as string
    expect(next).not.toBe(g.refreshToken)
    const dead = await postJson("/api/refresh", { refreshToken: g.refreshToken })
    expect(dead.status).toBe(401)
    expect(dead.json().status).toBe("KO")
    fx.server.setRotateRefreshTokens(false)
    const r2 = await postJson("/api/refresh", { refreshToken: next })
    expect(r2.json().data.refresh_token).toBeUndefined()
    expect((await postJson("/api/refresh", { refreshToken: next })).status).toBe(200)
    fx.server.revokeGrants("alice")
    expect((await postJson("/api/refresh", { refreshToken: next })).status).toBe(401)
    expect(fx.server.hits("/api/refresh")).toBe(5)
  })

  it("issueGrant seeds stale profiles", async () => {
    const g = await fx.server.issueGrant("alice", { ttlSeconds: -1 })
    expect((await authed("/api/olares-info", g.accessToken)).status).toBe(401)
    const fresh = (await postJson("/api/refresh", { refreshToken: g.refreshToken })).json().data.access_token
    expect((await authed("/api/olares-info", fresh)).status).toBe(200)
  })

  it("olares-info has the reference shape; the cookie auth_token is accepted too", async () => {
    const t = await mintJwt({ username: "alice" })
    const r = await call("/api/olares-info", { headers: { Cookie: `foo=bar; auth_token=${t}` } })
    expect(r.status).toBe(200)
    const body = r.json()
    expect(body.code).toBe(0)
    expect(body.data.osVersion).toBe("1.12.6")
    expect(Object.keys(body.data)).toEqual([
      "olaresId",
      "wizardStatus",
      "enableReverseProxy",
      "tailScaleEnable",
      "osVersion",
      "loginBackground",
      "avatar",
      "id",
      "did",
      "olaresd",
      "style"
    ])
    expect(body.data.olaresId).toBe("alice@olares.com")
  })

  it("any other path echoes method, path, query, body length and sha256 when authorized", async () => {
    const t = await mintJwt({ username: "alice" })
    const payload = "x".repeat(100_000)
    const r = await call("/api/echo/files/upload?a=1&b=two", {
      method: "PUT",
      headers: { "X-Authorization": t },
      body: payload
    })
    expect(r.status).toBe(200)
    expect(r.json()).toEqual({
      method: "PUT",
      path: "/api/echo/files/upload",
      query: { a: "1", b: "two" },
      user: "alice",
      bodyLength: 100_000,
      bodySha256: createHash("sha256").update(payload).digest("hex")
    })
    expect((await call("/api/echo/x")).status).toBe(401)
    expect(fx.server.lastRequest("/api/echo/files/upload")!.headers["x-authorization"]).toBe(t)
  })
})

describe("faults", () => {
  it("status alone answers a KO JSON with that status; times clears it", async () => {
    fx.server.setFault("/api/refresh", { status: 459, times: 2 })
    const g = await fx.server.issueGrant("alice")
    const a = await postJson("/api/refresh", { refreshToken: g.refreshToken })
    expect(a.status).toBe(459)
    expect(a.json()).toEqual({ status: "KO", message: "simulated HTTP 459" })
    expect((await postJson("/api/refresh", { refreshToken: g.refreshToken })).status).toBe(459)
    expect((await postJson("/api/refresh", { refreshToken: g.refreshToken })).status).toBe(200)
    expect(fx.server.hits("/api/refresh")).toBe(3)
    expect(fx.server.stats().faults).toEqual({})
  })

  it("each body kind", async () => {
    const t = await mintJwt()
    const kinds = async (kind: FaultKind, status?: number) => {
      fx.server.setFault("/api/olares-info", status === undefined ? { kind } : { kind, status })
      return authed("/api/olares-info", t)
    }
    const garbage = await kinds("garbage")
    expect(garbage.status).toBe(200)
    expect(() => JSON.parse(garbage.text)).toThrow()
    const html = await kinds("html", 502)
    expect(html.status).toBe(502)
    expect(html.headers.get("content-type")).toContain("text/html")
    expect(html.text.length).toBeGreaterThan(256)
    expect((await kinds("empty")).text).toBe("")
    expect((await kinds("nodata")).json()).toEqual({ status: "OK" })
    expect((await kinds("status-error")).json()).toEqual({ status: "error", message: "simulated failure" })
    const huge = await kinds("huge")
    expect(huge.text.length).toBe(HUGE_BODY_BYTES)
    await expect(kinds("reset")).rejects.toThrow()
  })

  it("slow delays the normal answer", async () => {
    fx.server.setFault("/api/olares-info", { delayMs: 150 })
    const started = Date.now()
    const r = await authed("/api/olares-info", await mintJwt())
    expect(r.status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })

  it("prefix and wildcard keys; exact keys win", async () => {
    const t = await mintJwt()
    fx.server.setFault("/api/echo/*", { status: 503 })
    fx.server.setFault("*", { status: 500 })
    fx.server.setFault("/api/echo/exact", { status: 418 })
    expect((await authed("/api/echo/a/b", t)).status).toBe(503)
    expect((await authed("/api/echo/exact", t)).status).toBe(418)
    expect((await authed("/api/olares-info", t)).status).toBe(500)
    fx.server.clearFaults()
    expect((await authed("/api/olares-info", t)).status).toBe(200)
  })
})

describe("admin API and counters", () => {
  it("faults, stats and reset over HTTP; admin calls are not counted", async () => {
    const set = await postJson("/__admin/faults", {
      "/api/refresh": { status: 500, times: 1 },
      "/api/olares-info": { kind: "html" }
    })
    expect(set.status).toBe(200)
    expect(fx.server.stats().faults["/api/refresh"]).toEqual({ status: 500, times: 1 })
    await postJson("/__admin/faults", { "/api/olares-info": null })
    expect(Object.keys(fx.server.stats().faults)).toEqual(["/api/refresh"])
    expect((await postJson("/api/refresh", { refreshToken: "rt-unknown-token" })).status).toBe(500)
    expect((await postJson("/api/refresh", { refreshToken: "rt-unknown-token" })).status).toBe(401)
    const stats = (await call("/__admin/stats")).json()
    expect(stats).toEqual({ hits: { "/api/refresh": 2 }, faults: {} })
    await postJson("/__admin/reset", {})
    expect((await call("/__admin/stats")).json()).toEqual({ hits: {}, faults: {} })
    expect(fx.server.requests()).toEqual([])
  })

  it("totp, grants, mint, revoke and config", async () => {
    const code = (await call("/__admin/totp/bob")).json()
    expect(code.code).toMatch(/^\d{6}$/)
    expect(verifyTotp(BOB.totpSecret!, code.code, Date.now())).toBe(true)
    expect((await call("/__admin/totp/alice")).status).toBe(404)

    const g = (await postJson("/__admin/grants", { username: "alice", ttlSeconds: -10 })).json()
    expect(decodeJwt(g.accessToken).exp! * 1000).toBeLessThan(Date.now())
    expect(fx.server.isRefreshTokenLive(g.refreshToken)).toBe(true)

    const minted = (await postJson("/__admin/mint", { username: "bob", noExp: true })).json().token
    expect(decodeJwt(minted)).toMatchObject({ username: "bob" })
    expect(decodeJwt(minted).exp).toBeUndefined()

    await postJson("/__admin/revoke", { username: "alice" })
    expect(fx.server.isRefreshTokenLive(g.refreshToken)).toBe(false)

    const cfg = (await postJson("/__admin/config", { osVersion: "1.12.7-20260101", rotateRefreshTokens: false })).json()
    expect(cfg).toMatchObject({ osVersion: "1.12.7-20260101", rotateRefreshTokens: false })
    expect((await authed("/api/olares-info", minted)).json().data.osVersion).toBe("1.12.7-20260101")
    fx.server.setOsVersion("1.12.6")
  })

  it("counts hits per path, query excluded, and logs requests", async () => {
    await postJson("/api/firstfactor?hideCookie=true", firstFactorBody("alice", ALICE.password))
    await postJson("/api/firstfactor?hideCookie=true", firstFactorBody("alice", "nope-nope"))
    await call("/api/olares-info")
    expect(fx.server.hits("/api/firstfactor")).toBe(2)
    expect(fx.server.hits("/api/olares-info")).toBe(1)
    expect(fx.server.hits("/api/refresh")).toBe(0)
    expect(fx.server.requests().map((r) => r.path)).toEqual([
      "/api/firstfactor",
      "/api/firstfactor",
      "/api/olares-info"
    ])
    expect(fx.server.lastRequest("/api/firstfactor")!.query).toBe("hideCookie=true")
  })

  it("every issued secret is recorded for the leak scan", async () => {
    const dir = process.env.OLARES_LEAK_DIR
    if (dir === undefined) return
    const g = await fx.server.issueGrant("alice")
    const recorded = readdirSync(dir)
      .filter((f) => f.startsWith("secrets-"))
      .flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)))
    const expected = [g.accessToken, g.refreshToken, g.sessionId, ALICE.password, saltedMd5(ALICE.password)]
    for (const s of [...expected, BOB.totpSecret]) expect(recorded).toContain(s)
  })
})

describe("HTTPS", () => {
  it.skipIf(!hasOpenssl())("serves over TLS with a self-signed certificate for 127.0.0.1", async () => {
    const tls = selfSignedCert()
    expect(tls.cert).toContain("BEGIN CERTIFICATE")
    const s = await startServer({ tls })
    try {
      expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
      const status = await new Promise<number>((resolve, reject) => {
        https
          .get(`${s.url}/api/olares-info`, { ca: tls.cert }, (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
          })
          .on("error", reject)
      })
      expect(status).toBe(401)
    } finally {
      await s.close()
    }
  })
})
