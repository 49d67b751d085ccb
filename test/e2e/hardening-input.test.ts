/**
 * Hardening, the input side (issue #4): hostile or broken server replies during login / import /
 * whoami, bad user input (a table of malformed olaresIds, unknown flags, secrets on argv, empty
 * stdin, no terminal) plus a fast-check fuzz of random argv against the built CLI, and secrets in
 * debug output. Every CLI output is leak-scanned by the global teardown as well.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import fc from "fast-check"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { makeLinuxFileKeyStore } from "../../layers/KeyStoreFile.js"
import { runCli } from "../support/cli.js"
import { useE2e } from "../support/e2e.js"
import { expectNoStack, snapshot, STACK_TRACE } from "../support/hardening-util.js"
import {
  ALICE,
  closedPort,
  type Fault,
  type FaultKind,
  hasOpenssl,
  mintJwt,
  selfSignedCert,
  startServer
} from "../support/server.js"

const ALICE_ID = "alice@olares.com"

const e2e = useE2e()
let deadPort: number
beforeAll(async () => {
  deadPort = await closedPort()
})

const cli = e2e.cli

const storeDir = () => join(e2e.home.data, "olares-cli")
const store = () => makeLinuxFileKeyStore(storeDir())
const readRecord = (id: string) => Effect.runPromise(store().get(id))
const configPath = () => join(e2e.home.home, "config.json")

const importAlice = async (url: string = e2e.server.url, extra: ReadonlyArray<string> = []) => {
  const g = await e2e.server.issueGrant("alice")
  return cli(["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", url, ...extra], {
    env: { OLARES_REFRESH_TOKEN: g.refreshToken }
  })
}

const loginAlice = (url: string = e2e.server.url, extra: ReadonlyArray<string> = []) =>
  cli(["profile", "login", "--olares-id", ALICE_ID, "--auth-url-override", url, "--password-stdin", ...extra], {
    input: `${ALICE.password}\n`
  })

/** A transient failure: exit 1, the endpoint named, no advice to log in again, no stack. */
const expectTransient = (r: { code: number | null; stdout: string; stderr: string }, endpoint: string) => {
  expect(r.code, r.stderr).toBe(1)
  expect(r.stderr).toContain(endpoint)
  expect(r.stderr).not.toContain("profile login")
  expect(r.stderr.length).toBeLessThan(2000) // bodies are cut, never dumped
  expectNoStack(r)
}

// ---------------------------------------------------------------------------------------------
// 3. Bad input from the server
// ---------------------------------------------------------------------------------------------

describe("bad server replies", () => {
  const kinds: ReadonlyArray<FaultKind> = ["html", "empty", "nodata", "status-error", "huge", "garbage", "reset"]

  for (const kind of kinds) {
    it(`${kind}: login, import and whoami --refresh fail transiently, naming the endpoint; nothing stored or marked`, async () => {
      // login: nothing exists before, nothing after
      e2e.server.setFault("/api/firstfactor", { kind })
      const login = await loginAlice()
      if (kind === "status-error") {
        // A 200 whose status is not OK is the auth server's verdict on the login (reference:
        // "first-factor authentication failed: <status>: <message>"), so it is LoginRejected (exit 4),
        // as test/unit/auth-api.test.ts pins; it still names the endpoint and never says "profile login".
        expect(login.code).toBe(4)
        expect(login.stderr).toContain("/api/firstfactor: first-factor authentication failed: error: simulated failure")
        expect(login.stderr).not.toContain("profile login")
        expectNoStack(login)
      } else {
        expectTransient(login, "/api/firstfactor")
      }
      expect(existsSync(configPath())).toBe(false)
      expect(existsSync(join(storeDir(), "alice_olares.com.enc"))).toBe(false)

      // import: the grant is neither stored nor spent
      e2e.server.setFault("/api/refresh", { kind })
      const g = await e2e.server.issueGrant("alice")
      const imp = await cli(["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url], {
        env: { OLARES_REFRESH_TOKEN: g.refreshToken }
      })
      expectTransient(imp, "/api/refresh")
      expect(existsSync(join(storeDir(), "alice_olares.com.enc"))).toBe(false)
      expect(e2e.server.isRefreshTokenLive(g.refreshToken)).toBe(true)
      e2e.server.reset()

      // whoami --refresh on a good profile: the token stays as it is, nothing is marked
      expect((await importAlice()).code).toBe(0)
      const before = snapshot(e2e.home.root)
      e2e.server.setFault("/api/backend/v1/user-info", { kind })
      const who = await cli(["profile", "whoami", "--refresh"])
      expectTransient(who, "/api/backend/v1/user-info")
      const whoJson = await cli(["profile", "whoami", "--refresh", "-o", "json"])
      expect(whoJson.code).toBe(1)
      expect(JSON.parse(whoJson.stderr).error).toMatchObject({ exitCode: 1 })
      expect(snapshot(e2e.home.root)).toEqual(before)
      const rec = Option.getOrThrow(await readRecord(ALICE_ID))
      expect(rec.invalidatedAt ?? 0).toBe(0)
      expect(e2e.server.hits("/api/refresh")).toBe(1) // only the import's own exchange
    })
  }

  it("a huge body is refused after 1 MiB, not buffered: import and whoami", async () => {
    e2e.server.setFault("/api/refresh", { kind: "huge" })
    const imp = await importAlice()
    expect(imp.stderr).toContain("/api/refresh: response body is larger than 1048576 bytes; refusing to read it")
    e2e.server.clearFaults()
    expect((await importAlice()).code).toBe(0)
    e2e.server.setFault("/api/backend/v1/user-info", { kind: "huge" })
    const who = await cli(["profile", "whoami", "--refresh"])
    expect(who.stderr).toContain("GET /api/backend/v1/user-info: response body is larger than 1048576 bytes")
    expect(who.stderr).not.toContain("aaaaaaaa") // the body is not echoed
  })

  it("an HTTP 5xx on every endpoint is transient (exit 1) and never marks the grant", async () => {
    e2e.server.setFault("/api/firstfactor", { status: 503 })
    expectTransient(await loginAlice(), "/api/firstfactor returned HTTP 503")
    e2e.server.setFault("/api/refresh", { status: 502 })
    expectTransient(await importAlice(), "/api/refresh returned HTTP 502")
  })

  it("slower than the 10 s login timeout: TimeoutError naming the endpoint, exit 1, the grant untouched", async () => {
    e2e.server.setFault("/api/refresh", { delayMs: 12_000, times: 1, status: 503 })
    const g = await e2e.server.issueGrant("alice")
    const started = Date.now()
    const r = await cli(["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url], {
      env: { OLARES_REFRESH_TOKEN: g.refreshToken },
      timeoutMs: 30_000
    })
    const took = Date.now() - started
    expectTransient(r, "/api/refresh: no answer within 10s")
    expect(took).toBeGreaterThanOrEqual(9_500)
    expect(took).toBeLessThan(14_000)
    expect(existsSync(join(storeDir(), "alice_olares.com.enc"))).toBe(false)
    expect(e2e.server.isRefreshTokenLive(g.refreshToken)).toBe(true)
  })

  it("connection refused: login, import, whoami --refresh and api all exit 1 naming the endpoint", async () => {
    const dead = `http://127.0.0.1:${deadPort}`
    const login = await loginAlice(dead)
    expectTransient(login, "/api/firstfactor")
    expect(login.stderr).toContain("connection refused")
    const imp = await importAlice(dead)
    expectTransient(imp, "/api/refresh")
    expect(imp.stderr).toContain("connection refused")
    expect(existsSync(configPath())).toBe(false)

    // a stored profile whose server went away: nothing is marked, nothing is deleted
    expect((await importAlice()).code).toBe(0)
    const cfg = JSON.parse(readFileSync(configPath(), "utf8"))
    cfg.profiles[0].authUrlOverride = dead
    writeFileSync(configPath(), JSON.stringify(cfg, null, 2), { mode: 0o600 })
    const before = snapshot(e2e.home.root)
    expectTransient(await cli(["profile", "whoami", "--refresh"]), "/api/backend/v1/user-info")
    expectTransient(await cli(["api", "/api/echo/x"]), "/api/echo/x")
    expect(snapshot(e2e.home.root)).toEqual(before)
  })

  it.skipIf(!hasOpenssl())(
    "TLS: a self-signed server fails without --insecure-skip-verify, works with it",
    async () => {
      const tls = await startServer({ tls: selfSignedCert() })
      try {
        const g = await tls.issueGrant("alice")
        const refused = await cli(["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", tls.url], {
          env: { OLARES_REFRESH_TOKEN: g.refreshToken }
        })
        expectTransient(refused, "/api/refresh")
        expect(refused.stderr).toContain("TLS certificate verification failed")
        expect(refused.stderr).toContain("--insecure-skip-verify")
        expect(tls.hits("/api/refresh")).toBe(0)
        expect(existsSync(configPath())).toBe(false)
        const loginRefused = await cli(
          ["profile", "login", "--olares-id", ALICE_ID, "--auth-url-override", tls.url, "--password-stdin"],
          { input: `${ALICE.password}\n` }
        )
        expectTransient(loginRefused, "/api/firstfactor")
        expect(loginRefused.stderr).toContain("TLS certificate verification failed")

        const ok = await cli(
          ["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", tls.url, "--insecure-skip-verify"],
          { env: { OLARES_REFRESH_TOKEN: g.refreshToken } }
        )
        expect(ok.code, ok.stderr).toBe(0)
        expect(ok.stdout).toContain("role: Owner")
        expect(JSON.parse(readFileSync(configPath(), "utf8")).profiles[0].insecureSkipVerify).toBe(true)
        // the flag is remembered by the profile: later calls need no flag
        const who = await cli(["profile", "whoami", "--refresh"])
        expect(who.code, who.stderr).toBe(0)
      } finally {
        await tls.close()
      }
    }
  )

  it.skipIf(!hasOpenssl())(
    "TLS: whoami --refresh and api name a self-signed server's certificate and the hint, like login",
    async () => {
      const tls = await startServer({ tls: selfSignedCert() })
      try {
        const g = await tls.issueGrant("alice")
        const ok = await cli(
          ["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", tls.url, "--insecure-skip-verify"],
          { env: { OLARES_REFRESH_TOKEN: g.refreshToken } }
        )
        expect(ok.code, ok.stderr).toBe(0)
        // the same profile without the flag: every later call now meets the untrusted certificate
        const cfg = JSON.parse(readFileSync(configPath(), "utf8"))
        delete cfg.profiles[0].insecureSkipVerify
        writeFileSync(configPath(), JSON.stringify(cfg, null, 2), { mode: 0o600 })
        const before = snapshot(e2e.home.root)
        for (
          const [args, endpoint] of [
            [["profile", "whoami", "--refresh"], "/api/backend/v1/user-info"],
            [["api", "/api/echo/x"], "/api/echo/x"]
          ] as const
        ) {
          const r = await cli(args)
          expectTransient(r, endpoint)
          expect(r.stderr).toContain(`TLS certificate verification failed for ${tls.url}`)
          expect(r.stderr).toContain("--insecure-skip-verify")
        }
        expect(tls.hits("/api/echo/x")).toBe(0)
        expect(snapshot(e2e.home.root)).toEqual(before)
      } finally {
        await tls.close()
      }
    }
  )
})

// ---------------------------------------------------------------------------------------------
// 4. Bad input from the user
// ---------------------------------------------------------------------------------------------

describe("bad user input", () => {
  const malformed: ReadonlyArray<readonly [string, string]> = [
    ["a@b@c", "more than one '@'"],
    ["al ice@olares.com", "white space"],
    ["@olares.com", "local part is empty"],
    ["alice@", "domain is empty"],
    ["alice@olares..com", "empty label"],
    ["alice@.olares.com", "empty label"],
    ["al_ice@olares.com", "characters a host name cannot"],
    ["alice@olares.com/x", "characters a host name cannot"],
    ["ali\u00e7e@olares.com", "characters a host name cannot"],
    ["-alice@olares.com", "characters a host name cannot"],
    ["alice@-olares.com", "characters a host name cannot"],
    ["alice@olares.com:443", "characters a host name cannot"],
    ["../../etc/passwd", "empty label"],
    [`${"a".repeat(64)}@olares.com`, "characters a host name cannot"],
    ["   ", "--olares-id is required"]
  ]

  it("malformed olaresIds are usage errors (exit 2) that say what was expected, before any network", async () => {
    for (const [id, why] of malformed) {
      for (const cmd of ["login", "import"] as const) {
        const r = await cli(
          [
            "profile",
            cmd,
            "--olares-id",
            id,
            "--auth-url-override",
            e2e.server.url,
            cmd === "login" ? "--password-stdin" : "--refresh-token-stdin"
          ],
          { input: "some-secret-value\n" }
        )
        expect(r.code, `${cmd} ${JSON.stringify(id)}: ${r.stderr}`).toBe(2)
        expect(r.stderr).toContain(why)
        if (id.trim() !== "") expect(r.stderr).toContain("expected local@domain, e.g. alice@olares.com")
        expect(r.stderr).not.toContain("some-secret-value")
        expectNoStack(r)
      }
    }
    expect(e2e.server.stats().hits).toEqual({})
    expect(existsSync(configPath())).toBe(false)
  })

  it("unknown flags and bad flag values are usage errors (exit 2), also under -o json", async () => {
    const cases = [
      ["profile", "list", "--bogus"],
      ["profile", "login", "--olares-id", ALICE_ID, "--frobnicate"],
      ["profile", "whoami", "-o", "yaml"],
      ["profile", "use"],
      ["api", "--nope", "/api/echo/x"],
      ["profile", "nonsense"],
      ["nonsense"]
    ]
    for (const args of cases) {
      const r = await cli(args)
      expect(r.code, args.join(" ")).toBe(2)
      expectNoStack(r)
    }
    const json = await cli(["profile", "whoami", "-o", "json", "--bogus"])
    expect(json.code).toBe(2)
    expect(json.stderr).toContain("\"code\": \"usage\"")
  })

  it("--password on argv is refused and its value never echoed, whatever the spelling or position", async () => {
    for (
      const args of [
        ["profile", "login", "--olares-id", ALICE_ID, "--password", "hunter2-secret-argv"],
        ["profile", "login", "--password=hunter2-secret-argv", "--olares-id", ALICE_ID],
        ["--password", "hunter2-secret-argv", "profile", "login"],
        ["profile", "login", "-o", "json", "--password", "hunter2-secret-argv"]
      ]
    ) {
      const r = await cli(args)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain("there is no --password flag")
      expect(r.stdout + r.stderr).not.toContain("hunter2-secret-argv")
    }
    expect(e2e.server.stats().hits).toEqual({})
  })

  it("empty stdin for --password-stdin / --refresh-token-stdin is EmptySecret (exit 2); no TTY is NotATerminal", async () => {
    for (const input of ["", "\n", "\r\n"]) {
      const pw = await cli([
        "profile",
        "login",
        "--olares-id",
        ALICE_ID,
        "--auth-url-override",
        e2e.server.url,
        "--password-stdin"
      ], { input })
      expect(pw.code, JSON.stringify(input)).toBe(2)
      expect(pw.stderr).toContain("password is empty")
      const rt = await cli([
        "profile",
        "import",
        "--olares-id",
        ALICE_ID,
        "--auth-url-override",
        e2e.server.url,
        "--refresh-token-stdin"
      ], { input })
      expect(rt.code).toBe(2)
      expect(rt.stderr).toContain("refresh token is empty")
    }
    const noTty = await cli(["profile", "login", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url])
    expect(noTty.code).toBe(2)
    expect(noTty.stderr).toContain("stdin is not a terminal; pass --password-stdin and pipe the password instead")
    const wizard = await cli(["--wizard"], { timeoutMs: 15_000 })
    expect(wizard.code).toBe(2)
    expect(e2e.server.stats().hits).toEqual({})
  })

  it("unknown profile names for use / remove exit 6 and touch nothing", async () => {
    expect((await importAlice()).code).toBe(0)
    const before = snapshot(e2e.home.root)
    for (const key of ["nobody", "bob@olares.com", "ALICE@olares.com", "", "-", "alice@olares.com "]) {
      // (--yes first: @effect/cli stops reading options after a bare "-")
      for (const args of [["profile", "use", key], ["profile", "remove", "--yes", key]]) {
        const r = await cli(args)
        if (key === "-" && args[1] === "use") {
          expect(r.stderr).toContain("no previous profile")
        } else {
          expect(r.stderr, args.join(" ")).toContain(`profile ${JSON.stringify(key)} not found`)
        }
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(6)
        expect(r.stderr).toContain("olares-cli profile list")
        expectNoStack(r)
      }
    }
    expect(snapshot(e2e.home.root)).toEqual(before)
  })

  it("fuzz: random argv never crashes, hangs or prints a stack trace; exit codes stay in 0..7", async () => {
    // A template home with one logged-in profile whose server is unreachable: every command gets as
    // far as it can, and nothing anywhere can answer.
    const template = mkdtempSync(join(tmpdir(), "olares-fuzz-"))
    const dead = `http://127.0.0.1:${deadPort}`
    const tokenDir = join(template, "data", "olares-cli")
    await Effect.runPromise(
      makeLinuxFileKeyStore(tokenDir).set({
        olaresId: ALICE_ID,
        accessToken: Redacted.make(await mintJwt({ username: "alice", ttl: 3600 })),
        refreshToken: Redacted.make("rt-fuzz-not-a-real-refresh-token")
      })
    )
    const cfgDir = join(template, "config")
    mkdirSync(cfgDir, { recursive: true, mode: 0o700 })
    writeFileSync(
      join(cfgDir, "config.json"),
      JSON.stringify({ currentProfile: ALICE_ID, profiles: [{ olaresId: ALICE_ID, authUrlOverride: dead }] }),
      { mode: 0o600 }
    )

    const real = [
      "profile",
      "login",
      "import",
      "list",
      "use",
      "remove",
      "whoami",
      "api",
      "--olares-id",
      "alice",
      ALICE_ID,
      "bob@olares.com",
      "a@b@c",
      "--auth-url-override",
      dead,
      "--name",
      "work",
      "--local-url-prefix",
      "dev.",
      "--insecure-skip-verify",
      "--no-switch",
      "--password-stdin",
      "--totp",
      "123456",
      "--refresh-token",
      "rt-fuzz-argv-token",
      "--refresh-token-stdin",
      "-o",
      "--output",
      "json",
      "table",
      "--yes",
      "-y",
      "--refresh",
      "--refresh-version",
      "--no-input",
      "-X",
      "POST",
      "-H",
      "X-A: b",
      "--input",
      "-",
      "/api/echo/x",
      "https://evil.example/x",
      "--help",
      "-h",
      "--version",
      "--completions",
      "bash",
      "--wizard",
      "--log-level",
      "debug",
      "--",
      "-",
      "=",
      ""
    ]
    const token = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...real) },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
      { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }) },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.constantFrom("--olares-id", "--output", "--name", "-o", "--totp"),
          fc.string({ maxLength: 8 })
        ).map(([f, v]) => `${f}=${v}`)
      }
    ).filter((t) => !t.includes("\u0000"))
    const prefix = fc.constantFrom<ReadonlyArray<string>>(
      [],
      ["profile"],
      ["profile", "login"],
      ["profile", "import"],
      ["profile", "list"],
      ["profile", "use"],
      ["profile", "remove"],
      ["profile", "whoami"],
      ["api"]
    )
    const argvArb = fc.tuple(prefix, fc.array(token, { maxLength: 7 })).map(([p, rest]) => [...p, ...rest])
    const inputArb = fc.constantFrom("", "\n", "fuzz-stdin-line\n")

    let n = 0
    const runOne = async ([argv, input]: readonly [ReadonlyArray<string>, string]) => {
      const root = join(template, `run-${n++}`)
      cpSync(join(template, "config"), join(root, "config"), { recursive: true })
      cpSync(join(template, "data"), join(root, "data"), { recursive: true })
      const r = await runCli(argv, {
        env: {
          OLARES_CLI_HOME: join(root, "config"),
          OLARES_CLI_DATA_DIR: join(root, "data"),
          HOME: root,
          NO_COLOR: "1"
        },
        input,
        timeoutMs: 20_000
      })
      rmSync(root, { recursive: true, force: true })
      return { argv, r }
    }

    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(argvArb, inputArb), { minLength: 4, maxLength: 4 }), async (batch) => {
          const results = await Promise.all(batch.map(runOne))
          for (const { argv, r } of results) {
            const label = JSON.stringify(argv)
            if (r.code === null || r.code < 0 || r.code > 7) {
              throw new Error(`${label}: exit ${r.code} (signal ${r.signal})\n${r.stderr.slice(0, 500)}`)
            }
            if (STACK_TRACE.test(r.stdout) || STACK_TRACE.test(r.stderr)) {
              throw new Error(`${label}: printed a stack trace\n${r.stderr.slice(0, 1000)}`)
            }
            if (r.code !== 0 && r.stderr.trim() === "") {
              throw new Error(`${label}: exit ${r.code} with nothing on stderr`)
            }
          }
        }),
        { numRuns: 25, endOnFailure: true }
      )
    } finally {
      rmSync(template, { recursive: true, force: true })
    }
  }, 120_000)
})

// ---------------------------------------------------------------------------------------------
// 5. Secrets
// ---------------------------------------------------------------------------------------------

describe("secrets", () => {
  it("OLARES_CLI_DEBUG=1 shows method + URL of every request, header values redacted, no secret", async () => {
    const debug = { OLARES_CLI_DEBUG: "1" }
    const login = await cli([
      "profile",
      "login",
      "--olares-id",
      ALICE_ID,
      "--auth-url-override",
      e2e.server.url,
      "--password-stdin"
    ], {
      input: `${ALICE.password}\n`,
      env: debug
    })
    expect(login.code, login.stderr).toBe(0)
    expect(login.stderr).toContain(`debug: POST ${e2e.server.url}/api/firstfactor?hideCookie=true`)
    expect(login.stderr).toContain(`debug: GET ${e2e.server.url}/api/backend/v1/user-info`)
    expect(login.stderr).toMatch(/x-authorization: <redacted>/)
    expect(login.stderr).toMatch(/cookie: <redacted>/)
    expect(login.stderr).toContain(`debug: HTTP 200 for POST ${e2e.server.url}/api/firstfactor`)

    // a stale token: the transport refreshes, and the refresh is logged too
    const rec = Option.getOrThrow(await readRecord(ALICE_ID))
    await Effect.runPromise(
      store().set({ ...rec, accessToken: Redacted.make(await e2e.server.mintJwt({ username: "alice", ttl: -60 })) })
    )
    const api = await cli(["api", "/api/echo/x"], { env: debug })
    expect(api.code, api.stderr).toBe(0)
    expect(api.stderr).toContain(`debug: GET ${e2e.server.url}/api/echo/x`)
    expect(api.stderr).toContain(`debug: HTTP 401 for GET ${e2e.server.url}/api/echo/x`)
    expect(api.stderr).toContain(`debug: POST ${e2e.server.url}/api/refresh`)

    const after = Option.getOrThrow(await readRecord(ALICE_ID))
    const secrets = [
      ALICE.password,
      Redacted.value(rec.accessToken),
      Redacted.value(rec.refreshToken!),
      Redacted.value(after.accessToken),
      Redacted.value(after.refreshToken!),
      ...(after.sessionId !== undefined ? [after.sessionId] : [])
    ]
    for (const out of [login.stdout, login.stderr, api.stderr]) {
      for (const s of secrets) expect(out.includes(s)).toBe(false)
      expect(out).not.toMatch(/eyJ[\w-]{10,}/) // no JWT of any kind
    }
    // without the variable there is not a single debug line
    const quiet = await cli(["api", "/api/echo/x"])
    expect(quiet.stderr).toBe("")
  })

  it("profile import works with the refresh token only in the environment: argv never needs a secret", async () => {
    const g = await e2e.server.issueGrant("alice")
    const args = ["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url]
    expect(args.join(" ")).not.toContain(g.refreshToken)
    const r = await cli(args, { env: { OLARES_REFRESH_TOKEN: g.refreshToken } })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`imported credentials for ${ALICE_ID}`)
    const rec = Option.getOrThrow(await readRecord(ALICE_ID))
    expect(e2e.server.isRefreshTokenLive(Redacted.value(rec.refreshToken!))).toBe(true)
    // what ps would show of the server's view: the token travelled in the body, never in a URL
    for (const req of e2e.server.requests()) expect(req.path + req.query).not.toContain(g.refreshToken)
  })

  it("error messages of every failing run carry no secret (the rejected body, the token, the password)", async () => {
    // the server echoes secrets in its error bodies: none of it may reach the terminal
    const g = await e2e.server.issueGrant("alice")
    const fault: Fault = { status: 401 }
    e2e.server.setFault("/api/refresh", fault)
    const dead = await cli(["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url], {
      env: { OLARES_REFRESH_TOKEN: g.refreshToken }
    })
    expect(dead.code).toBe(4)
    expect(dead.stdout + dead.stderr).not.toContain(g.refreshToken)
    const wrong = await cli([
      "profile",
      "login",
      "--olares-id",
      ALICE_ID,
      "--auth-url-override",
      e2e.server.url,
      "--password-stdin"
    ], {
      input: "wrong-password-never-shown\n"
    })
    expect(wrong.code).toBe(4)
    expect(wrong.stdout + wrong.stderr).not.toContain("wrong-password-never-shown")
  })
})
