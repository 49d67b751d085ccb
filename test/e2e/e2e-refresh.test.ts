/**
 * End to end: transparent refresh through the built CLI (spec section 7). Real processes, real
 * loopback HTTP, temp homes seeded through the real layers, every output leak-scanned.
 */
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { refreshLockPath } from "../../layers/RefreshCoordinatorLive.js"
import { BIN, makeTempHome, runCli, type TempHome } from "../support/cli.js"
import { flockBusy } from "../support/golock.js"
import { recordOutput } from "../support/leaks.js"
import { holds, mustRecord, readConfig, readRecord, recordBytes, seedProfile } from "../support/seed.js"
import { closedPort, type OlaresTestServer, startServer } from "../support/server.js"

const ID = "alice@olares.com"
const LOGIN = `profile login --olares-id ${ID}`

let server: OlaresTestServer
const homes: Array<TempHome> = []

beforeAll(async () => {
  server = await startServer()
})

afterAll(async () => {
  await server.close()
  for (const h of homes) h.cleanup()
})

beforeEach(() => {
  server.reset()
  server.setRotateRefreshTokens(true)
})

/** A temp home whose current profile is alice on `srv`, holding a grant with this access-token TTL. */
const homeWithGrant = async (ttlSeconds: number, srv: OlaresTestServer = server) => {
  const home = makeTempHome()
  homes.push(home)
  const grant = await srv.issueGrant("alice", { ttlSeconds })
  await seedProfile(home, {
    olaresId: ID,
    accessToken: grant.accessToken,
    refreshToken: grant.refreshToken,
    sessionId: grant.sessionId,
    authUrlOverride: srv.url
  })
  return { home, grant }
}

/** A stale profile: the access token expired a minute ago (the server 401s it), the refresh token is live. */
const staleHome = (srv: OlaresTestServer = server) => homeWithGrant(-60, srv)

const api = (home: TempHome, args: ReadonlyArray<string>, timeoutMs = 30_000) =>
  runCli(["api", ...args], { env: home.env, timeoutMs })

const statusOf = async (home: TempHome): Promise<string> => {
  const r = await runCli(["profile", "list", "-o", "json"], { env: home.env })
  expect(r.code).toBe(0)
  const rows = JSON.parse(r.stdout).profiles as Array<{ olaresId: string; status: string }>
  return rows.find((row) => row.olaresId === ID)?.status ?? "missing"
}

const waitFor = async (what: string, cond: () => boolean, timeoutMs = 15_000) => {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Whether some process holds the (config home's) refresh lock now, asked through flock(1). */
const refreshLockHeld = (home: TempHome) => flockBusy(refreshLockPath(join(home.home, "locks"), ID))

const configBytes = (home: TempHome) => readFileSync(join(home.home, "config.json"))

/** The `X-Authorization` of every request the server saw on `path`, oldest first. */
const tokensSentTo = (srv: OlaresTestServer, path: string) =>
  srv.requests().filter((r) => r.path === path).map((r) => String(r.headers["x-authorization"] ?? ""))

const refreshTokenSent = (srv: OlaresTestServer): string =>
  JSON.parse(srv.lastRequest("/api/refresh")?.body ?? "{}").refreshToken ?? ""

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex")

// ---------------------------------------------------------------------------------------------

describe("refresh storm", () => {
  it("32 concurrent api processes on one stale profile make exactly one /api/refresh", async () => {
    const { grant, home } = await staleHome()
    const N = 32
    const results = await Promise.all(Array.from({ length: N }, () => api(home, ["/api/echo/x"], 60_000)))

    for (const r of results) {
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ method: "GET", path: "/api/echo/x", user: "alice" })
    }
    expect(server.hits("/api/refresh")).toBe(1)
    expect(refreshTokenSent(server) === grant.refreshToken).toBe(true)

    // The store holds the rotated pair. The new access token is the one the single refresh issued:
    // every echo request carried either the stale token or the stored one, and exactly one request
    // per process carried the stored one and was accepted (no token minted anywhere else reached it).
    const rec = await mustRecord(home, ID)
    expect(rec.invalidatedAt ?? 0).toBe(0)
    expect(holds(rec.accessToken, grant.accessToken)).toBe(false)
    const fresh = Redacted.value(rec.accessToken)
    const sent = tokensSentTo(server, "/api/echo/x")
    expect(sent.every((t) => t === grant.accessToken || t === fresh)).toBe(true)
    expect(sent.filter((t) => t === fresh).length).toBe(N)
    expect(sent.length).toBe(server.hits("/api/echo/x"))
    const rt = rec.refreshToken === undefined ? "" : Redacted.value(rec.refreshToken)
    expect(rt !== grant.refreshToken).toBe(true)
    expect(server.isRefreshTokenLive(rt)).toBe(true)
    expect(server.isRefreshTokenLive(grant.refreshToken)).toBe(false)

    expect(refreshLockHeld(home)).toBe(false)
    expect(await statusOf(home)).toBe("logged-in")
  })
})

// ---------------------------------------------------------------------------------------------

/** Spawns `api /api/echo/x`, waits until its `/api/refresh` is on the server (lock held), SIGKILLs it. */
const killDuringRefresh = async (home: TempHome) => {
  server.setFault("/api/refresh", { delayMs: 3000, times: 1 })
  const child = spawn(process.execPath, [BIN, "api", "/api/echo/x"], {
    env: { PATH: process.env.PATH ?? "", ...home.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("close", (_code, signal) => resolve(signal)))
  await waitFor("the refresh request", () => server.hits("/api/refresh") === 1)
  expect(refreshLockHeld(home)).toBe(true)
  child.kill("SIGKILL")
  const signal = await exited
  recordOutput("olares-cli api /api/echo/x (SIGKILLed)", stdout)
  recordOutput("olares-cli api /api/echo/x (SIGKILLed)", stderr)
  expect(signal).toBe("SIGKILL")
  // the kernel dropped the dead holder's lock with its process: free at once
  expect(refreshLockHeld(home)).toBe(false)
}

describe("SIGKILL while holding the refresh lock", () => {
  // The killed process's request still reaches the server, which (after its 3 s delay) would rotate
  // the refresh token the stored record holds. With rotation on, the honest outcome for the next
  // process is "grant dead" (second test). To check the takeover itself succeeds end to end, the
  // first test turns rotation off, so the stored refresh token stays live.
  it("the dead holder's lock is free at once and the next call succeeds (rotation off)", async () => {
    server.setRotateRefreshTokens(false)
    const { grant, home } = await staleHome()
    await killDuringRefresh(home)
    const cfgBefore = configBytes(home)

    const t0 = Date.now()
    const r = await api(home, ["/api/echo/x"])
    const elapsed = Date.now() - t0
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ path: "/api/echo/x", user: "alice" })
    expect(elapsed).toBeLessThan(15_000)
    expect(server.hits("/api/refresh")).toBe(2)

    expect(configBytes(home).equals(cfgBefore)).toBe(true)
    const cfg = await readConfig(home)
    expect(cfg.profiles.map((p) => p.olaresId)).toEqual([ID])
    const rec = await mustRecord(home, ID)
    expect(holds(rec.accessToken, grant.accessToken)).toBe(false)
    expect(holds(rec.refreshToken, grant.refreshToken)).toBe(true)
    expect(server.isRefreshTokenLive(grant.refreshToken)).toBe(true)
    expect(refreshLockHeld(home)).toBe(false)
    expect(await statusOf(home)).toBe("logged-in")
  })

  it("with rotation on, the next call finds the grant rotated away: invalidated, no deadlock, nothing corrupt", async () => {
    const { grant, home } = await staleHome()
    await killDuringRefresh(home)
    // the dead process's exchange completes server-side and rotates the grant it used
    await waitFor("the server-side rotation", () => !server.isRefreshTokenLive(grant.refreshToken))

    const t0 = Date.now()
    const r = await api(home, ["/api/echo/x"])
    expect(Date.now() - t0).toBeLessThan(15_000)
    expect(r.code).toBe(4)
    expect(r.stderr).toContain(LOGIN)
    expect(server.hits("/api/refresh")).toBe(2)
    const rec = await mustRecord(home, ID)
    expect(rec.invalidatedAt ?? 0).toBeGreaterThan(0)
    expect(holds(rec.refreshToken, grant.refreshToken)).toBe(true)
    expect((await readConfig(home)).profiles.length).toBe(1)
    expect(refreshLockHeld(home)).toBe(false)
  })
})

// ---------------------------------------------------------------------------------------------

describe("/api/refresh rejects the grant", () => {
  it.each([401, 403, 459])("HTTP %i: exit 4 with the recovery, invalidated, next call is offline", async (status) => {
    const { grant, home } = await staleHome()
    server.setFault("/api/refresh", { status })

    const r = await api(home, ["/api/echo/x"])
    expect(r.code).toBe(4)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain(`refresh token for ${ID} became invalid at`)
    expect(r.stderr).toContain(LOGIN)
    expect(server.hits("/api/refresh")).toBe(1)
    expect(await statusOf(home)).toBe("invalidated")
    const rec = await mustRecord(home, ID)
    expect(rec.invalidatedAt ?? 0).toBeGreaterThan(0)
    // marked, not deleted: the tokens are still there for inspection
    expect(holds(rec.accessToken, grant.accessToken)).toBe(true)
    expect(holds(rec.refreshToken, grant.refreshToken)).toBe(true)

    server.setFault("/api/refresh", undefined)
    const before = server.stats().hits
    const again = await api(home, ["/api/echo/x"])
    expect(server.stats().hits).toEqual(before)
    expect(again.code).toBe(4)
    expect(again.stderr).toContain(LOGIN)
  })
})

// ---------------------------------------------------------------------------------------------

/** A server that 401s every request, then stops listening, so the `/api/refresh` that follows is refused. */
const refusingAfterFirstRequest = async () => {
  const srv = createServer((_req, res) => {
    res.writeHead(401, { "content-type": "application/json", connection: "close" })
    res.end(JSON.stringify({ code: 401, message: "Unauthorized" }), () => {
      srv.close()
      srv.closeAllConnections()
    })
  })
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve))
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => srv.close() }
}

describe("transient refresh failures never invalidate", () => {
  const checkTransient = async (home: TempHome, endpoint: string, before: { record: Buffer; config: Buffer }) => {
    const r = await api(home, ["/api/echo/x"], 40_000)
    expect(r.code).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain(endpoint)
    expect(r.stderr).not.toContain("profile login")
    expect(r.stderr).not.toContain("became invalid")
    expect((await recordBytes(home, ID)).equals(before.record)).toBe(true)
    expect(configBytes(home).equals(before.config)).toBe(true)
    expect(await statusOf(home)).toBe("expired")
    return r
  }

  const snapshot = async (home: TempHome) => ({ record: await recordBytes(home, ID), config: configBytes(home) })

  // Each case has its own server so they can run side by side (the timeout case waits 15 s).
  it.concurrent.each([
    ["HTTP 500", { status: 500 }],
    ["garbage body", { kind: "garbage" as const }],
    ["HTML error page", { kind: "html" as const, status: 502 }],
    ["connection reset", { kind: "reset" as const }],
    ["no answer within the 15 s timeout", { delayMs: 16_000 }]
  ])("%s", async (_label, fault) => {
    const srv = await startServer()
    try {
      const { home } = await staleHome(srv)
      srv.setFault("/api/refresh", fault)
      const before = await snapshot(home)
      await checkTransient(home, "/api/refresh", before)
      // exactly one exchange, one original request: no retry loops
      expect(srv.hits("/api/refresh")).toBe(1)
      expect(srv.hits("/api/echo/x")).toBe(1)
    } finally {
      await srv.close()
    }
  })

  it.concurrent("connection refused on /api/refresh", async () => {
    const srv = await refusingAfterFirstRequest()
    try {
      const home = makeTempHome()
      homes.push(home)
      const stale = await server.mintJwt({ username: "alice", ttl: -60 })
      const { refreshToken } = await server.issueGrant("alice")
      await seedProfile(home, { olaresId: ID, accessToken: stale, refreshToken, authUrlOverride: srv.url })
      const before = await snapshot(home)
      const r = await checkTransient(home, "/api/refresh", before)
      expect(r.stderr).toMatch(/ECONNREFUSED|refused|ECONNRESET|socket hang up/i)
    } finally {
      srv.close()
    }
  })

  it.concurrent("the whole host refusing connections", async () => {
    const port = await closedPort()
    const home = makeTempHome()
    homes.push(home)
    const stale = await server.mintJwt({ username: "alice", ttl: -60 })
    await seedProfile(home, {
      olaresId: ID,
      accessToken: stale,
      refreshToken: (await server.issueGrant("alice")).refreshToken,
      authUrlOverride: `http://127.0.0.1:${port}`
    })
    await checkTransient(home, "/api/echo/x", await snapshot(home))
  })
})

// ---------------------------------------------------------------------------------------------

describe("streaming upload", () => {
  const upload = async (ttlSeconds: number) => {
    const { grant, home } = await homeWithGrant(ttlSeconds)
    const file = join(home.root, "upload.bin")
    const bytes = randomBytes(1024 * 1024)
    writeFileSync(file, bytes)
    const r = await api(home, ["-X", "POST", "/api/echo/upload", "--input", file])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({
      method: "POST",
      path: "/api/echo/upload",
      user: "alice",
      bodyLength: bytes.length,
      bodySha256: sha256(bytes)
    })
    expect(server.hits("/api/echo/upload")).toBe(1)
    return { home, grant }
  }

  it("a token expiring within 60 s is refreshed before the body is sent", async () => {
    const { grant, home } = await upload(30)
    expect(server.hits("/api/refresh")).toBe(1)
    const paths = server.requests().map((r) => r.path)
    expect(paths).toEqual(["/api/refresh", "/api/echo/upload"])
    const rec = await mustRecord(home, ID)
    expect(holds(rec.accessToken, grant.accessToken)).toBe(false)
    const [sent] = tokensSentTo(server, "/api/echo/upload")
    expect(holds(rec.accessToken, sent ?? "")).toBe(true)
  })

  it("a token with 90 s left is sent as is", async () => {
    const { grant } = await upload(90)
    expect(server.hits("/api/refresh")).toBe(0)
    const [sent] = tokensSentTo(server, "/api/echo/upload")
    expect(sent === grant.accessToken).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------------

describe("the retry after a refresh is final", () => {
  it.each([401, 459])("a second HTTP %i is AccessTokenRejected (exit 4)", async (status) => {
    const { home } = await homeWithGrant(3600)
    server.setFault("/api/echo/x", { status, times: 2 })
    const r = await api(home, ["/api/echo/x"])
    expect(r.code).toBe(4)
    expect(r.stderr).toContain(`server rejected the access token (HTTP ${status}); please run: olares-cli ${LOGIN}`)
    expect(server.hits("/api/refresh")).toBe(1)
    expect(server.hits("/api/echo/x")).toBe(2)
    // the refresh itself worked: the grant is not marked dead
    expect(await statusOf(home)).toBe("logged-in")
  })

  it("a second HTTP 403 is a permission problem (exit 7)", async () => {
    // granted two minutes ago: a 403 may mean a stale token, so it is worth one refresh
    const home = makeTempHome()
    homes.push(home)
    const grant = await server.issueGrant("alice", { ttlSeconds: 3600 })
    const twoMinutesAgo = Date.now() - 120_000
    await seedProfile(home, {
      olaresId: ID,
      accessToken: await server.mintJwt({ username: "alice", nowMs: twoMinutesAgo, ttl: 3600 }),
      refreshToken: grant.refreshToken,
      authUrlOverride: server.url,
      grantedAt: twoMinutesAgo
    })
    server.setFault("/api/echo/x", { status: 403, times: 2 })
    const r = await api(home, ["/api/echo/x"])
    expect(r.code).toBe(7)
    expect(r.stderr).toContain("server rejected the request (HTTP 403)")
    expect(r.stderr).toContain("does not have permission")
    expect(r.stderr).toContain("profile whoami --refresh")
    expect(r.stderr).not.toContain("profile login")
    expect(server.hits("/api/refresh")).toBe(1)
    expect(server.hits("/api/echo/x")).toBe(2)
  })

  it("a 403 to a token granted moments ago is a permission problem at once: no refresh, no retry", async () => {
    const { home } = await homeWithGrant(3600)
    server.setFault("/api/echo/x", { status: 403 })
    const r = await api(home, ["/api/echo/x"])
    expect(r.code).toBe(7)
    expect(r.stderr).toContain("server rejected the request (HTTP 403)")
    expect(server.hits("/api/refresh")).toBe(0)
    expect(server.hits("/api/echo/x")).toBe(1)
    expect(await statusOf(home)).toBe("logged-in")
  })
})

// ---------------------------------------------------------------------------------------------

describe("target URLs", () => {
  it("refuses a foreign absolute URL with exit 2 and no request", async () => {
    const { home } = await homeWithGrant(3600)
    const r = await api(home, ["https://evil.example.com/x"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("evil.example.com")
    expect(server.requests().length).toBe(0)
  })

  it("scheme-relative and backslash paths that resolve to another origin: exit 2, the foreign server gets nothing", async () => {
    const evil = await startServer()
    try {
      // a stale token: a 401 would have made the CLI refresh and send the fresh token too
      const { home } = await staleHome()
      const authority = `127.0.0.1:${evil.port}`
      for (const raw of [`//${authority}/x`, `/\\${authority}/x`, `/\\\t/${authority}/x`, `http://${authority}/x`]) {
        const r = await api(home, [raw])
        expect(r.code, raw).toBe(2)
        expect(r.stderr).toContain(`refusing to send the ${ID} token to http://${authority}`)
        expect(r.stdout).toBe("")
      }
      expect(evil.requests()).toHaveLength(0)
      expect(server.requests()).toHaveLength(0)
    } finally {
      await evil.close()
    }
  })

  it("a derived host over cleartext http or on another port is refused (https, default port only)", async () => {
    const home = makeTempHome()
    homes.push(home)
    const grant = await server.issueGrant("alice", { ttlSeconds: 3600 })
    await seedProfile(home, { olaresId: ID, accessToken: grant.accessToken, refreshToken: grant.refreshToken })
    for (const url of ["http://files.alice.olares.com/x", "https://files.alice.olares.com:8443/x"]) {
      const r = await api(home, [url])
      expect(r.code, url).toBe(2)
      expect(r.stderr).toContain("refusing to send the alice@olares.com token to")
    }
  })

  it("accepts an absolute URL on the override origin", async () => {
    const { home } = await homeWithGrant(3600)
    const r = await api(home, [`${server.url}/api/echo/y`])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ path: "/api/echo/y", user: "alice" })
    expect(server.hits("/api/echo/y")).toBe(1)
  })
})

describe("remove during a refresh", () => {
  it("a refresh in flight cannot re-create the token of a profile removed meanwhile", async () => {
    server.setRotateRefreshTokens(false)
    const { home } = await staleHome()
    server.setFault("/api/refresh", { delayMs: 2000, times: 1 })
    const inFlight = api(home, ["/api/echo/x"])
    await waitFor("the refresh request", () => server.hits("/api/refresh") === 1)
    // remove waits for the refresh lock, so the refresh writes first and remove deletes after it
    const removed = await runCli(["profile", "remove", ID, "--yes"], { env: home.env })
    expect(removed.code).toBe(0)
    expect(removed.stdout).toContain(`removed profile ${ID}`)
    const r = await inFlight
    expect(r.code).toBe(0)
    expect(Option.isNone(await readRecord(home, ID))).toBe(true)
    expect(refreshLockHeld(home)).toBe(false)
  })
})
