/**
 * Issue 10, the disk side, with real mounts, users, FIFOs and links: no exchange without a place to
 * keep its result (tmpfs ENOSPC, ENAMETOOLONG), recoverable stray records, ssh-like trust (another
 * uid, group/other-writable, no home at all), no following or chmod through symlinks (a dotfiles
 * config.json is written through), non-regular files refused without blocking (/proc as data dir),
 * and relative path variables refused.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { execFileSync, spawn } from "node:child_process"
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { makeLinuxFileKeyStore } from "../../layers/KeyStoreFile.js"
import { BIN, type CliResult } from "../support/cli.js"
import { useE2e } from "../support/e2e.js"
import { expectNoStack, snapshot } from "../support/hardening-util.js"
import { recordOutput, recordSecret } from "../support/leaks.js"
import { ALICE } from "../support/server.js"
import { letOthersReach, REPO_PARTS } from "../support/tmp.js"

const e2e = useE2e()
const cli = e2e.cli

const ALICE_ID = "alice@olares.com"
const isRoot = typeof process.getuid === "function" && process.getuid() === 0
/** A uid no account on the machine has (chosen, then checked, below). */
const STRANGER = 54321
const strangerExists = (() => {
  try {
    execFileSync("getent", ["passwd", String(STRANGER)], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

const storeDir = (data = e2e.home.data) => join(data, "olares-cli")
const configPath = () => join(e2e.home.home, "config.json")
const encName = (id: string) => `${id.replace(/[^a-zA-Z0-9._-]/g, "_")}.enc`
const readRecord = (id: string, data = e2e.home.data) =>
  Effect.runPromise(makeLinuxFileKeyStore(storeDir(data)).get(id))
const mode = (p: string) => statSync(p).mode & 0o7777

/** Imports `username` from a fresh server grant, the token only in the environment. */
const importUser = async (username: string, extraEnv: Record<string, string> = {}, id = `${username}@olares.com`) => {
  const g = await e2e.server.issueGrant(username)
  const r = await cli(["profile", "import", "--olares-id", id, "--auth-url-override", e2e.server.url], {
    env: { OLARES_REFRESH_TOKEN: g.refreshToken, ...extraEnv },
    timeoutMs: 20_000
  })
  return { r, grant: g }
}

const loginAlice = (extraEnv: Record<string, string> = {}) =>
  cli(["profile", "login", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url, "--password-stdin"], {
    input: `${ALICE.password}\n`,
    env: extraEnv
  })

/** Says it plainly in the output when a test cannot run here, instead of passing silently. */
const skipped = (why: string) => {
  process.stdout.write(`secdisk.test: skipped: ${why}\n`)
}

// ---------------------------------------------------------------------------------------------
// tmpfs mounts (ENOSPC)
// ---------------------------------------------------------------------------------------------

const mounts: Array<string> = []
afterAll(() => {
  for (const m of mounts) {
    try {
      execFileSync("umount", ["-l", m], { stdio: "ignore" })
    } catch {
      // already gone
    }
    rmSync(m, { recursive: true, force: true })
  }
})

/** A fresh private tmpfs of `kib` KiB, or `undefined` (with the reason printed) when mounting is impossible. */
const tmpfs = (kib: number): string | undefined => {
  const dir = join(tmpdir(), `olares-tmpfs-${process.pid}-${mounts.length}`)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k,mode=0700`, "tmpfs", dir], { stdio: "pipe" })
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    skipped(`cannot mount a tmpfs (${(e as Error).message.split("\n")[0]}); ENOSPC cases need root`)
    return undefined
  }
  mounts.push(dir)
  return dir
}

/** Fills the file system holding `dir` until ENOSPC. */
const fill = (dir: string) => {
  const fd = openSync(join(dir, `filler-${readdirSync(dir).length}`), "w")
  const chunk = Buffer.alloc(4096, 1)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e
  } finally {
    closeSync(fd)
  }
}

const waitFor = async (cond: () => boolean, ms = 10_000) => {
  const until = Date.now() + ms
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out waiting")
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Starts an import into `data` and resolves once its `/api/refresh` is held open (1.5 s) by the server. */
const importInFlight = async (data: string) => {
  e2e.server.setFault("/api/refresh", { delayMs: 1500 })
  const g = await e2e.server.issueGrant("alice")
  const run = cli(["profile", "import", "--olares-id", ALICE_ID, "--auth-url-override", e2e.server.url], {
    env: { OLARES_REFRESH_TOKEN: g.refreshToken, OLARES_CLI_DATA_DIR: data },
    timeoutMs: 20_000
  })
  await waitFor(() => e2e.server.hits("/api/refresh") > 0)
  return { run } // wrapped: an async function returning the bare promise would wait for the CLI
}

const noRetry = (r: CliResult) => expect(r.stderr).not.toMatch(/retry/i)

// ---------------------------------------------------------------------------------------------
// Item 2: no exchange without a place to keep its result
// ---------------------------------------------------------------------------------------------

describe("reserve before exchange", () => {
  it("import on a full data dir (tmpfs ENOSPC) fails before /api/refresh: the refresh token stays live", async () => {
    const data = tmpfs(512)
    if (data === undefined) return
    fill(data)
    const { grant, r } = await importUser("alice", { OLARES_CLI_DATA_DIR: data })
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(/no space left on device \(ENOSPC\)/)
    expectNoStack(r)
    expect(e2e.server.hits("/api/refresh")).toBe(0)
    expect(e2e.server.isRefreshTokenLive(grant.refreshToken)).toBe(true)
  })

  it("a ~330-character olaresId is refused before the exchange (ENAMETOOLONG named), token live", async () => {
    const local = Array.from({ length: 5 }, () => "a".repeat(62)).join(".")
    const id = `${local}@olares.com`
    expect(id.length).toBeGreaterThan(320)
    const { grant, r } = await importUser("alice", {}, id)
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(/record file name is \d+ bytes, longer than this file system allows \(ENAMETOOLONG\)/)
    expect(r.stderr).toContain("use a shorter olaresId")
    expectNoStack(r)
    expect(e2e.server.hits("/api/refresh")).toBe(0)
    expect(e2e.server.isRefreshTokenLive(grant.refreshToken)).toBe(true)
  })

  it("the disk filling up *during* the exchange cannot lose the grant: the reserved room takes the record", async () => {
    const data = tmpfs(512)
    if (data === undefined) return
    const { run } = await importInFlight(data)
    fill(data) // the exchange is in flight: not one free block is left for the record or the master key
    const r = await run
    expect(r.code, r.stderr).toBe(0)
    const rec = await readRecord(ALICE_ID, data)
    expect(Option.isSome(rec)).toBe(true)
    if (Option.isSome(rec)) expect(e2e.server.isRefreshTokenLive(Redacted.value(rec.value.refreshToken!))).toBe(true)
    expect(readdirSync(storeDir(data)).filter((n) => n.startsWith(".tmp-"))).toEqual([])
  })

  it("if the write still fails after the exchange, the message says the grant is spent and names the login, never retry", async () => {
    const data = tmpfs(512)
    if (data === undefined) return
    const { run } = await importInFlight(data)
    // Worse than a full disk: the store (reservation and master key) is deleted, then the disk filled.
    rmSync(storeDir(data), { recursive: true, force: true })
    fill(data)
    const r = await run
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(/the server issued new tokens for alice@olares\.com, but they could not be stored/)
    expect(r.stderr).toMatch(/the credential that was exchanged is spent/)
    expect(r.stderr).toContain(`olares-cli profile login --olares-id ${ALICE_ID}`)
    noRetry(r)
    expectNoStack(r)
  })

  it("a transparent refresh on a full data dir does not spend the refresh token; it works once space is back", async () => {
    const data = tmpfs(512)
    if (data === undefined) return
    const env = { OLARES_CLI_DATA_DIR: data }
    e2e.server.setAccessTtl(-60) // born expired: the first request gets 401 and needs a refresh
    const { r: imported } = await importUser("alice", env)
    expect(imported.code, imported.stderr).toBe(0)
    const before = await readRecord(ALICE_ID, data)
    const rt = Option.isSome(before) ? Redacted.value(before.value.refreshToken!) : ""
    expect(e2e.server.isRefreshTokenLive(rt)).toBe(true)
    e2e.server.setAccessTtl(3600)
    e2e.server.reset()
    fill(data)
    const r = await cli(["api", "/api/echo/x"], { env })
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(/no space left on device/)
    expectNoStack(r)
    expect(e2e.server.hits("/api/refresh")).toBe(0)
    expect(e2e.server.isRefreshTokenLive(rt)).toBe(true)
    const after = await readRecord(ALICE_ID, data)
    expect(Option.isSome(after) && after.value.invalidatedAt).toBeFalsy()
    for (const f of readdirSync(data).filter((n) => n.startsWith("filler-"))) unlinkSync(join(data, f))
    const again = await cli(["api", "/api/echo/x"], { env })
    expect(again.code, again.stderr).toBe(0)
    expect(e2e.server.hits("/api/refresh")).toBe(1)
  })
})

// ---------------------------------------------------------------------------------------------
// Item 6: recoverable states
// ---------------------------------------------------------------------------------------------

describe("stray token records (no profile in config.json)", () => {
  it("ENOSPC between the two writes of login leaves a stray record; the message says so; login afterwards replaces it", async () => {
    const home = tmpfs(256)
    if (home === undefined) return
    const env = { OLARES_CLI_HOME: home }
    // config.json can only be written once a page is free: fill everything, then the login's second write fails
    fill(home)
    const r = await loginAlice(env)
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(/the new token for alice@olares\.com is stored, but config\.json could not be updated/)
    noRetry(r)
    expect(Option.isSome(await readRecord(ALICE_ID))).toBe(true)
    for (const f of readdirSync(home).filter((n) => n.startsWith("filler-"))) unlinkSync(join(home, f))
    const again = await loginAlice(env)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toContain(`replacing the stray token record for ${ALICE_ID}`)
    expect(
      JSON.parse(readFileSync(join(home, "config.json"), "utf8")).profiles.map((p: { olaresId: string }) => p.olaresId)
    ).toEqual([ALICE_ID])
  })

  it("after config.json is lost: login/import work, remove removes the stray, doctor reports it with its fix", async () => {
    expect((await loginAlice()).code).toBe(0)
    rmSync(configPath())
    const doctor = await cli(["profile", "doctor", "--offline", "-o", "json"])
    const problem = JSON.parse(doctor.stdout).problems.find((p: { code: string }) => p.code === "token_orphan")
    expect(problem).toMatchObject({
      severity: "warning",
      subject: join(storeDir(), encName(ALICE_ID)),
      fix: `olares-cli profile login --olares-id ${ALICE_ID}`
    })
    expect(problem.message).toContain(`olares-cli profile remove ${ALICE_ID}`)

    const removed = await cli(["profile", "remove", ALICE_ID, "--yes"])
    expect(removed.code, removed.stderr).toBe(0)
    expect(removed.stdout).toContain(`removed stray token record for ${ALICE_ID} (it had no profile in config.json)`)
    expect(existsSync(join(storeDir(), encName(ALICE_ID)))).toBe(false)
    const again = await cli(["profile", "remove", ALICE_ID, "--yes"])
    expect(again.code).toBe(6)

    expect((await loginAlice()).code).toBe(0)
    rmSync(configPath())
    const { r } = await importUser("alice")
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(readFileSync(configPath(), "utf8")).profiles.map((p: { olaresId: string }) => p.olaresId))
      .toEqual([ALICE_ID])
    // a configured profile with a live token is still guarded
    const guarded = await loginAlice()
    expect(guarded.code).toBe(5)
  })
})

// ---------------------------------------------------------------------------------------------
// Item 7: trust like ssh
// ---------------------------------------------------------------------------------------------

describe.skipIf(!isRoot)("ownership and modes (as root, files are chowned to an unused uid)", () => {
  it("a config home owned by another user is refused by every command: typed error, fix, nothing written, no network", async () => {
    expect((await importUser("alice")).r.code).toBe(0)
    chownSync(e2e.home.home, STRANGER, STRANGER)
    const before = snapshot(e2e.home.root)
    e2e.server.reset()
    const g = await e2e.server.issueGrant("bob")
    const runs = [
      await cli(["profile", "list"]),
      await cli(["profile", "use", ALICE_ID]),
      await cli(["api", "/api/echo/x"]),
      await cli(["profile", "import", "--olares-id", "bob@olares.com", "--auth-url-override", e2e.server.url], {
        env: { OLARES_REFRESH_TOKEN: g.refreshToken }
      })
    ]
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(1)
      expect(r.stderr).toContain(`${e2e.home.home}: config directory is owned by uid ${STRANGER}, not by you (uid 0)`)
      expect(r.stderr).toMatch(/hint: point the CLI at a directory of your own/)
      expectNoStack(r)
    }
    expect(snapshot(e2e.home.root)).toEqual(before)
    expect(e2e.server.stats().hits).toEqual({})
    expect(e2e.server.isRefreshTokenLive(g.refreshToken)).toBe(true)
  })

  it("config.json writable by others is refused (not silently tightened); a merely readable one is tightened", async () => {
    expect((await importUser("alice")).r.code).toBe(0)
    chmodSync(configPath(), 0o666)
    const r = await cli(["profile", "list"])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`${configPath()}: config file is mode 0666: other users can write it`)
    expect(r.stderr).toContain(`hint: check it, then run: chmod 600 ${configPath()}`)
    expect(mode(configPath())).toBe(0o666)
    chmodSync(configPath(), 0o644)
    const ok = await cli(["profile", "list"])
    expect(ok.code).toBe(0)
    expect(ok.stderr).toContain("was mode 0644, open to other users; changed to 0600")
    expect(mode(configPath())).toBe(0o600)
  })

  it("a data dir writable by others, or a master.key of another user, is refused before any exchange", async () => {
    expect((await importUser("alice")).r.code).toBe(0)
    const cases: ReadonlyArray<readonly [() => void, () => void, RegExp]> = [
      [
        () => chmodSync(storeDir(), 0o777),
        () => chmodSync(storeDir(), 0o700),
        /token store directory is mode 0777: other users can write it/
      ],
      [
        () => chownSync(join(storeDir(), "master.key"), STRANGER, STRANGER),
        () => chownSync(join(storeDir(), "master.key"), 0, 0),
        new RegExp(`master\\.key is owned by uid ${STRANGER}, not by you`)
      ]
    ]
    for (const [spoil, mend, why] of cases) {
      spoil()
      e2e.server.reset()
      const before = snapshot(e2e.home.root)
      const g = await e2e.server.issueGrant("bob")
      const api = await cli(["api", "/api/echo/x"])
      const imp = await cli([
        "profile",
        "import",
        "--olares-id",
        "bob@olares.com",
        "--auth-url-override",
        e2e.server.url
      ], {
        env: { OLARES_REFRESH_TOKEN: g.refreshToken }
      })
      for (const r of [api, imp]) {
        expect(r.code, r.stderr).toBe(1)
        expect(r.stderr).toMatch(why)
        expectNoStack(r)
      }
      expect(e2e.server.stats().hits).toEqual({})
      expect(e2e.server.isRefreshTokenLive(g.refreshToken)).toBe(true)
      expect(snapshot(e2e.home.root)).toEqual(before)
      mend()
    }
  })

  it("a config home under a directory others can write (no sticky bit) is refused: they could swap it", async () => {
    const shared = join(e2e.home.root, "shared")
    mkdirSync(shared)
    chmodSync(shared, 0o777)
    const env = { OLARES_CLI_HOME: join(shared, "home") }
    const { grant, r } = await importUser("alice", env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`the directory ${shared} above it is mode 0777 (writable by others, no sticky bit)`)
    expect(readdirSync(shared)).toEqual([])
    expect(e2e.server.isRefreshTokenLive(grant.refreshToken)).toBe(true)
    mkdirSync(join(shared, "home"), { mode: 0o700 })
    const list = await cli(["profile", "list"], { env })
    expect(list.code).toBe(1)
    expect(list.stderr).toContain(`the directory ${shared} above it is mode 0777`)
  })

  it.skipIf(strangerExists)(
    "no HOME and no passwd entry: a clear error, never a shared directory under the temp dir",
    async () => {
      const shared = join(tmpdir(), "olares-cli")
      const existedBefore = existsSync(shared)
      const undo = letOthersReach(...REPO_PARTS)
      const r = await new Promise<CliResult>((resolve) => {
        const child = spawn(process.execPath, [
          BIN,
          "profile",
          "import",
          "--olares-id",
          ALICE_ID,
          "--auth-url-override",
          e2e.server.url
        ], {
          env: { PATH: process.env.PATH ?? "", OLARES_REFRESH_TOKEN: "rt-never-sent-0123" },
          uid: STRANGER,
          gid: STRANGER,
          cwd: "/"
        })
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", (d) => (stdout += d))
        child.stderr.on("data", (d) => (stderr += d))
        child.on("close", (code, signal) => {
          recordOutput("no-home import", stdout + stderr)
          resolve({ code, signal, stdout, stderr })
        })
      }).finally(undo)
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toContain(
        "cannot find your home directory (HOME is unset and there is no passwd entry for this user)"
      )
      expect(r.stderr).toContain("hint: export HOME=/path/to/your/home, or set OLARES_CLI_HOME and OLARES_CLI_DATA_DIR")
      expect(existsSync(shared)).toBe(existedBefore)
      expect(e2e.server.hits("/api/refresh")).toBe(0)
    }
  )
})

// ---------------------------------------------------------------------------------------------
// Item 8: symlinks
// ---------------------------------------------------------------------------------------------

describe("symbolic links", () => {
  it("a symlinked master.key or record is refused and its target is neither chmod-ed nor created", async () => {
    expect((await importUser("alice")).r.code).toBe(0)
    const elsewhere = join(e2e.home.root, "elsewhere")
    mkdirSync(elsewhere, { mode: 0o700 })
    for (const name of ["master.key", encName(ALICE_ID)]) {
      const link = join(storeDir(), name)
      const target = join(elsewhere, name)
      writeFileSync(target, readFileSync(link), { mode: 0o644 })
      chmodSync(target, 0o644)
      rmSync(link)
      symlinkSync(target, link)
      const r = await cli(["api", "/api/echo/x"])
      expect(r.code, r.stderr).toBe(1)
      expect(r.stderr).toContain(`${link}: ${name} is a symbolic link`)
      expect(r.stderr).toContain("olares-cli does not follow links in its token store")
      expectNoStack(r)
      expect(mode(target)).toBe(0o644)
      rmSync(link)
      writeFileSync(link, readFileSync(target), { mode: 0o600 })
    }
    // a dangling link to where a record would be written: refused, the target never created
    const dangling = join(elsewhere, "planted.enc")
    symlinkSync(dangling, join(storeDir(), encName("bob@olares.com")))
    const { grant, r } = await importUser("bob")
    expect(r.code, r.stderr).toBe(1)
    expect(existsSync(dangling)).toBe(false)
    expect(e2e.server.isRefreshTokenLive(grant.refreshToken)).toBe(true)
  })

  it("a data dir that is a symlink to a sticky world-writable directory is refused, not chmod-ed", async () => {
    const sticky = join(e2e.home.root, "sticky")
    mkdirSync(sticky)
    chmodSync(sticky, 0o1777)
    mkdirSync(e2e.home.data, { mode: 0o700 })
    symlinkSync(sticky, storeDir())
    const { grant, r } = await importUser("alice")
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toMatch(/token store directory is mode 01777: other users can write it/)
    expect(mode(sticky)).toBe(0o1777)
    expect(readdirSync(sticky)).toEqual([])
    expect(e2e.server.isRefreshTokenLive(grant.refreshToken)).toBe(true)
  })

  it("a config.json symlinked into a dotfiles repo is written through: the link stays, the target is updated", async () => {
    const dotfiles = join(e2e.home.root, "dotfiles")
    mkdirSync(dotfiles, { mode: 0o700 })
    const target = join(dotfiles, "olares-config.json")
    writeFileSync(target, JSON.stringify({ profiles: [], keepMe: "go-field" }), { mode: 0o640 })
    chmodSync(target, 0o640)
    mkdirSync(e2e.home.home, { mode: 0o700 })
    symlinkSync(target, configPath())
    const read = await cli(["profile", "list"])
    expect(read.code).toBe(0)
    expect(read.stderr).toContain("it is reached through a symbolic link")
    expect(mode(target)).toBe(0o640) // never chmod-ed through the link, only warned about
    const { r } = await importUser("alice")
    expect(r.code, r.stderr).toBe(0)
    expect(lstatSync(configPath()).isSymbolicLink()).toBe(true)
    const cfg = JSON.parse(readFileSync(target, "utf8"))
    expect(cfg).toMatchObject({ currentProfile: ALICE_ID, keepMe: "go-field", profiles: [{ olaresId: ALICE_ID }] })
    expect(mode(target)).toBe(0o600) // replaced atomically by a file of ours, private from birth
    expect(readdirSync(dotfiles).sort()).toEqual(["olares-config.json"])
    const list = await cli(["profile", "list"])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain(ALICE_ID)
  })

  it("a config.json linked to a non-JSON file never prints that file's bytes", async () => {
    const secret = "TOPSECRET-not-json-0123456789"
    recordSecret(secret)
    const target = join(e2e.home.root, "some-other-file")
    writeFileSync(target, `${secret}\nmore lines\n`, { mode: 0o600 })
    mkdirSync(e2e.home.home, { mode: 0o700 })
    symlinkSync(target, configPath())
    for (const args of [["profile", "list"], ["profile", "list", "-o", "json"], ["profile", "doctor", "--offline"]]) {
      const r = await cli(args)
      expect(r.code).toBe(1)
      expect(r.stdout + r.stderr).toContain("not valid JSON")
      expect(r.stdout + r.stderr).not.toContain("TOPSECRET")
    }
  })
})

// ---------------------------------------------------------------------------------------------
// Item 9: non-regular files and pseudo file systems
// ---------------------------------------------------------------------------------------------

describe("FIFOs, devices and /proc", () => {
  const mkfifo = (p: string) => execFileSync("mkfifo", ["-m", "600", p])

  it("a FIFO in place of config.json, master.key or a record is refused at once by use, list, api and doctor", async () => {
    expect((await importUser("alice")).r.code).toBe(0)
    const files = [configPath(), join(storeDir(), "master.key"), join(storeDir(), encName(ALICE_ID))]
    for (const f of files) {
      const saved = readFileSync(f)
      rmSync(f)
      mkfifo(f)
      const runs = await Promise.all([
        cli(["profile", "use", ALICE_ID], { timeoutMs: 15_000 }),
        cli(["profile", "list"], { timeoutMs: 15_000 }),
        cli(["api", "/api/echo/x"], { timeoutMs: 15_000 }),
        cli(["profile", "doctor", "--offline"], { timeoutMs: 15_000 })
      ])
      for (const r of runs) {
        expect(r.signal, `${f}: killed after 15 s (it blocked)`).toBeNull()
        expectNoStack(r)
      }
      expect(runs[2]!.code).toBe(1)
      expect(runs[2]!.stderr).toMatch(/is a FIFO \(named pipe\), not a regular file/)
      expect(runs[3]!.code).toBe(1)
      rmSync(f)
      writeFileSync(f, saved, { mode: 0o600 })
    }
  })

  it("a character device in place of a record is refused without opening it", async () => {
    expect((await importUser("alice")).r.code).toBe(0)
    const rec = join(storeDir(), encName(ALICE_ID))
    rmSync(rec)
    symlinkSync("/dev/zero", rec) // as a link: refused as a link
    const linked = await cli(["api", "/api/echo/x"], { timeoutMs: 15_000 })
    expect(linked.code).toBe(1)
    expect(linked.stderr).toContain("is a symbolic link")
    rmSync(rec)
    if (!isRoot) return skipped("mknod needs root")
    execFileSync("mknod", ["-m", "600", rec, "c", "1", "5"]) // /dev/zero itself: reading it never ends
    const r = await cli(["api", "/api/echo/x"], { timeoutMs: 15_000 })
    expect(r.signal).toBeNull()
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/is a device, not a regular file/)
  })

  it("OLARES_CLI_DATA_DIR=/proc: import fails at once with a typed error (Node's mkdir -p would loop forever)", async () => {
    const { grant, r } = await importUser("alice", { OLARES_CLI_DATA_DIR: "/proc" })
    expect(r.signal, "killed: it spun").toBeNull()
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toContain("/proc/olares-cli")
    expectNoStack(r)
    expect(e2e.server.isRefreshTokenLive(grant.refreshToken)).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------------
// Item 15: relative directories
// ---------------------------------------------------------------------------------------------

describe("relative path variables", () => {
  for (const name of ["OLARES_CLI_DATA_DIR", "OLARES_CLI_HOME", "OLARES_CLI_CACHE_DIR"]) {
    it(`a relative ${name} is a usage error (exit 2) naming it, nothing written anywhere`, async () => {
      const { grant, r } = await importUser("alice", { [name]: "relative/dir" })
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toContain(`${name}="relative/dir" is not an absolute path`)
      expect(r.stderr).toContain(`hint: export ${name}="$PWD/relative/dir" (an absolute path), or unset ${name}`)
      expect(existsSync(join(e2e.home.root, ".local"))).toBe(false)
      expect(existsSync(join(process.cwd(), "relative"))).toBe(false)
      expect(e2e.server.isRefreshTokenLive(grant.refreshToken)).toBe(true)
      const list = await cli(["profile", "list"], { env: { [name]: "relative/dir" } })
      expect(list.code).toBe(2)
    })
  }
})
