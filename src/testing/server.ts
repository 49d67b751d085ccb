/**
 * A loopback Olares-compatible HTTP(S) server for tests and the demo: Authelia-style firstfactor /
 * TOTP secondfactor / refresh with real HS256 JWTs and rotating refresh tokens, the two desktop GETs
 * the profile commands read, an authorized echo for every other path, fault switches per endpoint
 * (in process and over `/__admin/*`), hit counters and a request log.
 *
 * Admin API (no auth, loopback only):
 * - `POST /__admin/faults` `{"<path>": Fault | null, ...}` merges faults (`null` clears one; a path
 *   ending in `*` is a prefix, `*` alone matches every non-admin path);
 * - `GET /__admin/stats` `{"hits": {"<path>": n}, "faults": {...}}`;
 * - `POST /__admin/reset` clears faults, counters and the request log (users and grants stay);
 * - `GET /__admin/totp/<user>` `{"code","validForSeconds"}` the user's current TOTP code;
 * - `POST /__admin/grants` `{"username","ttlSeconds"?}` seeds a grant (see `issueGrant`);
 * - `POST /__admin/mint` `{"username"?,"ttl"?,"expSeconds"?,"noExp"?}` `{"token"}` (see `mintJwt`);
 * - `POST /__admin/revoke` `{"username"}` kills every refresh token of the user;
 * - `POST /__admin/config` `{"accessTtlSeconds"?,"rotateRefreshTokens"?,"osVersion"?}`.
 *
 * The server keeps its own wall clock (`Date.now`, or `ServerOptions.now`), deliberately not the
 * program's Effect `Clock`: it plays the remote Olares, which a TestClock in the client's test must
 * not move.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { jwtVerify, SignJWT } from "jose"
import { spawnSync } from "node:child_process"
import { createHash, createHmac, randomBytes } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

// Every secret the server issues or accepts is announced to these listeners (the repo's test suite
// scans all output for them); a consumer's tests may listen too.
const secretListeners = new Set<(secret: string) => void>()

/** Calls `listener` with every secret (token, password, TOTP code, session id) any server here issues or accepts. */
export const onSecret = (listener: (secret: string) => void): void => {
  secretListeners.add(listener)
}

const recordSecret = (secret: string): void => {
  for (const l of secretListeners) l(secret)
}

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 4226 / RFC 6238) and base32 (RFC 4648)
// ---------------------------------------------------------------------------------------------

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

/** RFC 4648 base32 without padding. */
export const base32Encode = (bytes: Uint8Array): string => {
  let out = ""
  let bits = 0
  let value = 0
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff
    bits += 8
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31]
  return out
}

/** RFC 4648 base32 decoding; case, spaces, dashes and `=` padding are ignored. */
export const base32Decode = (text: string): Buffer => {
  const clean = text.toUpperCase().replace(/[\s=-]/g, "")
  const out: Array<number> = []
  let bits = 0
  let value = 0
  for (const ch of clean) {
    const idx = B32.indexOf(ch)
    if (idx < 0) throw new Error(`invalid base32 character ${JSON.stringify(ch)}`)
    value = ((value << 5) | idx) & 0xffff
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(out)
}

/** RFC 4226 HOTP with HMAC-SHA1. */
export const hotp = (key: Uint8Array, counter: number, digits = 6): string => {
  const msg = Buffer.alloc(8)
  msg.writeBigUInt64BE(BigInt(counter))
  const h = createHmac("sha1", key).update(msg).digest()
  const off = h[19]! & 0x0f
  const bin = ((h[off]! & 0x7f) << 24) | (h[off + 1]! << 16) | (h[off + 2]! << 8) | h[off + 3]!
  return String(bin % 10 ** digits).padStart(digits, "0")
}

/** The RFC 6238 code (HMAC-SHA1, 30 s step, 6 digits by default) of a base32 secret at `timeMs`. */
export const totp = (
  secretBase32: string,
  timeMs: number,
  opts: { readonly digits?: number; readonly stepSeconds?: number } = {}
): string => hotp(base32Decode(secretBase32), Math.floor(timeMs / 1000 / (opts.stepSeconds ?? 30)), opts.digits ?? 6)

/** True when `code` is the TOTP of `secretBase32` at `timeMs` give or take one 30 s step. */
export const verifyTotp = (secretBase32: string, code: string, timeMs: number): boolean =>
  /^\d{6}$/.test(code) && [-1, 0, 1].some((d) => totp(secretBase32, timeMs + d * 30_000) === code)

/** A fresh random 160-bit TOTP secret in base32. */
export const newTotpSecret = (): string => base32Encode(randomBytes(20))

// ---------------------------------------------------------------------------------------------
// Accounts, JWTs
// ---------------------------------------------------------------------------------------------

/** The salt Olares appends to the password before hashing it for `/api/firstfactor`. */
export const PASSWORD_SALT = "@Olares2025"

/** Lower-case hex md5 of `password + "@Olares2025"`, what the firstfactor body carries. */
export const saltedMd5 = (password: string): string =>
  createHash("md5").update(password + PASSWORD_SALT, "utf8").digest("hex")

/** A user of the test server: `username` is the local part of the olaresId. */
export interface TestUser {
  readonly username: string
  readonly password: string
  /** Base32 TOTP secret; when set, firstfactor answers `fa2: true` and a TOTP step is required. */
  readonly totpSecret?: string | undefined
  /** What `/api/backend/v1/user-info` reports as `owner_role` (default `owner`). */
  readonly role?: "owner" | "admin" | "normal" | string | undefined
}

/** `alice`, password `alice-password-123`, no 2FA. */
export const ALICE: TestUser = { username: "alice", password: "alice-password-123" }

/** `bob`, password `bob-password-456`, TOTP with a fixed secret. */
export const BOB: TestUser = {
  username: "bob",
  password: "bob-password-456",
  totpSecret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
  role: "admin"
}

// One HS256 key per process so `mintJwt` tokens are accepted by every server this process starts.
const JWT_KEY = randomBytes(32)

/** How to mint a token: `ttl` (seconds from now, may be negative) or absolute `expSeconds`, or `noExp`. */
export interface MintOptions {
  readonly username?: string
  /** Seconds from now; negative mints an already-expired token. Default 3600. */
  readonly ttl?: number
  /** Alias of `ttl`. */
  readonly ttlSeconds?: number
  /** Absolute `exp` in unix seconds; wins over `ttl`. */
  readonly expSeconds?: number
  /** No `exp` claim at all. */
  readonly noExp?: boolean
  /** Base time in unix ms (default `Date.now()`). */
  readonly nowMs?: number
  /** Extra claims. */
  readonly claims?: Record<string, unknown>
}

/** Mints an HS256 JWT (`iat`, `exp`, `username`, random `jti`) that every test server in this process accepts. */
export const mintJwt = async (opts: MintOptions = {}): Promise<string> => {
  const nowS = Math.floor((opts.nowMs ?? Date.now()) / 1000)
  const jwt = new SignJWT({ ...opts.claims, username: opts.username ?? "alice" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(nowS)
    .setJti(randomBytes(12).toString("hex"))
  if (opts.noExp !== true) jwt.setExpirationTime(opts.expSeconds ?? nowS + (opts.ttl ?? opts.ttlSeconds ?? 3600))
  const token = await jwt.sign(JWT_KEY)
  recordSecret(token)
  return token
}

const newSecretValue = (prefix: string): string => {
  const v = `${prefix}${randomBytes(24).toString("base64url")}`
  recordSecret(v)
  return v
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

/** What a faulty endpoint answers instead of (or before) the normal reply. */
export type FaultKind =
  | "garbage" // non-JSON bytes, status 200 unless `status` is set
  | "html" // an HTML error page (> 256 chars)
  | "empty" // an empty body
  | "nodata" // `{"status":"OK"}` without data
  | "status-error" // `{"status":"error","message":"simulated failure"}`
  | "huge" // a JSON-looking body of several MB
  | "reset" // the connection is destroyed without an answer

/** A fault switch: `status` alone answers `{"status":"KO","message":"simulated HTTP <n>"}`; `delayMs` alone delays. */
export interface Fault {
  readonly status?: number
  readonly kind?: FaultKind
  /** Slow: wait this long before answering (then answer normally unless status/kind are set). */
  readonly delayMs?: number
  /** The fault clears itself after this many hits. */
  readonly times?: number
  /** Adds a `Location` header (with `status` 301/302/307/308: a redirect, e.g. to another origin). */
  readonly location?: string
}

/** Size of the `huge` fault body. */
export const HUGE_BODY_BYTES = 6 * 1024 * 1024

const HTML_PAGE = `<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
<p>The upstream Olares service did not answer. This page is padded so that it is longer than the
256 characters a client echoes in its error messages, which lets tests check the truncation.</p>
</body></html>
`

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/** PEM key and certificate for an HTTPS server. */
export interface TlsMaterial {
  readonly key: string
  readonly cert: string
}

/** Options of `startServer`. */
export interface ServerOptions {
  /** Default `[ALICE, BOB]`. */
  readonly users?: ReadonlyArray<TestUser>
  /** Default `127.0.0.1`. */
  readonly host?: string
  /** Default 0 (a free port). */
  readonly port?: number
  /** Serve HTTPS with this key and certificate. */
  readonly tls?: TlsMaterial
  /** The domain of every user's olaresId, used to check `targetURL` (default `olares.com`). */
  readonly domain?: string
  /** Lifetime of access tokens the server issues, in seconds (default 3600; negative = born expired). */
  readonly accessTtlSeconds?: number
  /** Rotate refresh tokens on `/api/refresh` (default true); when false the reply has no `refresh_token`. */
  readonly rotateRefreshTokens?: boolean
  /** `osVersion` of `/api/olares-info` (default `1.12.6`). */
  readonly osVersion?: string
  /** `session_id` in the secondfactor reply: `empty` (default, the client keeps the first one) or `new`. */
  readonly secondFactorSessionId?: "empty" | "new"
  /** The server's clock (default `Date.now`), used for TOTP and JWT checks. */
  readonly now?: () => number
}

/** One request as the server saw it. */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  /** Raw query string without `?`. */
  readonly query: string
  readonly headers: http.IncomingHttpHeaders
  /** The body as text (first 1 MiB). */
  readonly body: string
  readonly bodyLength: number
  readonly atMs: number
}

/** A grant the server knows. */
export interface Grant {
  readonly accessToken: string
  readonly refreshToken: string
  readonly sessionId: string
}

/** Counters and active faults. */
export interface ServerStats {
  readonly hits: Record<string, number>
  readonly faults: Record<string, Fault>
}

/** A running test server. */
export interface OlaresTestServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (pass as `--auth-url-override`). */
  readonly url: string
  /** The domain of its users' olaresIds (`alice` is `alice@<domain>`). */
  readonly domain: string
  readonly port: number
  /** Stops listening and drops every connection. */
  readonly close: () => Promise<void>
  readonly addUser: (user: TestUser) => void
  /** Sets (or with `undefined` clears) the fault of a path (`/api/refresh`, `/api/echo/*`, `*`). */
  readonly setFault: (path: string, fault: Fault | undefined) => void
  readonly clearFaults: () => void
  /** Requests received on a path (query excluded), admin paths not counted. */
  readonly hits: (path: string) => number
  readonly stats: () => ServerStats
  /** Clears faults, counters and the request log. */
  readonly reset: () => void
  /** Every non-admin request, oldest first. */
  readonly requests: () => ReadonlyArray<RecordedRequest>
  readonly lastRequest: (path: string) => RecordedRequest | undefined
  /** Mints a JWT this server accepts (same as the module-level `mintJwt`). */
  readonly mintJwt: (opts?: MintOptions) => Promise<string>
  /**
   * Seeds a live grant for a user, as if it had logged in; `ttlSeconds` (from issue) may be negative
   * (stale token); `ageSeconds` back-dates the access token's `iat` (a grant made that long ago).
   */
  readonly issueGrant: (
    username: string,
    opts?: { readonly ttlSeconds?: number; readonly ageSeconds?: number }
  ) => Promise<Grant>
  /** Kills every refresh token of a user (the next `/api/refresh` with one of them answers 401). */
  readonly revokeGrants: (username: string) => void
  readonly isRefreshTokenLive: (refreshToken: string) => boolean
  /** The current TOTP code of a 2FA user. */
  readonly totpNow: (username: string) => string
  readonly setAccessTtl: (seconds: number) => void
  readonly setRotateRefreshTokens: (rotate: boolean) => void
  readonly setOsVersion: (version: string) => void
  /** Makes `/api/refresh` answer `fa2: true` (a first-factor token), what a broken platform grant does. */
  readonly setRefreshFa2: (fa2: boolean) => void
}

const MAX_BODY = 1024 * 1024

const FIRST_FACTOR_KEYS = ["username", "password", "keepMeLoggedIn", "requestMethod", "targetURL", "acceptCookie"]

const AUTH_FAILED = { status: "KO", message: "Authentication failed. Check your credentials." }

interface PendingSession {
  readonly username: string
  readonly firstToken: string
}

interface RefreshEntry {
  readonly username: string
  readonly sessionId: string
  live: boolean
}

const parseCookies = (header: string | undefined): Map<string, string> => {
  const out = new Map<string, string>()
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=")
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  return out
}

const headerOf = (req: http.IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** Starts the server; resolves once it listens. */
export const startServer = async (options: ServerOptions = {}): Promise<OlaresTestServer> => {
  const now = options.now ?? Date.now
  const domain = options.domain ?? "olares.com"
  let accessTtl = options.accessTtlSeconds ?? 3600
  let rotate = options.rotateRefreshTokens ?? true
  let osVersion = options.osVersion ?? "1.12.6"
  let refreshFa2 = false
  const users = new Map<string, TestUser>()
  const faults = new Map<string, Fault>()
  const hitCounts = new Map<string, number>()
  let log: Array<RecordedRequest> = []
  const pending = new Map<string, PendingSession>() // session cookie -> first-factor state
  const refreshTokens = new Map<string, RefreshEntry>()
  const timers = new Set<NodeJS.Timeout>()

  const addUser = (u: TestUser) => {
    recordSecret(u.password)
    recordSecret(saltedMd5(u.password))
    if (u.totpSecret !== undefined) recordSecret(u.totpSecret)
    users.set(u.username, u)
  }
  for (const u of options.users ?? [ALICE, BOB]) addUser(u)

  const mint = (opts: MintOptions = {}) => mintJwt({ nowMs: now(), ...opts })

  const newGrant = async (username: string, ttlSeconds: number, sessionId?: string, ageSeconds = 0): Promise<Grant> => {
    const accessToken = await mint({ username, ttl: ttlSeconds, nowMs: now() - ageSeconds * 1000 })
    const refreshToken = newSecretValue("rt-")
    const sid = sessionId ?? newSecretValue("sid-")
    refreshTokens.set(refreshToken, { username, sessionId: sid, live: true })
    return { accessToken, refreshToken, sessionId: sid }
  }

  const totpNow = (username: string): string => {
    const secret = users.get(username)?.totpSecret
    if (secret === undefined) throw new Error(`user ${username} has no TOTP secret`)
    return totp(secret, now())
  }

  const faultFor = (path: string): [string, Fault] | undefined => {
    const exact = faults.get(path)
    if (exact !== undefined) return [path, exact]
    for (const [k, f] of faults) if (k !== "*" && k.endsWith("*") && path.startsWith(k.slice(0, -1))) return [k, f]
    const any = faults.get("*")
    return any === undefined ? undefined : ["*", any]
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t)
        resolve()
      }, ms)
      timers.add(t)
    })

  const send = (
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string | Array<string>> = {}
  ) => {
    if (res.destroyed || res.writableEnded) return
    const text = typeof body === "string" ? body : JSON.stringify(body)
    const contentType = typeof body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=utf-8"
    res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text), ...headers })
    res.end(text)
  }

  const sendFault = (res: http.ServerResponse, fault: Fault) => {
    const status = fault.status ?? (fault.kind === undefined ? 500 : 200)
    if (fault.location !== undefined) {
      return send(res, status, `<html><body>moved to ${fault.location}</body></html>`, {
        location: fault.location,
        "content-type": "text/html"
      })
    }
    switch (fault.kind) {
      case "reset":
        res.socket?.destroy()
        return
      case "garbage":
        return send(res, status, "\u0000this is { not json at all ]]", { "content-type": "application/octet-stream" })
      case "html":
        return send(res, status, HTML_PAGE, { "content-type": "text/html; charset=utf-8" })
      case "empty":
        return send(res, status, "", { "content-type": "application/json" })
      case "nodata":
        return send(res, status, { status: "OK" })
      case "status-error":
        return send(res, status, { status: "error", message: "simulated failure" })
      case "huge": {
        if (res.destroyed) return
        const chunk = Buffer.alloc(64 * 1024, "a")
        res.writeHead(status, { "content-type": "application/json", "content-length": HUGE_BODY_BYTES })
        const head = Buffer.from("{\"status\":\"OK\",\"data\":{\"access_token\":\"")
        res.write(head)
        let left = HUGE_BODY_BYTES - head.length
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            const n = Math.min(left, chunk.length)
            left -= n
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once("drain", pump)
          }
          if (!res.destroyed) res.end()
        }
        res.on("error", () => {})
        pump()
        return
      }
      case undefined:
        return send(res, status, { status: "KO", message: `simulated HTTP ${status}` })
    }
  }

  /** The user a request is authorized as, or a reason it is not. */
  const authorize = async (req: http.IncomingMessage): Promise<string | undefined> => {
    const token = headerOf(req, "x-authorization") ?? parseCookies(headerOf(req, "cookie")).get("auth_token")
    if (token === undefined || token === "") return undefined
    try {
      const { payload } = await jwtVerify(token, JWT_KEY, { algorithms: ["HS256"], currentDate: new Date(now()) })
      if (payload.fa2_pending === true) return undefined
      return typeof payload.username === "string" ? payload.username : undefined
    } catch {
      return undefined
    }
  }

  const readBody = (req: http.IncomingMessage) =>
    new Promise<{ text: string; length: number; sha256: string }>((resolve, reject) => {
      const hash = createHash("sha256")
      const kept: Array<Buffer> = []
      let length = 0
      req.on("data", (c: Buffer) => {
        hash.update(c)
        if (length < MAX_BODY) kept.push(c)
        length += c.length
      })
      req.on("end", () =>
        resolve({
          text: Buffer.concat(kept).subarray(0, MAX_BODY).toString("utf8"),
          length,
          sha256: hash.digest("hex")
        }))
      req.on("error", reject)
    })

  const badRequest = (res: http.ServerResponse, why: string) =>
    send(res, 400, { status: "KO", message: `bad request: ${why}` })

  /** A login body as a JSON object, or why it is not one (the 400's reason). */
  const jsonObject = (body: string): Record<string, unknown> | string => {
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch {
      return "body is not JSON"
    }
    return typeof parsed === "object" && parsed !== null
      ? parsed as Record<string, unknown>
      : "body is not a JSON object"
  }

  const firstFactor = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string) => {
    if (url.searchParams.get("hideCookie") !== "true") return badRequest(res, "missing ?hideCookie=true")
    if (!(headerOf(req, "content-type") ?? "").startsWith("application/json")) {
      return badRequest(res, "Content-Type must be application/json")
    }
    if (!(headerOf(req, "accept") ?? "").includes("application/json")) {
      return badRequest(res, "Accept must be application/json")
    }
    const parsed = jsonObject(body)
    if (typeof parsed === "string") return badRequest(res, parsed)
    const keys = Object.keys(parsed)
    if (keys.join(",") !== FIRST_FACTOR_KEYS.join(",")) {
      return badRequest(res, `body keys must be ${FIRST_FACTOR_KEYS.join(",")} in this order, got ${keys.join(",")}`)
    }
    if (parsed.keepMeLoggedIn !== false) return badRequest(res, "keepMeLoggedIn must be false")
    if (parsed.requestMethod !== "POST") return badRequest(res, "requestMethod must be \"POST\"")
    if (parsed.acceptCookie !== true) return badRequest(res, "acceptCookie must be true")
    if (typeof parsed.username !== "string" || typeof parsed.password !== "string") {
      return badRequest(res, "username and password must be strings")
    }
    const expectedTarget = `https://desktop.${parsed.username}.${domain}`
    if (parsed.targetURL !== expectedTarget) return badRequest(res, `targetURL must be ${expectedTarget}`)
    const user = users.get(parsed.username)
    if (user === undefined || parsed.password !== saltedMd5(user.password)) return send(res, 401, AUTH_FAILED)
    const sid = newSecretValue("sid-")
    const cookie = `authelia_session=${sid}; Path=/; HttpOnly; SameSite=Lax${options.tls ? "; Secure" : ""}`
    if (user.totpSecret !== undefined) {
      const firstToken = await mint({ username: user.username, ttl: 300, claims: { fa2_pending: true } })
      pending.set(sid, { username: user.username, firstToken })
      return send(res, 200, {
        status: "OK",
        data: { access_token: firstToken, token_type: "Bearer", session_id: sid, fa2: true }
      }, { "set-cookie": [cookie] })
    }
    const g = await newGrant(user.username, accessTtl, sid)
    return send(res, 200, {
      status: "OK",
      data: {
        access_token: g.accessToken,
        token_type: "Bearer",
        refresh_token: g.refreshToken,
        session_id: g.sessionId,
        fa2: false
      }
    }, { "set-cookie": [cookie] })
  }

  const secondFactor = async (req: http.IncomingMessage, res: http.ServerResponse, body: string) => {
    if (headerOf(req, "x-unauth-error") !== "Non-Redirect") {
      // what the Olares edge does to a browser-style request: redirect to the login page
      return send(res, 302, "<html><body>redirecting to /login</body></html>", {
        location: "/login",
        "content-type": "text/html"
      })
    }
    const sid = parseCookies(headerOf(req, "cookie")).get("authelia_session")
    const session = sid === undefined ? undefined : pending.get(sid)
    const firstToken = headerOf(req, "x-authorization")
    if (session === undefined || sid === undefined || firstToken !== session.firstToken) {
      return send(res, 401, { status: "KO", message: "Unauthorized" })
    }
    const parsed = jsonObject(body)
    if (typeof parsed === "string") return badRequest(res, parsed)
    if (Object.keys(parsed).join(",") !== "targetUrl,token") return badRequest(res, "body keys must be targetUrl,token")
    const expectedTarget = `https://desktop.${session.username}.${domain}`
    if (parsed.targetUrl !== expectedTarget) return badRequest(res, `targetUrl must be ${expectedTarget}`)
    const code = typeof parsed.token === "string" ? parsed.token : ""
    const user = users.get(session.username)
    if (user?.totpSecret === undefined || !verifyTotp(user.totpSecret, code, now())) return send(res, 401, AUTH_FAILED)
    // only an accepted code is a secret; recording rejected ones ("000000") would flag innocent output
    recordSecret(code)
    pending.delete(sid)
    const g = await newGrant(user.username, accessTtl, sid)
    return send(res, 200, {
      status: "OK",
      data: {
        access_token: g.accessToken,
        token_type: "Bearer",
        refresh_token: g.refreshToken,
        session_id: options.secondFactorSessionId === "new" ? newSecretValue("sid-") : ""
      }
    })
  }

  const refresh = async (res: http.ServerResponse, body: string) => {
    let parsed: Record<string, unknown>
    try {
      parsed = JSON.parse(body)
    } catch {
      return badRequest(res, "body is not JSON")
    }
    const token = typeof parsed?.refreshToken === "string" ? parsed.refreshToken : ""
    const entry = refreshTokens.get(token)
    if (entry === undefined || !entry.live) {
      return send(res, 401, { status: "KO", message: "Authentication failed. The refresh token is invalid." })
    }
    const accessToken = await mint({ username: entry.username, ttl: accessTtl })
    const data: Record<string, unknown> = {
      access_token: accessToken,
      token_type: "Bearer",
      session_id: entry.sessionId
    }
    if (refreshFa2) data.fa2 = true
    if (rotate) {
      entry.live = false
      const next = newSecretValue("rt-")
      refreshTokens.set(next, { username: entry.username, sessionId: entry.sessionId, live: true })
      data.refresh_token = next
    }
    return send(res, 200, { status: "OK", data })
  }

  const unauthorized = (res: http.ServerResponse) => send(res, 401, { code: 401, message: "Unauthorized" })

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.on("error", () => {})
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const path = url.pathname
    const method = req.method ?? "GET"
    const body = await readBody(req)
    if (path.startsWith("/__admin/")) return admin(res, path, method, body.text)

    hitCounts.set(path, (hitCounts.get(path) ?? 0) + 1)
    log.push({
      method,
      path,
      query: url.search.replace(/^\?/, ""),
      headers: { ...req.headers },
      body: body.text,
      bodyLength: body.length,
      atMs: now()
    })

    const found = faultFor(path)
    if (found !== undefined) {
      const [key, fault] = found
      if (fault.times !== undefined) {
        if (fault.times <= 1) faults.delete(key)
        else faults.set(key, { ...fault, times: fault.times - 1 })
      }
      if (fault.delayMs !== undefined && fault.delayMs > 0) await sleep(fault.delayMs)
      if (fault.status !== undefined || fault.kind !== undefined) return sendFault(res, fault)
    }

    switch (path) {
      case "/api/firstfactor":
        return method === "POST" ? firstFactor(req, res, url, body.text) : send(res, 405, { message: "POST only" })
      case "/api/secondfactor/totp":
        return method === "POST" ? secondFactor(req, res, body.text) : send(res, 405, { message: "POST only" })
      case "/api/refresh":
        return method === "POST" ? refresh(res, body.text) : send(res, 405, { message: "POST only" })
    }
    const username = await authorize(req)
    if (username === undefined) return unauthorized(res)
    switch (path) {
      case "/api/backend/v1/user-info":
        return send(res, 200, {
          code: 0,
          message: "",
          data: { name: username, owner_role: users.get(username)?.role ?? "owner" }
        })
      case "/api/olares-info":
        return send(res, 200, {
          code: 0,
          message: "",
          data: {
            olaresId: `${username}@${domain}`,
            wizardStatus: "completed",
            enableReverseProxy: false,
            tailScaleEnable: false,
            osVersion,
            loginBackground: "",
            avatar: "",
            id: "test-olares",
            did: `did:key:test-${username}`,
            olaresd: osVersion,
            style: ""
          }
        })
    }
    return send(res, 200, {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      user: username,
      bodyLength: body.length,
      bodySha256: body.sha256
    })
  }

  const stats = (): ServerStats => ({ hits: Object.fromEntries(hitCounts), faults: Object.fromEntries(faults) })

  const reset = () => {
    faults.clear()
    hitCounts.clear()
    log = []
  }

  const revokeGrants = (username: string) => {
    for (const e of refreshTokens.values()) if (e.username === username) e.live = false
  }

  const admin = async (res: http.ServerResponse, path: string, method: string, body: string) => {
    let json: Record<string, unknown> = {}
    if (method === "POST" && body.trim() !== "") {
      try {
        json = JSON.parse(body)
      } catch {
        return badRequest(res, "admin body is not JSON")
      }
    }
    if (path === "/__admin/faults" && method === "POST") {
      for (const [k, v] of Object.entries(json)) {
        if (v === null) faults.delete(k)
        else faults.set(k, v as Fault)
      }
      return send(res, 200, stats())
    }
    if (path === "/__admin/stats" && method === "GET") return send(res, 200, stats())
    if (path === "/__admin/reset" && method === "POST") {
      reset()
      return send(res, 200, stats())
    }
    if (path.startsWith("/__admin/totp/") && method === "GET") {
      const name = decodeURIComponent(path.slice("/__admin/totp/".length))
      if (users.get(name)?.totpSecret === undefined) return send(res, 404, { message: `no TOTP user ${name}` })
      return send(res, 200, { code: totpNow(name), validForSeconds: 30 - (Math.floor(now() / 1000) % 30) })
    }
    if (path === "/__admin/grants" && method === "POST") {
      const username = String(json.username ?? "")
      if (!users.has(username)) return send(res, 404, { message: `no user ${username}` })
      const ttl = typeof json.ttlSeconds === "number" ? json.ttlSeconds : accessTtl
      return send(res, 200, await newGrant(username, ttl))
    }
    if (path === "/__admin/mint" && method === "POST") {
      return send(res, 200, { token: await mint(json as MintOptions) })
    }
    if (path === "/__admin/revoke" && method === "POST") {
      revokeGrants(String(json.username ?? ""))
      return send(res, 200, { ok: true })
    }
    if (path === "/__admin/config" && method === "POST") {
      if (typeof json.accessTtlSeconds === "number") accessTtl = json.accessTtlSeconds
      if (typeof json.rotateRefreshTokens === "boolean") rotate = json.rotateRefreshTokens
      if (typeof json.osVersion === "string") osVersion = json.osVersion
      return send(res, 200, { accessTtlSeconds: accessTtl, rotateRefreshTokens: rotate, osVersion })
    }
    return send(res, 404, { message: `unknown admin endpoint ${method} ${path}` })
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((e: unknown) => {
      send(res, 500, { status: "KO", message: `test server bug: ${e instanceof Error ? e.message : String(e)}` })
    })
  }
  const server = options.tls !== undefined
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener)
    : http.createServer(listener)
  server.keepAliveTimeout = 1000

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const host = options.host ?? "127.0.0.1"

  return {
    url: `${options.tls !== undefined ? "https" : "http"}://${host}:${port}`,
    domain,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t)
        timers.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
    addUser,
    setFault: (path, fault) => {
      if (fault === undefined) faults.delete(path)
      else faults.set(path, fault)
    },
    clearFaults: () => faults.clear(),
    hits: (path) => hitCounts.get(path) ?? 0,
    stats,
    reset,
    requests: () => log,
    lastRequest: (path) => {
      for (let i = log.length - 1; i >= 0; i--) if (log[i]!.path === path) return log[i]
      return undefined
    },
    mintJwt: mint,
    issueGrant: (username, opts = {}) =>
      newGrant(username, opts.ttlSeconds ?? accessTtl, undefined, opts.ageSeconds ?? 0),
    revokeGrants,
    isRefreshTokenLive: (t) => refreshTokens.get(t)?.live === true,
    totpNow,
    setRefreshFa2: (v) => {
      refreshFa2 = v
    },
    setAccessTtl: (s) => {
      accessTtl = s
    },
    setRotateRefreshTokens: (r) => {
      rotate = r
    },
    setOsVersion: (v) => {
      osVersion = v
    }
  }
}

/** The server as a scoped Effect resource (closed when the scope closes). */
export const serverResource = (options: ServerOptions = {}): Effect.Effect<OlaresTestServer, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(() => startServer(options)), (s) => Effect.promise(() => s.close()))

/** A loopback port nothing listens on (bound then released), for connection-refused cases. */
export const closedPort = async (): Promise<number> => {
  const s = http.createServer()
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

// ---------------------------------------------------------------------------------------------
// Self-signed certificates (openssl CLI; node:crypto cannot issue X.509 certificates)
// ---------------------------------------------------------------------------------------------

let opensslChecked: boolean | undefined

/** True when the `openssl` CLI can be run. */
export const hasOpenssl = (): boolean => {
  if (opensslChecked === undefined) {
    const r = spawnSync("openssl", ["version"], { stdio: "ignore", timeout: 10_000 })
    opensslChecked = r.status === 0
  }
  return opensslChecked
}

let cachedCert: TlsMaterial | undefined

/**
 * A self-signed P-256 certificate for `127.0.0.1` / `localhost` (1 day), generated once per process
 * with the `openssl` CLI. Throws a clear error when openssl is missing: check `hasOpenssl()` first.
 */
export const selfSignedCert = (): TlsMaterial => {
  if (cachedCert !== undefined) return cachedCert
  if (!hasOpenssl()) throw new Error("the openssl CLI is not installed; node:crypto cannot issue X.509 certificates")
  const dir = mkdtempSync(join(tmpdir(), "olares-tls-"))
  try {
    const r = spawnSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost"
    ], { encoding: "utf8", timeout: 30_000 })
    if (r.status !== 0) throw new Error(`openssl failed (${r.status}): ${r.stderr}`)
    cachedCert = { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") }
    return cachedCert
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
