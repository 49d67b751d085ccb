/**
 * Hardening, the disk side (issue #4): concurrent writers never lose an update or leave a broken
 * config.json; every kind of bad local state is a typed error that names the file and the fix, exits
 * non-zero and touches nothing (byte-compared); permissions are repaired with a warning; Ctrl-C in a
 * refresh exits 130 and leaves neither a lock nor a damaged record behind.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import { createCipheriv, randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { corruptKeyFile } from "../../layers/internal/MasterKey.js"
import { makeLinuxFileKeyStore, writeFailure } from "../../layers/KeyStoreFile.js"
import { ioError } from "../../layers/ProfileRepoFile.js"
import { BIN } from "../support/cli.js"
import { useE2e } from "../support/e2e.js"
import { flockBusy } from "../support/golock.js"
import { expectNoStack, snapshot as snapshotOf } from "../support/hardening-util.js"
import { recordOutput } from "../support/leaks.js"

const ALICE_ID = "alice@olares.com"
const BOB_ID = "bob@olares.com"

const e2e = useE2e()

const cli = e2e.cli

const storeDir = () => join(e2e.home.data, "olares-cli")
const store = () => makeLinuxFileKeyStore(storeDir())
const readRecord = (id: string) => Effect.runPromise(store().get(id))
const configPath = () => join(e2e.home.home, "config.json")
const encPath = (id: string) => join(storeDir(), `${id.replace(/[^a-zA-Z0-9._-]/g, "_")}.enc`)
const mode = (p: string) => statSync(p).mode & 0o777

/** Imports a profile from a fresh server grant; the token only ever travels in the environment. */
const importProfile = async (username: string, extra: ReadonlyArray<string> = []) => {
  const g = await e2e.server.issueGrant(username)
  return cli([
    "profile",
    "import",
    "--olares-id",
    `${username}@olares.com`,
    "--auth-url-override",
    e2e.server.url,
    ...extra
  ], {
    env: { OLARES_REFRESH_TOKEN: g.refreshToken }
  })
}

const snapshot = () => snapshotOf(e2e.home.root)

const isRoot = typeof process.getuid === "function" && process.getuid() === 0

// ---------------------------------------------------------------------------------------------
// 1. No lost updates (real processes)
// ---------------------------------------------------------------------------------------------

describe("concurrent writers", () => {
  it("20 concurrent imports of 20 identities: all 20 profiles and 20 decryptable records", async () => {
    const users = Array.from({ length: 20 }, (_, i) => `conc${String(i).padStart(2, "0")}`)
    for (const u of users) e2e.server.addUser({ username: u, password: `${u}-password-xyz` })
    const grants = await Promise.all(users.map((u) => e2e.server.issueGrant(u)))
    const results = await Promise.all(
      users.map((u, i) =>
        cli([
          "profile",
          "import",
          "--olares-id",
          `${u}@olares.com`,
          "--auth-url-override",
          e2e.server.url,
          "--no-switch"
        ], {
          env: { OLARES_REFRESH_TOKEN: grants[i]!.refreshToken },
          timeoutMs: 60_000
        })
      )
    )
    for (const [i, r] of results.entries()) {
      expect(r.code, `${users[i]}: ${r.stderr}`).toBe(0)
      expectNoStack(r)
    }
    const cfg = JSON.parse(readFileSync(configPath(), "utf8"))
    expect(cfg.profiles.map((p: { olaresId: string }) => p.olaresId).sort()).toEqual(
      users.map((u) => `${u}@olares.com`)
    )
    // every post-login cache fill landed too (three read-modify-writes per process, none lost)
    for (const p of cfg.profiles) expect(p).toMatchObject({ ownerRole: "owner", backendVersion: "1.12.6" })
    expect(users.map((u) => `${u}@olares.com`)).toContain(cfg.currentProfile)
    expect(mode(configPath())).toBe(0o600)
    for (const u of users) {
      const rec = await readRecord(`${u}@olares.com`)
      expect(Option.isSome(rec), u).toBe(true)
      if (Option.isSome(rec)) expect(e2e.server.isRefreshTokenLive(Redacted.value(rec.value.refreshToken!))).toBe(true)
    }
    // no temp files left behind by the atomic writers
    expect(readdirSync(e2e.home.home).filter((n) => n.includes("tmp"))).toEqual([])
    expect(readdirSync(storeDir()).filter((n) => n.includes("tmp"))).toEqual([])
  })

  it("20 concurrent use / import --no-switch / remove --yes never break config.json or its pointers", async () => {
    const pool = ["mixa", "mixb", "mixc", "mixd", "mixe", "mixf"]
    for (const u of pool) e2e.server.addUser({ username: u, password: `${u}-password-xyz` })
    for (const u of pool.slice(0, 4)) expect((await importProfile(u, ["--no-switch"])).code).toBe(0)
    await cli(["profile", "use", "mixb@olares.com"])

    // Watch the file while the storm runs: every version ever visible must be valid.
    const seen: Array<string> = []
    let watching = true
    const watcher = (async () => {
      while (watching) {
        try {
          seen.push(readFileSync(configPath(), "utf8"))
        } catch (e) {
          seen.push(`<unreadable: ${(e as Error).message}>`)
        }
        await new Promise((r) => setTimeout(r, 5))
      }
    })()

    const rand = (n: number) => randomBytes(1)[0]! % n
    const jobs = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const u = pool[rand(pool.length)]!
      const id = `${u}@olares.com`
      const kind = i % 3
      if (kind === 0) return { kind: "use", r: await cli(["profile", "use", id], { timeoutMs: 60_000 }) }
      if (kind === 1) return { kind: "remove", r: await cli(["profile", "remove", id, "--yes"], { timeoutMs: 60_000 }) }
      const g = await e2e.server.issueGrant(u)
      return {
        kind: "import",
        r: await cli(["profile", "import", "--olares-id", id, "--auth-url-override", e2e.server.url, "--no-switch"], {
          env: { OLARES_REFRESH_TOKEN: g.refreshToken },
          timeoutMs: 60_000
        })
      }
    }))
    watching = false
    await watcher

    for (const { kind, r } of jobs) {
      // 0 ok, 5 an import over a still-valid token, 6 a use/remove of a profile that is gone
      expect([0, 5, 6], `${kind}: ${r.stderr}`).toContain(r.code)
      expectNoStack(r)
    }
    const check = (text: string) => {
      if (text === "" || text.startsWith("<unreadable: ENOENT")) return // absent = empty config
      const cfg = JSON.parse(text) as {
        currentProfile?: string
        previousProfile?: string
        profiles?: Array<{ olaresId: string; name?: string }>
      }
      const names = new Set((cfg.profiles ?? []).flatMap((p) => [p.olaresId, p.name ?? p.olaresId]))
      if (cfg.currentProfile !== undefined) expect(names.has(cfg.currentProfile), text).toBe(true)
      if (cfg.previousProfile !== undefined) expect(names.has(cfg.previousProfile), text).toBe(true)
    }
    expect(seen.length).toBeGreaterThan(0)
    for (const text of seen) check(text)
    const final = existsSync(configPath()) ? readFileSync(configPath(), "utf8") : ""
    check(final)
    // Every profile left in config has a token that decrypts: no remove deleted a token a concurrent
    // import had just stored, and no purge wiped the store under a profile that survived.
    const cfg = final === "" ? { profiles: [] } : JSON.parse(final)
    for (const p of cfg.profiles ?? []) {
      const rec = await readRecord(p.olaresId)
      expect(Option.isSome(rec), `${p.olaresId} has no token record`).toBe(true)
    }
  })
})

// ---------------------------------------------------------------------------------------------
// 2. Bad input on disk
// ---------------------------------------------------------------------------------------------

describe("bad config.json", () => {
  const cases: ReadonlyArray<readonly [string, string, RegExp]> = [
    ["not JSON", "{\"profiles\": [ {\"olaresId\": \"alice@olares.com\" ", /not valid JSON/],
    ["profiles is a string", "{\"profiles\": \"x\"}", /profiles: expected an array/],
    [
      "olaresId is a number",
      "{\"profiles\": [{\"olaresId\": 5}]}",
      /profiles\[0\]\.olaresId: expected string, actual 5/
    ],
    ["currentProfile is a number", "{\"currentProfile\": 3, \"profiles\": []}", /currentProfile: expected string/]
  ]
  for (const [label, text, why] of cases) {
    it(`${label}: every command fails naming the file and the fix, exit 1, nothing touched, no network`, async () => {
      expect((await importProfile("alice")).code).toBe(0)
      writeFileSync(configPath(), text, { mode: 0o600 })
      const bob = await e2e.server.issueGrant("bob")
      e2e.server.reset()
      const before = snapshot()
      const runs = [
        await cli(["profile", "list"]),
        await cli(["profile", "list", "-o", "json"]),
        await cli(["profile", "use", ALICE_ID]),
        await cli(["profile", "remove", ALICE_ID, "--yes"]),
        await cli(["profile", "whoami"]),
        await cli(["api", "/api/echo/x"]),
        await cli(["profile", "import", "--olares-id", BOB_ID, "--auth-url-override", e2e.server.url], {
          env: { OLARES_REFRESH_TOKEN: bob.refreshToken }
        })
      ]
      for (const r of runs) {
        expect(r.code, r.stderr).toBe(1)
        expect(r.stderr).toContain(configPath())
        expect(r.stderr).toMatch(why)
        expect(r.stderr).toContain(`mv ${configPath()} ${configPath()}.bad`)
        expect(r.stderr).not.toContain("profile login")
        expectNoStack(r)
      }
      expect(JSON.parse(runs[1]!.stderr).error).toMatchObject({ code: "storage", exitCode: 1 })
      expect(snapshot()).toEqual(before)
      expect(e2e.server.stats().hits).toEqual({})
      expect(e2e.server.isRefreshTokenLive(bob.refreshToken)).toBe(true) // the import never spent it
    })
  }
})

describe("bad token records", () => {
  const corruptions: ReadonlyArray<readonly [string, (p: string) => void, RegExp]> = [
    ["a flipped byte", (p) => {
      const b = readFileSync(p)
      b[20] = b[20]! ^ 0x01
      writeFileSync(p, b)
    }, /cannot be decrypted/],
    ["truncated", (p) => writeFileSync(p, readFileSync(p).subarray(0, 20)), /truncated \(20 bytes/],
    ["encrypted under another key", (p) => {
      // a record the Go CLI of another machine wrote: valid GCM under a key we do not have
      const key = randomBytes(32)
      const iv = randomBytes(12)
      const c = createCipheriv("aes-256-gcm", key, iv)
      const body = Buffer.concat([c.update(JSON.stringify({ olaresId: ALICE_ID, accessToken: "x" })), c.final()])
      writeFileSync(p, Buffer.concat([iv, body, c.getAuthTag()]))
    }, /encrypted under another master key/]
  ]
  for (const [label, corrupt, why] of corruptions) {
    it(`${label}: list shows unknown (exit 0); whoami and api fail naming the file and the fix; nothing touched`, async () => {
      expect((await importProfile("alice")).code).toBe(0)
      expect((await importProfile("bob", ["--no-switch"])).code).toBe(0)
      corrupt(encPath(ALICE_ID))
      e2e.server.reset()
      const before = snapshot()

      const list = await cli(["profile", "list", "-o", "json"])
      expect(list.code).toBe(0)
      const rows = JSON.parse(list.stdout).profiles
      expect(rows.find((r: { olaresId: string }) => r.olaresId === ALICE_ID).status).toBe("unknown")
      expect(rows.find((r: { olaresId: string }) => r.olaresId === BOB_ID).status).toBe("logged-in")

      for (const args of [["profile", "whoami"], ["profile", "whoami", "--refresh"], ["api", "/api/echo/x"]]) {
        const r = await cli(args)
        expect(r.code, r.stderr).toBe(1)
        expect(r.stderr).toContain(encPath(ALICE_ID))
        expect(r.stderr).toMatch(why)
        expect(r.stderr).toContain(
          `olares-cli profile remove ${ALICE_ID} && olares-cli profile login --olares-id ${ALICE_ID}`
        )
        expectNoStack(r)
      }
      // re-importing over an unreadable record is refused the same way, before the network
      const g = await e2e.server.issueGrant("alice")
      const again = await cli(["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url], {
        env: { OLARES_REFRESH_TOKEN: g.refreshToken }
      })
      expect(again.code).toBe(1)
      expect(again.stderr).toContain(encPath(ALICE_ID))
      expect(snapshot()).toEqual(before)
      expect(e2e.server.stats().hits).toEqual({})

      // the printed fix works
      expect((await cli(["profile", "remove", ALICE_ID, "--yes"])).code).toBe(0)
      expect(
        (await cli(["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url], {
          env: { OLARES_REFRESH_TOKEN: g.refreshToken }
        })).code
      ).toBe(0)
      expect(Option.isSome(await readRecord(BOB_ID))).toBe(true)
    })
  }

  it("master.key of the wrong length: keychain is corrupted, named with its fix; list shows unknown", async () => {
    expect((await importProfile("alice")).code).toBe(0)
    const keyPath = join(storeDir(), "master.key")
    writeFileSync(keyPath, readFileSync(keyPath).subarray(0, 16))
    e2e.server.reset()
    const before = snapshot()
    const list = await cli(["profile", "list"])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/alice@olares\.com +unknown/)
    for (const args of [["profile", "whoami"], ["api", "/api/echo/x"]]) {
      const r = await cli(args)
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`${keyPath}: keychain is corrupted (master.key is 16 bytes, want 32)`)
      expect(r.stderr).toContain(`mv "${keyPath}" "${keyPath}.corrupt"`)
      expectNoStack(r)
    }
    expect(snapshot()).toEqual(before)
    expect(e2e.server.stats().hits).toEqual({})
  })

  it("a stored token that is not a JWT: whoami and api fail with the recovery command, no network", async () => {
    expect((await importProfile("alice")).code).toBe(0)
    const rec = Option.getOrThrow(await readRecord(ALICE_ID))
    await Effect.runPromise(store().set({ ...rec, accessToken: Redacted.make("definitely-not-a-jwt") }))
    e2e.server.reset()
    const before = snapshot()
    for (const args of [["profile", "whoami"], ["profile", "whoami", "--refresh"], ["api", "/api/echo/x"]]) {
      const r = await cli(args)
      expect(r.code, r.stderr).toBe(1)
      expect(r.stderr).toContain("decode access token")
      expect(r.stderr).toContain(`olares-cli profile login --olares-id ${ALICE_ID}`)
      expect(r.stderr).not.toContain("definitely-not-a-jwt")
      expectNoStack(r)
    }
    expect(snapshot()).toEqual(before)
    expect(e2e.server.stats().hits).toEqual({})
    const list = await cli(["profile", "list"])
    expect(list.stdout).toContain("logged-in (unparseable token)")
  })
})

describe("permissions and unusable directories", () => {
  it("too-open modes are fixed to 0600/0700 with a warning on stderr, never on stdout", async () => {
    expect((await importProfile("alice")).code).toBe(0)
    const files = [configPath(), encPath(ALICE_ID), join(storeDir(), "master.key")]
    const dirs = [e2e.home.home, storeDir()]
    const loosen = () => {
      for (const f of files) chmodSync(f, 0o644)
      for (const d of dirs) chmodSync(d, 0o755)
    }
    // the fast path (list) and the full CLI (whoami -o json) both repair, and keep stdout parseable
    for (const args of [["profile", "list", "-o", "json"], ["profile", "whoami", "-o", "json"]]) {
      loosen()
      const r = await cli(args)
      expect(r.code, r.stderr).toBe(0)
      expect(() => JSON.parse(r.stdout)).not.toThrow()
      expect(r.stdout).not.toMatch(/warn/i)
      for (const p of [...files, ...dirs]) expect(r.stderr, args.join(" ")).toContain(p)
      expect(r.stderr).toMatch(/^warning: /m)
      for (const f of files) expect(mode(f)).toBe(0o600)
      for (const d of dirs) expect(mode(d)).toBe(0o700)
    }
    // once fixed, nothing more to say
    const quiet = await cli(["profile", "list"])
    expect(quiet.stderr).toBe("")
  })

  it("a config home that cannot be created or written: StorageError with a hint, exit 1, no grant spent", async () => {
    // Root ignores permission bits, so as root the home sits below a regular file (ENOTDIR), which
    // fails for everybody; as a normal user the classic chmod 0500 is used.
    let blocker: string
    if (isRoot) {
      blocker = join(e2e.home.root, "not-a-dir")
      writeFileSync(blocker, "")
    } else {
      blocker = join(e2e.home.root, "ro")
      mkdirSync(blocker, { mode: 0o500 })
    }
    const env = { OLARES_CLI_HOME: join(blocker, "config") }
    const g = await e2e.server.issueGrant("alice")
    const before = snapshot()
    const r = await cli(["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url], {
      env: { ...env, OLARES_REFRESH_TOKEN: g.refreshToken }
    })
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toContain(join(blocker, "config"))
    expect(r.stderr).toMatch(/hint: .*(OLARES_CLI_HOME|writable)/)
    expect(r.stderr).toContain(blocker)
    expectNoStack(r)
    expect(e2e.server.hits("/api/refresh")).toBe(0)
    expect(e2e.server.isRefreshTokenLive(g.refreshToken)).toBe(true)
    const use = await cli(["profile", "use", ALICE_ID], { env })
    expect(use.code).toBe(1)
    expect(use.stderr).toMatch(/hint: /)
    expectNoStack(use)
    expect(snapshot()).toEqual(before)
    if (!isRoot) chmodSync(blocker, 0o700)
  })

  it("a token store that cannot be written: StorageError before the network, the grant is not spent", async () => {
    // master.key is a directory: reads of other records work, but no record can ever be written.
    mkdirSync(join(storeDir(), "master.key"), { recursive: true, mode: 0o700 })
    chmodSync(storeDir(), 0o700)
    const g = await e2e.server.issueGrant("alice")
    const before = snapshot()
    const r = await cli(["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url], {
      env: { OLARES_REFRESH_TOKEN: g.refreshToken }
    })
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toContain(join(storeDir(), "master.key"))
    expect(r.stderr).toMatch(/hint: /)
    expectNoStack(r)
    expect(e2e.server.hits("/api/refresh")).toBe(0)
    expect(e2e.server.isRefreshTokenLive(g.refreshToken)).toBe(true)
    const login = await cli([
      "profile",
      "login",
      "--olares-id",
      ALICE_ID,
      "--auth-url-override",
      e2e.server.url,
      "--password-stdin"
    ], {
      input: "alice-password-123\n"
    })
    expect(login.code).toBe(1)
    expect(e2e.server.hits("/api/firstfactor")).toBe(0)
    expect(snapshot()).toEqual(before)
  })

  it("a data dir below a regular file: the hint names OLARES_CLI_DATA_DIR", async () => {
    const blocker = join(e2e.home.root, "data-file")
    writeFileSync(blocker, "")
    const g = await e2e.server.issueGrant("alice")
    const r = await cli(["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url], {
      env: { OLARES_CLI_DATA_DIR: join(blocker, "data"), OLARES_REFRESH_TOKEN: g.refreshToken }
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(blocker)
    expect(r.stderr).toContain("OLARES_CLI_DATA_DIR")
    expect(e2e.server.hits("/api/refresh")).toBe(0)
    expectNoStack(r)
  })

  // A read-only file system cannot be made here without root-only tricks (mount, loop devices), so
  // the EROFS branch of each layer's error mapper is checked directly.
  it("EROFS maps to a StorageError with a writable-location hint (unit level)", () => {
    const erofs = Object.assign(new Error("EROFS: read-only file system, open '/ro/x'"), { code: "EROFS" })
    const cfg = ioError("/ro/home/config.json", "cannot write", erofs)
    expect(cfg._tag).toBe("StorageError")
    expect(cfg.exitCode).toBe(1)
    expect(cfg.message).toContain("/ro/home/config.json")
    expect(cfg.recovery).toContain("OLARES_CLI_HOME")
    const ks = writeFailure("/ro/data/olares-cli/alice_olares.com.enc", "/ro/data/olares-cli", erofs)
    expect(ks._tag).toBe("StorageError")
    expect(ks.message).toContain("read-only file system (EROFS)")
    expect(ks.recovery).toContain("OLARES_CLI_DATA_DIR")
    expect(corruptKeyFile("/d/master.key", 3).message).toContain("keychain is corrupted")
  })
})

// ---------------------------------------------------------------------------------------------
// 6. Ctrl-C during a refresh
// ---------------------------------------------------------------------------------------------

describe("Ctrl-C", () => {
  it("SIGINT while blocked in /api/refresh: exit 130 promptly, lock gone, record intact, next command works", async () => {
    // Rotation off: the server finishes the slow exchange after we left; with rotation on it would
    // spend the grant server-side, which no client can undo.
    e2e.server.setRotateRefreshTokens(false)
    expect((await importProfile("alice")).code).toBe(0)
    const rec = Option.getOrThrow(await readRecord(ALICE_ID))
    const stale = await e2e.server.mintJwt({ username: "alice", ttl: -60 })
    await Effect.runPromise(store().set({ ...rec, accessToken: Redacted.make(stale) }))
    const encBefore = readFileSync(encPath(ALICE_ID))
    e2e.server.reset()
    e2e.server.setFault("/api/refresh", { delayMs: 5000, times: 1 })

    const env: Record<string, string> = { PATH: process.env.PATH ?? "", ...e2e.home.env }
    const child = spawn(process.execPath, [BIN, "api", "/api/echo/x"], { env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("close", (code, signal) => resolve({ code, signal }))
    )
    const lockFile = join(e2e.home.home, "locks", `${ALICE_ID}.refresh.lock`)
    const deadline = Date.now() + 15_000
    while (e2e.server.hits("/api/refresh") === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(e2e.server.hits("/api/refresh")).toBe(1)
    expect(flockBusy(lockFile)).toBe(true) // it really is blocked inside the lock
    const sentAt = Date.now()
    child.kill("SIGINT")
    const { code, signal } = await exited
    const took = Date.now() - sentAt
    recordOutput("olares-cli api /api/echo/x (SIGINT)", stdout)
    recordOutput("olares-cli api /api/echo/x (SIGINT)", stderr)
    expect({ code, signal }).toEqual({ code: 130, signal: null })
    expect(took).toBeLessThan(2000)
    expectNoStack({ stdout, stderr })
    expect(flockBusy(lockFile)).toBe(false)
    expect(readFileSync(encPath(ALICE_ID)).equals(encBefore)).toBe(true)
    const after = Option.getOrThrow(await readRecord(ALICE_ID))
    expect(Redacted.value(after.accessToken)).toBe(stale)
    expect(after.invalidatedAt ?? 0).toBe(0)

    const next = await cli(["api", "/api/echo/x"])
    expect(next.code, next.stderr).toBe(0)
    expect(JSON.parse(next.stdout)).toMatchObject({ user: "alice", path: "/api/echo/x" })
  })
})
