/**
 * Security round 2, the input/output side (issue 10, items 3, 4, 10, 11, 12, 14, 16), black-box
 * against the built CLI: a reflecting server that echoes every request into its errors and fields,
 * hand-edited config.json values, bounded secret input, streaming `api --input -`, alias
 * uniqueness, validated URL flags, JSON depth, header-safe tokens, `exp` edge cases and debug
 * redaction. Every output is also leak-scanned by the global teardown.
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, openSync, readFileSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, type CliResult } from "../support/cli.js"
import { useE2e } from "../support/e2e.js"
import { expectNoStack, snapshot } from "../support/hardening-util.js"
import { recordOutput, recordSecret } from "../support/leaks.js"
import { hasScript, runInPty } from "../support/pty.js"
import { HOSTILE, type ReflectServer, startReflectServer } from "../support/reflect-server.js"
import { readConfig, seedProfile } from "../support/seed.js"
import { ALICE, BOB, mintJwt, saltedMd5 } from "../support/server.js"

const ALICE_ID = "alice@olares.com"
const BOB_ID = "bob@olares.com"

const e2e = useE2e()
const cli = e2e.cli
let reflect: ReflectServer
beforeAll(async () => {
  reflect = await startReflectServer()
})
afterAll(async () => {
  await reflect.close()
})

/** Anything a terminal would act on: C0 (but LF), DEL, C1, bidi controls. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/

const expectClean = (r: CliResult, secrets: ReadonlyArray<string> = []) => {
  for (const [label, text] of [["stdout", r.stdout], ["stderr", r.stderr]] as const) {
    const bad = UNSAFE.exec(text)
    expect(bad, `${label} carries U+${bad?.[0].codePointAt(0)?.toString(16)}: ${JSON.stringify(text.slice(0, 400))}`)
      .toBeNull()
    expect(text, "a line break from the server survived").not.toMatch(/^INJECTED/m)
    for (const s of secrets) expect(text.includes(s), `${label} holds a secret`).toBe(false)
    expect(text).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/)
  }
  expectNoStack(r)
}

/** The `-o json` envelope on stderr, parsed, with its message checked the same way. */
const envelope = (r: CliResult) => {
  const doc = JSON.parse(r.stderr) as { error: { message: string; code: string; exitCode: number } }
  expect(UNSAFE.exec(doc.error.message)).toBeNull()
  return doc.error
}

const PASSWORD_SECRETS = [ALICE.password, saltedMd5(ALICE.password)]

const loginAt = (url: string, extra: ReadonlyArray<string> = []) =>
  cli(["profile", "login", "--olares-id", ALICE_ID, "--auth-url-override", url, "--password-stdin", ...extra], {
    input: `${ALICE.password}\n`
  })

// ---------------------------------------------------------------------------------------------
// Items 3 + 4: one scrubber for everything server-derived
// ---------------------------------------------------------------------------------------------

describe("a reflecting server: no secret we sent, no control character, bounded", () => {
  const errorModes = [
    { status: 401, format: "text" },
    { status: 401, format: "json" },
    { status: 500, format: "text" },
    { status: 500, format: "json" },
    { status: 200, format: "json" },
    { status: 404, format: "text" }
  ] as const

  it("login: firstfactor errors echoing the salted hash are scrubbed", async () => {
    for (const m of errorModes) {
      reflect.reset()
      reflect.mode("/api/firstfactor", m)
      const r = await loginAt(reflect.url)
      expect(r.code, `${m.status} ${m.format}: ${r.stderr}`).not.toBe(0)
      expectClean(r, PASSWORD_SECRETS)
      expect(r.stderr.length).toBeLessThan(1500)
      expect(r.stderr).toContain("/api/firstfactor")
    }
    // a JSON body is summarised, never echoed: only its status/message survive, scrubbed
    reflect.mode("/api/firstfactor", { status: 500, format: "json" })
    const r = await loginAt(reflect.url)
    expect(r.stderr).not.toContain("\"data\"")
    expect(r.stderr).toContain("\"status\":\"KO\"")
  })

  it("import and the transparent refresh: /api/refresh errors never show the refresh or access token", async () => {
    for (const m of errorModes) {
      reflect.reset()
      reflect.mode("/api/refresh", m)
      const { refreshToken } = await reflect.grant()
      const r = await cli(["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", reflect.url], {
        env: { OLARES_REFRESH_TOKEN: refreshToken }
      })
      expect(r.code, r.stderr).not.toBe(0)
      expectClean(r, [refreshToken])
    }
    reflect.reset()
    const stale = await mintJwt({ ttl: -60 })
    const { refreshToken } = await reflect.grant()
    await seedProfile(e2e.home, { olaresId: ALICE_ID, accessToken: stale, refreshToken, authUrlOverride: reflect.url })
    reflect.mode("/api/x", { status: 401, format: "text" })
    for (const m of errorModes.filter((x) => x.status !== 401)) {
      reflect.mode("/api/refresh", m)
      const r = await cli(["api", "/api/x"])
      expect(r.code).not.toBe(0)
      expectClean(r, [stale, refreshToken])
      expect(r.stderr).toContain("/api/refresh")
    }
  })

  it("a successful login against it: the reflected owner_role is refused (not cached), and whoami, list and api stay clean", async () => {
    reflect.reset()
    const login = await loginAt(reflect.url)
    expect(login.code, login.stderr).toBe(0)
    expectClean(login, PASSWORD_SECRETS)
    expect(login.stderr).toMatch(/warning: .*role.*not cached/)
    const profile = (await readConfig(e2e.home)).profiles[0]!
    expect(profile.ownerRole).toBeUndefined()
    for (
      const args of [
        ["profile", "whoami"],
        ["profile", "whoami", "-o", "json"],
        ["profile", "whoami", "--refresh"],
        [
          "profile",
          "whoami",
          "--refresh",
          "-o",
          "json"
        ],
        ["profile", "list"],
        ["profile", "list", "-o", "json"],
        ["profile", "doctor", "--offline"]
      ]
    ) {
      const r = await cli(args)
      expectClean(r)
      expect(r.stdout.length + r.stderr.length).toBeLessThan(4000)
    }
    expect((await readConfig(e2e.home)).profiles[0]!.ownerRole).toBeUndefined()
    const token = "user-header-secret-1234"
    recordSecret(token)
    for (const m of errorModes) {
      reflect.mode("/api/x", m)
      const r = await cli(["api", "/api/x", "-H", `X-Auth-Token: ${token}`])
      if (m.status === 200) {
        // a 2xx body is data piped byte for byte, except the credentials this request carried
        expect(r.code, r.stderr).toBe(0)
        expect(r.stdout).toContain("INJECTED")
        expect(r.stdout).not.toContain(token)
        expect(r.stdout).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/)
        expect(r.stdout).toContain("<redacted>")
      } else expectClean(r, [token])
      // the -o json error envelope of a command that takes -o: the same scrubbed message
      reflect.mode("/api/backend/v1/user-info", m)
      const j = await cli(["profile", "whoami", "--refresh", "-o", "json"])
      expectClean(j)
      // a 200 passes user-info, then the reflected osVersion is refused (never cached); any other
      // failure names the endpoint that failed
      if (j.code !== 0 && m.status !== 401) {
        expect(envelope(j).message).toMatch(
          m.status === 200 ? /^parse backend osVersion / : /\/api\/backend\/v1\/user-info/
        )
      }
    }
  })

  it("an old or hand-edited config.json: escapes and a 100 kB value are sanitised and capped at render time", async () => {
    const token = await mintJwt({ ttl: 3600 })
    await seedProfile(e2e.home, { olaresId: ALICE_ID, accessToken: token, authUrlOverride: "http://127.0.0.1:9" })
    const file = join(e2e.home.home, "config.json")
    const cfg = JSON.parse(readFileSync(file, "utf8"))
    cfg.profiles[0].backendVersion = `1.12.6${HOSTILE}${"9".repeat(100_000)}`
    cfg.profiles[0].ownerRole = `owner${HOSTILE}`
    cfg.profiles[0].name = `work${HOSTILE}`
    cfg.currentProfile = cfg.profiles[0].name
    writeFileSync(file, JSON.stringify(cfg), { mode: 0o600 })
    for (
      const args of [
        ["profile", "list"],
        ["profile", "list", "-o", "json"],
        ["profile", "whoami"],
        ["profile", "whoami", "-o", "json"],
        ["profile", "doctor", "--offline"],
        ["profile", "doctor", "--offline", "-o", "json"]
      ]
    ) {
      const r = await cli(args, { env: { OLARES_CLI_QUICK: args[1] === "list" ? "1" : undefined } })
      expectClean(r)
      expect(r.stdout.length + r.stderr.length, args.join(" ")).toBeLessThan(6000)
    }
    // use (quick path, then the Effect program) and remove print the name too
    for (const quick of ["1", "0"]) {
      const r = await cli(["profile", "use", ALICE_ID], { env: { OLARES_CLI_QUICK: quick } })
      expect(r.code, r.stderr).toBe(0)
      expectClean(r)
      expect(r.stdout).toContain("switched to profile work")
    }
    const rm = await cli(["profile", "remove", ALICE_ID, "--yes"])
    expect(rm.code, rm.stderr).toBe(0)
    expectClean(rm)
  })
})

// ---------------------------------------------------------------------------------------------
// Item 10: bounded secret input, streaming api --input -
// ---------------------------------------------------------------------------------------------

/** Runs the CLI with stdin read from a file descriptor (e.g. /dev/zero). */
const runWithStdinFd = (args: ReadonlyArray<string>, fd: number, timeoutMs: number) =>
  new Promise<CliResult & { readonly ms: number }>((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", ...e2e.home.env },
      stdio: [fd, "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      recordOutput(args.join(" "), stdout + stderr)
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started })
    })
  })

describe("bounded input", () => {
  it("--password-stdin and --refresh-token-stdin from /dev/zero stop at 64 KiB with a usage error, fast", async () => {
    for (
      const args of [
        ["profile", "login", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url, "--password-stdin"],
        ["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url, "--refresh-token-stdin"]
      ]
    ) {
      const r = await runWithStdinFd(args, openSync("/dev/zero", "r"), 15_000)
      expect(r.signal, "killed: it kept reading").toBeNull()
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toContain("64 KiB")
      expect(r.ms).toBeLessThan(10_000)
      expect(existsSync(join(e2e.home.home, "config.json"))).toBe(false)
    }
    expect(e2e.server.hits("/api/firstfactor") + e2e.server.hits("/api/refresh")).toBe(0)
  })

  it("a line just under 64 KiB is a secret like any other; one over it is refused", async () => {
    const under = await cli([
      "profile",
      "login",
      "--olares-id",
      ALICE_ID,
      "--auth-url-override",
      e2e.server.url,
      "--password-stdin"
    ], {
      input: `${"p".repeat(65_000)}\n`
    })
    expect(under.code, under.stderr).toBe(4) // the server's verdict: a wrong password
    const over = await cli([
      "profile",
      "import",
      "--olares-id",
      ALICE_ID,
      "--auth-url-override",
      e2e.server.url,
      "--refresh-token-stdin"
    ], {
      input: `${"r".repeat(70_000)}\n`
    })
    expect(over.code, over.stderr).toBe(2)
    expect(over.stderr).toContain("64 KiB")
  })

  it.skipIf(!hasScript())("the terminal prompt has the same 64 KiB bound", async () => {
    const run = runInPty(["profile", "login", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url], {
      env: { ...e2e.home.env, NO_COLOR: undefined },
      redactForLeakScan: (screen) => screen.replace(/q{20,}/g, "")
    })
    await run.waitFor(`password for ${ALICE_ID}: `)
    for (let i = 0; i < 17; i++) run.type("q".repeat(4096))
    const { code, screen } = await run.exited
    expect(code, screen.slice(-500)).toBe(2)
    expect(screen).toContain("64 KiB")
    expect(e2e.server.hits("/api/firstfactor")).toBe(0)
  })

  it("api --input - streams stdin: the server sees the first bytes before stdin ends", async () => {
    let received = 0
    let firstAt: number | undefined
    const srv = http.createServer((req, res) => {
      req.on("data", (c: Buffer) => {
        received += c.length
        firstAt ??= Date.now()
      })
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ received }))
      })
    })
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r))
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`
      await seedProfile(e2e.home, {
        olaresId: ALICE_ID,
        accessToken: await mintJwt({ ttl: 3600 }),
        authUrlOverride: url
      })
      const child = spawn(process.execPath, [BIN, "api", "-X", "POST", "/api/upload", "--input", "-"], {
        env: { PATH: process.env.PATH ?? "", ...e2e.home.env },
        stdio: ["pipe", "pipe", "pipe"]
      })
      let out = ""
      child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d))
      child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d))
      const done = new Promise<number | null>((r) => child.on("close", r))
      child.stdin.write(Buffer.alloc(256 * 1024, 1))
      const deadline = Date.now() + 10_000
      while (firstAt === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      const sawBeforeEnd = firstAt !== undefined
      child.stdin.end(Buffer.alloc(1024, 2))
      const code = await done
      recordOutput("api --input -", out)
      expect(sawBeforeEnd, "the body only left after stdin ended: it was buffered").toBe(true)
      expect(code, out).toBe(0)
      expect(JSON.parse(out)).toEqual({ received: 256 * 1024 + 1024 })
    } finally {
      await new Promise<void>((r) => srv.close(() => r()))
    }
  })

  it("api --input - is a stream: a token expiring within 60 s is refreshed before sending, once", async () => {
    const g = await e2e.server.issueGrant("alice", { ttlSeconds: 30 })
    await seedProfile(e2e.home, {
      olaresId: ALICE_ID,
      accessToken: g.accessToken,
      refreshToken: g.refreshToken,
      authUrlOverride: e2e.server.url
    })
    const r = await cli(["api", "-X", "POST", "/api/echo/upload", "--input", "-"], { input: "hello stream" })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ bodyLength: 12 })
    expect(e2e.server.hits("/api/refresh")).toBe(1)
    const upload = e2e.server.lastRequest("/api/echo/upload")!
    expect(upload.headers["x-authorization"]).not.toBe(g.accessToken)
  })
})

// ---------------------------------------------------------------------------------------------
// Item 11 (first half): aliases unique against every name and olaresId
// ---------------------------------------------------------------------------------------------

describe("aliases", () => {
  const loginBob = () =>
    cli([
      "profile",
      "login",
      "--olares-id",
      BOB_ID,
      "--auth-url-override",
      e2e.server.url,
      "--password-stdin",
      "--totp",
      e2e.server.totpNow("bob")
    ], {
      input: `${BOB.password}\n`
    })

  it("the issue's scenario: login --name bob@olares.com for alice while bob exists is refused; remove bob@olares.com never touches alice", async () => {
    expect((await loginBob()).code).toBe(0)
    const before = snapshot(e2e.home.root)
    const r = await loginAt(e2e.server.url, ["--name", BOB_ID])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain(`"${BOB_ID}"`)
    expect(r.stderr).toContain("--name")
    expectNoStack(r)
    expect(snapshot(e2e.home.root)).toEqual(before) // nothing written
    expect(e2e.server.hits("/api/firstfactor")).toBe(1) // bob's only: refused before any network

    // an alias equal to another profile's alias, or to a bare name that means another olaresId
    expect((await loginAt(e2e.server.url, ["--name", "work"])).code).toBe(0)
    const again = await cli([
      "profile",
      "login",
      "--olares-id",
      "carol@olares.com",
      "--name",
      "work",
      "--password-stdin",
      "--auth-url-override",
      e2e.server.url
    ], {
      input: "x-password\n"
    })
    expect(again.code, again.stderr).toBe(2)
    const bare = await cli([
      "profile",
      "login",
      "--olares-id",
      "dave@olares.com",
      "--name",
      "bob",
      "--password-stdin",
      "--auth-url-override",
      e2e.server.url
    ], {
      input: "x-password\n"
    })
    expect(bare.code, bare.stderr).toBe(2)

    const rm = await cli(["profile", "remove", BOB_ID, "--yes"])
    expect(rm.code, rm.stderr).toBe(0)
    const left = (await readConfig(e2e.home)).profiles.map((p) => p.olaresId)
    expect(left).toEqual([ALICE_ID])
  })

  it("an old config where alice's alias is bob's olaresId: remove bob@olares.com is refused as ambiguous, nothing removed", async () => {
    await seedProfile(e2e.home, { olaresId: BOB_ID, accessToken: await mintJwt({ username: "bob" }) })
    await seedProfile(e2e.home, { olaresId: ALICE_ID, name: BOB_ID, accessToken: await mintJwt() })
    const before = snapshot(e2e.home.root)
    const rm = await cli(["profile", "remove", BOB_ID, "--yes"])
    expect(rm.code, rm.stderr).toBe(2)
    expect(rm.stderr).toContain(ALICE_ID)
    expect(snapshot(e2e.home.root)).toEqual(before)
    // and bob cannot log in under a display name that would resolve to alice
    const r = await loginBob()
    expect(r.code, r.stderr).toBe(2)
  })
})

// ---------------------------------------------------------------------------------------------
// Item 12: URL flags validated, doctor redacts URL credentials
// ---------------------------------------------------------------------------------------------

describe("URL flags", () => {
  const badPrefixes = [
    "x@evil.example/",
    "dev",
    "dev./",
    "a/b.",
    "?.",
    "#x.",
    ".",
    "dev..",
    "-dev.",
    "de v.",
    "x:1@evil."
  ]
  const badOverrides = [
    "http://x@127.0.0.1:1",
    "http://user:pw@127.0.0.1:1/",
    "ftp://127.0.0.1/",
    "not a url",
    "http://127.0.0.1:1/?q=1",
    "http://127.0.0.1:1/#f",
    "/relative/path",
    "http://",
    "http://127.0.0.1:1\\@evil.example/",
    "javascript:alert(1)"
  ]

  it("bad --local-url-prefix and --auth-url-override values are typed usage errors naming the flag, before any network", async () => {
    for (const p of badPrefixes) {
      const r = await cli(["profile", "login", "--olares-id", ALICE_ID, "--local-url-prefix", p, "--password-stdin"], {
        input: "pw-123456\n"
      })
      expect(r.code, `${p}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toContain("--local-url-prefix")
      expect(r.stderr).not.toContain("unexpected")
      expectNoStack(r)
    }
    for (const o of badOverrides) {
      for (const verb of ["login", "import"]) {
        const r = await cli([
          "profile",
          verb,
          "--olares-id",
          ALICE_ID,
          "--auth-url-override",
          o,
          verb === "login" ? "--password-stdin" : "--refresh-token-stdin"
        ], {
          input: "secret-123456\n"
        })
        expect(r.code, `${verb} ${o}: ${r.stderr}`).toBe(2)
        expect(r.stderr).toContain("--auth-url-override")
        expect(r.stderr).not.toContain("unexpected")
        expect(r.stderr).not.toContain("pw@")
        expectNoStack(r)
      }
    }
    expect(existsSync(join(e2e.home.home, "config.json"))).toBe(false)
    // good values still work, the override's trailing slash included
    const ok = await loginAt(`${e2e.server.url}/`, ["--local-url-prefix", "dev."])
    expect(ok.code, ok.stderr).toBe(0)
  })

  it("doctor shows https://***@host for an override holding credentials (old config), table and JSON", async () => {
    const pw = `pw-${randomBytes(8).toString("hex")}`
    recordSecret(pw)
    await seedProfile(e2e.home, {
      olaresId: ALICE_ID,
      accessToken: await mintJwt(),
      authUrlOverride: `http://user:${pw}@127.0.0.1:9`
    })
    for (const args of [["profile", "doctor", "--offline"], ["profile", "doctor", "--offline", "-o", "json"]]) {
      const r = await cli(args)
      expect(r.stdout + r.stderr).not.toContain(pw)
      expect(r.stdout + r.stderr).not.toContain("user:")
      expect(r.stdout).toContain("http://***@127.0.0.1:9")
    }
  })

  it("a stored prefix that would move the host (old config) is refused before any request", async () => {
    await seedProfile(e2e.home, { olaresId: ALICE_ID, accessToken: await mintJwt() })
    const file = join(e2e.home.home, "config.json")
    const cfg = JSON.parse(readFileSync(file, "utf8"))
    cfg.profiles[0].localUrlPrefix = "x@127.0.0.1:9/"
    writeFileSync(file, JSON.stringify(cfg), { mode: 0o600 })
    const r = await cli(["api", "/api/x"])
    expect(r.code, r.stderr).not.toBe(0)
    expect(r.stderr).toContain("localUrlPrefix")
    expect(r.stderr).not.toMatch(/connect|ECONNREFUSED|unexpected/)
  })
})

// ---------------------------------------------------------------------------------------------
// Item 14: JSON depth, header-safe tokens, exp edge cases
// ---------------------------------------------------------------------------------------------

/** An unsigned compact JWT with this payload (the CLI never verifies signatures). */
const jwtWith = (payload: string) => {
  const b = (s: string) => Buffer.from(s).toString("base64url")
  const t = `${b("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")}.${b(payload)}.${randomBytes(16).toString("base64url")}`
  recordSecret(t)
  return t
}

describe("JSON depth, tokens, exp", () => {
  const deep = "[".repeat(5000) + "]".repeat(5000)

  it("5,000-level nested JSON from a server or on disk is a typed decode error, not a stack overflow", async () => {
    const srv = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(`{"status":"OK","data":${deep}}`)
    })
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r))
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`
      const r = await loginAt(url)
      expect(r.code, r.stderr).toBe(1)
      expect(r.stderr).toMatch(/nested deeper than/)
      expectNoStack(r)
      await seedProfile(e2e.home, { olaresId: ALICE_ID, accessToken: await mintJwt(), authUrlOverride: url })
      const who = await cli(["profile", "whoami", "--refresh"])
      expect(who.code, who.stderr).toBe(1)
      expect(who.stderr).toMatch(/nested deeper than/)
    } finally {
      await new Promise<void>((r) => srv.close(() => r()))
    }
    const file = join(e2e.home.home, "config.json")
    writeFileSync(file, `{"profiles":[{"olaresId":"alice@olares.com","x":${deep}}]}`, { mode: 0o600 })
    for (const args of [["profile", "list"], ["profile", "use", ALICE_ID], ["profile", "whoami"]]) {
      const r = await cli(args)
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(1)
      expect(r.stderr).toMatch(/nested deeper than/)
      expectNoStack(r)
    }
  })

  it("a refresh token that cannot travel in a header is refused at import (flag, stdin, env), nothing stored", async () => {
    for (const bad of ["rt-abc\u0007def", "rt-ab cd", "rt-héllo", "rt-a\tb"]) {
      for (const how of ["flag", "stdin", "env"] as const) {
        const args = ["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url]
        const r = await cli(
          how === "flag"
            ? [...args, "--refresh-token", bad]
            : how === "stdin"
            ? [...args, "--refresh-token-stdin"]
            : args,
          {
            ...(how === "stdin" ? { input: `${bad}\n` } : {}),
            ...(how === "env" ? { env: { OLARES_REFRESH_TOKEN: bad } } : {})
          }
        )
        expect(r.code, `${how} ${JSON.stringify(bad)}: ${r.stderr}`).toBe(2)
        expect(r.stderr).toContain("HTTP header")
      }
    }
    expect(e2e.server.hits("/api/refresh")).toBe(0)
    expect(existsSync(join(e2e.home.home, "config.json"))).toBe(false)
  })

  it("tokens a server returns with CR/LF, controls or non-ASCII are refused before they are stored", async () => {
    const good = await mintJwt()
    for (
      const [access, refresh] of [[`${good}\r\nX-Evil: 1`, "rt-fine-123456"], [good, "rt-\u0000bad"], [
        `${good}é`,
        "rt-fine-123456"
      ]]
    ) {
      const srv = http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ status: "OK", data: { access_token: access, refresh_token: refresh, fa2: false } }))
      })
      await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r))
      try {
        const r = await loginAt(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`)
        expect(r.code, r.stderr).toBe(1)
        expect(r.stderr).toContain("HTTP header")
        expectClean(r)
        expect(existsSync(join(e2e.home.home, "config.json"))).toBe(false)
      } finally {
        await new Promise<void>((r) => srv.close(() => r()))
      }
    }
  })

  it("exp edge cases are named correctly in list, doctor and the re-auth message", async () => {
    const cases: ReadonlyArray<readonly [string, string, string | RegExp]> = [
      ["neg", "{\"exp\":-5}", "expired"],
      ["huge", "{\"exp\":1.7e308}", "logged-in (unparseable token)"],
      ["e300", "{\"exp\":1e300}", "logged-in (unparseable token)"],
      ["frac", "{\"exp\":4102444800.5}", "logged-in (unparseable token)"],
      ["str", "{\"exp\":\"soon\"}", "logged-in (unparseable token)"],
      ["far", "{\"exp\":253402300799}", "logged-in"]
    ]
    for (const [name, payload] of cases) {
      await seedProfile(e2e.home, { olaresId: `${name}@olares.com`, accessToken: jwtWith(payload), makeCurrent: false })
    }
    const list = await cli(["profile", "list", "-o", "json"])
    const rows = JSON.parse(list.stdout).profiles as Array<{ olaresId: string; status: string }>
    for (const [name, , status] of cases) {
      expect(rows.find((r) => r.olaresId === `${name}@olares.com`)?.status, name).toBe(status)
    }
    const doctor = await cli(["profile", "doctor", "--offline", "-o", "json"])
    const problems = JSON.parse(doctor.stdout).problems as Array<{ subject: string; message: string }>
    const msg = (id: string) => problems.find((p) => p.subject === `${id}@olares.com`)?.message ?? ""
    expect(msg("huge")).toContain("out of range")
    expect(msg("frac")).toContain("not a whole number")
    expect(msg("str")).toContain("not a number")
    expect(msg("neg")).not.toContain("integer")
    // the re-auth refusal of a far-future token reads in hours, never "Infinity" or "NaN"
    const far = await cli(["profile", "login", "--olares-id", "far@olares.com", "--password-stdin"], {
      input: "pw-123456\n"
    })
    expect(far.code, far.stderr).toBe(5)
    expect(far.stderr).toMatch(/expires in \d+h\d+m/)
    expect(far.stderr).not.toMatch(/Infinity|NaN|e\+/)
    // a negative exp is simply expired: login may overwrite it (no refusal)
    const neg = await cli([
      "profile",
      "login",
      "--olares-id",
      "neg@olares.com",
      "--password-stdin",
      "--auth-url-override",
      e2e.server.url
    ], {
      input: "pw-123456\n"
    })
    expect(neg.code, neg.stderr).toBe(4) // the server's verdict on the password, not a refusal
  })
})

// ---------------------------------------------------------------------------------------------
// Item 16: debug redaction of every credential-like header
// ---------------------------------------------------------------------------------------------

describe("OLARES_CLI_DEBUG", () => {
  it("redacts every credential-like request header, user-supplied -H ones included", async () => {
    const g = await e2e.server.issueGrant("alice")
    await seedProfile(e2e.home, {
      olaresId: ALICE_ID,
      accessToken: g.accessToken,
      refreshToken: g.refreshToken,
      authUrlOverride: e2e.server.url
    })
    const headers: Record<string, string> = {
      "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0LXByb3h5",
      "X-Auth-Token": "xauth-secret-value-1",
      "X-Api-Secret": "api-secret-value-2",
      "X-Session-Id": "session-secret-value-3",
      "X-Custom-Key": "key-secret-value-4",
      "X-Password": "password-secret-value-5",
      "Authorization": "Bearer bearer-secret-value-6",
      "X-Refresh-Token": "refresh-secret-value-7"
    }
    for (const v of Object.values(headers)) recordSecret(v)
    const args = ["api", "/api/echo/x"]
    for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`)
    args.push("-H", "X-Request-Id: visible-value")
    const r = await cli(args, { env: { OLARES_CLI_DEBUG: "1" } })
    expect(r.code, r.stderr).toBe(0)
    for (const [k, v] of Object.entries(headers)) {
      expect(r.stderr).not.toContain(v)
      expect(r.stderr.toLowerCase()).toContain(`${k.toLowerCase()}: <redacted>`)
    }
    expect(r.stderr).toContain("x-request-id: visible-value")
  })
})
