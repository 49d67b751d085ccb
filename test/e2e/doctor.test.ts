/**
 * `profile doctor` end to end (the built CLI against the loopback server) and its pure diagnosis:
 * every check, every problem's exact fix (and that running the fix really clears the problem), the
 * exit codes, and the JSON document decoded with its schema (unknown keys rejected).
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { execFileSync } from "node:child_process"
import { chmodSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { makeLinuxFileKeyStore } from "../../layers/KeyStoreFile.js"
import { diagnose, type DoctorFacts, shellQuote } from "../../src/commands/doctor/diagnose.js"
import { DoctorJson, ErrorEnvelopeJson, type PathCheckJson } from "../../src/schemas.js"
import { makeTempHome, runCli, type TempHome } from "../support/cli.js"
import { spawnGo } from "../support/golock.js"
import {
  ALICE,
  closedPort,
  hasOpenssl,
  type OlaresTestServer,
  selfSignedCert,
  startServer,
  type TestUser
} from "../support/server.js"

let server: OlaresTestServer
let home: TempHome

const DAVE: TestUser = { username: "dave", password: "dave-password-789" }
const FRANK: TestUser = { username: "frank", password: "frank-password-012" }

beforeAll(async () => {
  server = await startServer()
  server.addUser(DAVE)
  server.addUser(FRANK)
})
afterAll(async () => {
  await server.close()
})
beforeEach(() => {
  server.reset()
  home = makeTempHome()
  return () => home.cleanup()
})

const cli = (args: ReadonlyArray<string>, opts: { input?: string; env?: Record<string, string | undefined> } = {}) =>
  runCli(args, { ...opts, env: { ...home.env, ...opts.env } })

const strict = { onExcessProperty: "error" } as const
const decodeDoctor = (stdout: string) => Schema.decodeUnknownSync(DoctorJson, strict)(JSON.parse(stdout))
const decodeError = (stderr: string) =>
  Schema.decodeUnknownSync(ErrorEnvelopeJson, strict)(JSON.parse(stderr.slice(stderr.indexOf("{\n"))))

const storeDir = () => join(home.data, "olares-cli")
const store = () => makeLinuxFileKeyStore(storeDir())
const locksDir = () => join(home.home, "locks")
const configPath = () => join(home.home, "config.json")
const editConfig = (f: (cfg: { profiles: Array<Record<string, unknown>> }) => void) => {
  const cfg = JSON.parse(readFileSync(configPath(), "utf8"))
  f(cfg)
  writeFileSync(configPath(), JSON.stringify(cfg, null, 2), { mode: 0o600 })
}

const importProfile = async (username: string, extra: ReadonlyArray<string> = []) => {
  const g = await server.issueGrant(username)
  const r = await cli([
    "profile",
    "import",
    "--olares-id",
    `${username}@olares.com`,
    "--auth-url-override",
    server.url,
    ...extra
  ], {
    env: { OLARES_REFRESH_TOKEN: g.refreshToken }
  })
  expect(r.code, r.stderr).toBe(0)
}

const seedToken = (id: string, accessToken: string, refreshToken?: string) =>
  Effect.runPromise(
    store().set({
      olaresId: id,
      accessToken: Redacted.make(accessToken),
      ...(refreshToken !== undefined ? { refreshToken: Redacted.make(refreshToken) } : {})
    })
  )

/** Runs a printed shell fix exactly as printed. */
const sh = (command: string) => execFileSync("sh", ["-c", command], { encoding: "utf8" })

/** Runs a printed `olares-cli profile login ...` fix with the password piped in. */
const runLoginFix = (fix: string, password: string) => {
  expect(fix.startsWith("olares-cli profile login ")).toBe(true)
  return cli([...fix.split(" ").slice(1), "--password-stdin"], { input: `${password}\n` })
}

describe("profile doctor", () => {
  it("a healthy set-up exits 0 and reports store, paths, profiles, locks; the probe is a bare HEAD", async () => {
    await importProfile("alice")
    server.reset()
    const r = await cli(["profile", "doctor", "-o", "json"])
    expect(r.code, r.stderr).toBe(0)
    const doc = decodeDoctor(r.stdout)
    expect(doc.healthy).toBe(true)
    expect(doc.problems).toEqual([])
    expect(doc.store.backend).toBe("file")
    expect(doc.store.location).toContain(storeDir())
    expect(doc.store.reason).toContain("OLARES_CLI_DATA_DIR")
    const dir = (path: string, mode: string): PathCheckJson => ({
      path,
      exists: true,
      kind: "directory",
      mode,
      expectedMode: "0700",
      writable: true,
      ownedByUser: true
    })
    expect(doc.paths.home).toEqual(dir(home.home, "0700"))
    expect(doc.paths.locksDir).toEqual(dir(locksDir(), "0700"))
    expect(doc.paths.dataDir).toEqual(dir(storeDir(), "0700"))
    expect(doc.paths.configFile).toMatchObject({ path: configPath(), kind: "file", mode: "0600", expectedMode: "0600" })
    expect(doc.paths.masterKey).toMatchObject({ path: join(storeDir(), "master.key"), kind: "file", mode: "0600" })
    expect(doc.profiles).toEqual([{
      current: true,
      name: "alice@olares.com",
      olaresId: "alice@olares.com",
      status: "logged-in",
      version: "1.12.6",
      hasRefreshToken: true,
      auth: {
        url: server.url,
        source: "override",
        insecureSkipVerify: false,
        checked: true,
        reachable: true,
        httpStatus: 401,
        errorKind: null,
        error: null,
        elapsedMs: expect.any(Number)
      }
    }])
    expect(doc.locks).toEqual([{
      name: "config.lock",
      path: join(locksDir(), "config.lock"),
      held: false,
      stale: false
    }])
    // one unauthenticated HEAD of the auth base: no token, no cookie
    const reqs = server.requests()
    expect(reqs.map((q) => `${q.method} ${q.path}`)).toEqual(["HEAD /"])
    expect(reqs[0]!.headers["x-authorization"]).toBeUndefined()
    expect(reqs[0]!.headers.cookie).toBeUndefined()
    expect(reqs[0]!.headers.authorization).toBeUndefined()

    const text = await cli(["profile", "doctor"])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain("backend   file")
    expect(text.stdout).toMatch(
      /alice@olares\.com +logged-in +http:\/\/127\.0\.0\.1:\d+ \(override\) +answers \(HTTP 401 in \d+ ms\)/
    )
    expect(text.stdout).toContain("config.lock  free")
    expect(text.stdout).toContain("no problems found")
    expect(text.stdout).not.toContain("\u001b[")
  })

  it("finds each problem, prints the exact fix, exits 1; running the fixes makes it healthy", async () => {
    await importProfile("alice")
    await importProfile("dave", ["--no-switch"])
    await importProfile("bob", ["--no-switch"])
    await Effect.runPromise(store().markInvalidated("alice@olares.com", 1_700_000_000_000))
    await Effect.runPromise(store().remove("dave@olares.com"))
    const port = await closedPort()
    editConfig((c) => c.profiles.push({ olaresId: "carol@olares.com", authUrlOverride: `http://127.0.0.1:${port}` }))
    chmodSync(locksDir(), 0o755)
    // a lock directory an older olares-cli-ts (proper-lockfile) left behind
    const staleLock = join(locksDir(), "erin@olares.com.refresh.lock")
    writeFileSync(staleLock, "")
    mkdirSync(`${staleLock}.lock`)
    const old = new Date(Date.now() - 60_000)
    utimesSync(`${staleLock}.lock`, old, old)
    // a lock another implementation holds right now: the Go lock program (gofrs/flock)
    const heldLock = join(locksDir(), "bob@olares.com.refresh.lock")
    const holder = spawnGo(["hold", heldLock, "60000"])
    try {
      await holder.waitFor("locked")
      const r = await cli(["profile", "doctor", "-o", "json"])
      expect(r.code).toBe(1)
      const doc = decodeDoctor(r.stdout)
      expect(doc.healthy).toBe(false)
      expect(decodeError(r.stderr).error).toMatchObject({
        code: "doctor_problems",
        status: "ProblemsFound",
        exitCode: 1
      })
      const problem = (code: string, subject: string) => {
        const p = doc.problems.find((x) => x.code === code && x.subject === subject)
        expect(p, `${code} ${subject} in ${JSON.stringify(doc.problems, null, 2)}`).toBeDefined()
        return p!
      }
      expect(problem("path_insecure", locksDir())).toMatchObject({ severity: "error", fix: `chmod 700 ${locksDir()}` })
      expect(problem("token_invalidated", "alice@olares.com").fix).toBe(
        "olares-cli profile login --olares-id alice@olares.com"
      )
      expect(problem("token_missing", "dave@olares.com").fix).toBe(
        "olares-cli profile login --olares-id dave@olares.com"
      )
      expect(problem("token_missing", "carol@olares.com").severity).toBe("error")
      const unreachable = problem("auth_unreachable", "carol@olares.com")
      expect(unreachable.message).toContain("nothing listens at")
      expect(unreachable.fix).toBe(`curl -sS -o /dev/null -w '%{http_code}\\n' --max-time 10 http://127.0.0.1:${port}/`)
      expect(doc.profiles.find((p) => p.olaresId === "carol@olares.com")!.auth).toMatchObject({
        reachable: false,
        errorKind: "refused"
      })
      expect(problem("lock_stale", staleLock)).toMatchObject({ severity: "warning", fix: `rm -rf ${staleLock}.lock` })
      expect(problem("lock_stale", staleLock).message).toContain("left by an older olares-cli-ts")
      expect(doc.locks).toContainEqual({
        name: "bob@olares.com.refresh.lock",
        path: heldLock,
        held: true,
        stale: false
      })
      expect(doc.locks).toContainEqual({
        name: "erin@olares.com.refresh.lock",
        path: staleLock,
        held: false,
        stale: true
      })
      expect(doc.problems.filter((p) => p.subject === heldLock)).toEqual([]) // a held lock is not a problem
      expect(doc.problems.filter((p) => p.severity === "error")).toHaveLength(5)

      const text = await cli(["profile", "doctor"])
      expect(text.code).toBe(1)
      expect(text.stdout).toContain(`✗ ${locksDir()}: locks directory ${locksDir()} is mode 0755`)
      expect(text.stdout).toContain(`      fix: chmod 700 ${locksDir()}`)
      expect(text.stdout).toContain(`! ${staleLock}: `)
      expect(text.stdout).toMatch(
        /bob@olares\.com\.refresh\.lock +held by a running process \(this CLI or the Go olares-cli\): leave it alone/
      )
      expect(text.stdout).toContain("5 problems, 1 warning")
      expect(text.stderr).toContain("Error: profile doctor found 5 problems and 1 warning")

      // the fixes, exactly as printed
      sh(problem("path_insecure", locksDir()).fix)
      sh(problem("lock_stale", staleLock).fix)
      expect((await runLoginFix(problem("token_invalidated", "alice@olares.com").fix, ALICE.password)).code).toBe(0)
      expect((await runLoginFix(problem("token_missing", "dave@olares.com").fix, DAVE.password)).code).toBe(0)
      expect((await cli(["profile", "remove", "carol@olares.com", "--yes"])).code).toBe(0)

      const after = await cli(["profile", "doctor", "-o", "json"])
      expect(after.code, after.stdout).toBe(0)
      const healed = decodeDoctor(after.stdout)
      expect(healed.healthy).toBe(true)
      expect(healed.problems).toEqual([])
    } finally {
      holder.child.kill("SIGKILL")
      await holder.exited
    }
  })

  it("unreadable, expired-without-refresh and unparseable tokens; the unreadable fix keeps the overrides", async () => {
    await importProfile("alice")
    await importProfile("frank", ["--no-switch", "--name", "work"])
    writeFileSync(join(storeDir(), "frank_olares.com.enc"), Buffer.alloc(40, 7))
    editConfig((c) =>
      c.profiles.push({ olaresId: "erin@olares.com", authUrlOverride: server.url }, {
        olaresId: "gina@olares.com",
        authUrlOverride: server.url
      })
    )
    await seedToken("erin@olares.com", await server.mintJwt({ ttl: -60 }))
    await seedToken("gina@olares.com", "not-a-jwt")
    await seedToken("alice@olares.com", await server.mintJwt({ ttl: -60 }), "rt-alice-still-live")
    const r = await cli(["profile", "doctor", "-o", "json"])
    expect(r.code).toBe(1)
    const doc = decodeDoctor(r.stdout)
    const byCode = Object.fromEntries(doc.problems.map((p) => [`${p.code} ${p.subject}`, p]))
    const unreadable = byCode["token_unreadable frank@olares.com"]!
    expect(unreadable.fix).toBe(
      `olares-cli profile remove frank@olares.com --yes && olares-cli profile login --olares-id frank@olares.com --name work --auth-url-override ${server.url}`
    )
    expect(byCode["token_expired_no_refresh erin@olares.com"]).toMatchObject({
      severity: "error",
      fix: "olares-cli profile login --olares-id erin@olares.com"
    })
    expect(byCode["token_unparseable gina@olares.com"]).toMatchObject({ severity: "warning" })
    // expired with a refresh token is normal: the next call renews it
    expect(doc.profiles.find((p) => p.olaresId === "alice@olares.com")).toMatchObject({
      status: "expired",
      hasRefreshToken: true
    })
    expect(doc.problems.filter((p) => p.subject === "alice@olares.com")).toEqual([])
    const text = await cli(["profile", "doctor", "--offline"])
    expect(text.stdout).toContain("expired (renewed on next use)")

    // the printed fix (remove && login), run as printed with the password piped to the login half
    const [removeHalf, loginHalf] = unreadable.fix.split(" && ")
    expect((await cli(removeHalf!.split(" ").slice(1))).code).toBe(0)
    expect((await runLoginFix(loginHalf!, FRANK.password)).code).toBe(0)
    const again = decodeDoctor((await cli(["profile", "doctor", "-o", "json", "--offline"])).stdout)
    expect(again.profiles.find((p) => p.olaresId === "frank@olares.com")).toMatchObject({
      name: "work",
      status: "logged-in"
    })
  })

  it("--offline never touches the network; a slow host times out after ~3 s", async () => {
    await importProfile("alice")
    server.reset()
    const offline = await cli(["profile", "doctor", "--offline", "-o", "json"])
    expect(offline.code).toBe(0)
    expect(server.requests()).toEqual([])
    expect(decodeDoctor(offline.stdout).profiles[0]!.auth).toMatchObject({
      checked: false,
      reachable: null,
      httpStatus: null
    })
    expect(offline.stdout).not.toContain("not checked") // JSON only

    server.setFault("/", { delayMs: 6_000 })
    const started = Date.now()
    const slow = await cli(["profile", "doctor", "-o", "json"])
    const took = Date.now() - started
    server.clearFaults()
    expect(slow.code).toBe(1)
    const auth = decodeDoctor(slow.stdout).profiles[0]!.auth
    expect(auth).toMatchObject({ checked: true, reachable: false, errorKind: "timeout" })
    expect(auth.elapsedMs!).toBeGreaterThanOrEqual(2_900)
    expect(took).toBeLessThan(5_900)
  })

  it.skipIf(!hasOpenssl())(
    "an untrusted certificate is a tls problem; insecureSkipVerify probes without verification",
    async () => {
      const tls = await startServer({ tls: selfSignedCert() })
      try {
        await importProfile("alice")
        editConfig((c) =>
          c.profiles.push(
            { olaresId: "tls@olares.com", authUrlOverride: tls.url },
            { olaresId: "dev@olares.com", authUrlOverride: tls.url, insecureSkipVerify: true }
          )
        )
        const doc = decodeDoctor((await cli(["profile", "doctor", "-o", "json"])).stdout)
        const tlsProfile = doc.profiles.find((p) => p.olaresId === "tls@olares.com")!
        expect(tlsProfile.auth).toMatchObject({ reachable: false, errorKind: "tls" })
        const p = doc.problems.find((x) => x.code === "auth_unreachable" && x.subject === "tls@olares.com")!
        expect(p.fix).toBe("export NODE_EXTRA_CA_CERTS=/path/to/the-ca.pem")
        expect(p.message).toContain("--insecure-skip-verify")
        expect(doc.profiles.find((x) => x.olaresId === "dev@olares.com")!.auth).toMatchObject({
          reachable: true,
          insecureSkipVerify: true
        })
      } finally {
        await tls.close()
      }
    }
  )

  it("an empty home is healthy with one warning; a corrupt config.json is a problem with its fix", async () => {
    const empty = await cli(["profile", "doctor", "-o", "json"])
    expect(empty.code).toBe(0)
    const doc = decodeDoctor(empty.stdout)
    expect(doc.paths.home).toMatchObject({ exists: false, kind: null, mode: null, writable: null })
    expect(doc.problems).toEqual([{
      code: "no_profiles",
      severity: "warning",
      subject: "config",
      message: "no profile is configured yet",
      fix: "olares-cli profile login --olares-id <id>"
    }])

    mkdirSync(home.home, { recursive: true, mode: 0o700 })
    writeFileSync(configPath(), "{ not json", { mode: 0o600 })
    const broken = await cli(["profile", "doctor", "-o", "json"])
    expect(broken.code).toBe(1)
    const b = decodeDoctor(broken.stdout)
    expect(b.problems[0]).toMatchObject({ code: "config_unreadable", severity: "error", subject: configPath() })
    expect(b.problems[0]!.fix).toContain(`mv ${configPath()} ${configPath()}.bad`)
  })

  it("--help has examples", async () => {
    const r = await cli(["profile", "doctor", "--help"])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("EXAMPLES")
    expect(r.stdout).toContain("olares-cli profile doctor -o json")
  })
})

describe("diagnose (pure)", () => {
  const dir = (path: string, over: Partial<PathCheckJson> = {}): PathCheckJson => ({
    path,
    exists: true,
    kind: "directory",
    mode: "0700",
    expectedMode: "0700",
    writable: true,
    ownedByUser: true,
    ...over
  })
  const facts = (over: Partial<DoctorFacts> = {}): DoctorFacts => ({
    store: { backend: "file", location: "/d/olares-cli", reason: "test" },
    paths: {
      home: dir("/h"),
      configFile: { ...dir("/h/config.json"), kind: "file", mode: "0600", expectedMode: "0600" },
      locksDir: dir("/h/locks"),
      dataDir: dir("/d/olares-cli"),
      masterKey: null
    },
    profiles: [],
    locks: [],
    configError: undefined,
    configProfiles: [],
    userHome: "/home/u",
    ...over
  })
  const withHome = (home: PathCheckJson) => facts({ paths: { ...facts().paths, home } })

  it("a shared or someone else's config home is not chmod-ed: the fix points OLARES_CLI_HOME elsewhere", () => {
    for (
      const home of [
        dir("/tmp", { mode: "1777" }),
        dir("/home/u", { mode: "0755" }),
        dir("/srv/x", { mode: "0755", ownedByUser: false })
      ]
    ) {
      const p = diagnose(withHome(home)).find((x) => x.code === "path_insecure")!
      expect(p.fix, home.path).toBe("mkdir -m 700 -p ~/.olares-cli && export OLARES_CLI_HOME=~/.olares-cli")
    }
    expect(diagnose(withHome(dir("/h", { mode: "0750" }))).find((x) => x.code === "path_insecure")!.fix).toBe(
      "chmod 700 /h"
    )
  })

  it("not writable: chmod when it is ours, chown when it is not; paths are shell-quoted", () => {
    const mine = diagnose(withHome(dir("/my dir", { writable: false }))).find((x) => x.code === "path_not_writable")!
    expect(mine.fix).toBe("chmod u+rwx '/my dir'")
    const theirs = diagnose(withHome(dir("/h", { writable: false, ownedByUser: false }))).find((x) =>
      x.code === "path_not_writable"
    )!
    expect(theirs.fix).toBe("sudo chown -R \"$(id -un)\" /h")
    const file = diagnose(withHome(dir("/h", { kind: "file" })))
    expect(file[0]).toMatchObject({ code: "path_wrong_kind", fix: "mv /h /h.bak" })
    expect(shellQuote("/Users/a/Library/Application Support/olares-cli")).toBe(
      "'/Users/a/Library/Application Support/olares-cli'"
    )
    expect(shellQuote("it's")).toBe("'it'\\''s'")
  })

  it("a memory store is a warning; missing paths are not problems", () => {
    const missing = { ...dir("/h"), exists: false, kind: null, mode: null, writable: null, ownedByUser: null }
    const ps = diagnose(
      facts({
        store: { backend: "memory", location: "(process memory)", reason: "forced" },
        paths: { ...facts().paths, home: missing }
      })
    )
    expect(ps.map((p) => [p.code, p.severity])).toEqual([["store_memory", "warning"], ["no_profiles", "warning"]])
    expect(ps[0]!.fix).toBe("unset OLARES_CLI_KEYSTORE")
  })
})
