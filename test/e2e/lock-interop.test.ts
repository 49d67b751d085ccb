/**
 * Our locks against independent lock implementations: util-linux `flock(1)` and a Go program on
 * gofrs/flock (the Go olares-cli's library, test/support/golock). Both ways round: while they hold
 * `config.lock` or the refresh lock we wait, and while we hold one their `LOCK_NB` attempt fails.
 * A SIGKILLed holder of any kind frees the lock at once. Real processes throughout.
 */
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { refreshLockPaths } from "../../src/domain/Paths.js"
import { BIN, runCli, type TempHome } from "../support/cli.js"
import { useE2e } from "../support/e2e.js"
import { flockBusy, goLockBinary, runGo, spawnFlock, spawnGo } from "../support/golock.js"
import { recordOutput } from "../support/leaks.js"
import { removeWorkerBundle, spawnWorker, type Worker } from "../support/repo-worker.js"
import { mustRecord, seedProfile } from "../support/seed.js"

afterAll(removeWorkerBundle)

const e2e = useE2e()
const ID = "alice@olares.com"
const A = "a@olares.com"
const B = "b@olares.com"

const configLock = (h: TempHome) => join(h.home, "locks", "config.lock")
const configFile = (h: TempHome) => join(h.home, "config.json")
/** Where the records are (`OLARES_CLI_DATA_DIR/olares-cli`). */
const dataDir = (h: TempHome) => join(h.data, "olares-cli")
const homeRefreshLock = (h: TempHome) =>
  refreshLockPaths({ locksDir: join(h.home, "locks"), dataDir: dataDir(h) }, ID)[0]!
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Two profiles, `a` current, written as plain files (as the Go CLI would have left them). */
const twoProfiles = (h: TempHome) => {
  mkdirSync(join(h.home, "locks"), { recursive: true, mode: 0o700 })
  const cfg = { currentProfile: A, profiles: [{ olaresId: A }, { olaresId: B }] }
  writeFileSync(configFile(h), JSON.stringify(cfg, null, 2), { mode: 0o600 })
}

/** The holders of a lock other than ours, for 2 s: flock(1) and the Go program. */
const holders: ReadonlyArray<readonly [string, (path: string) => Worker]> = [
  ["flock(1)", (path) => spawnFlock(path, "exec sleep 2")],
  ["gofrs/flock (Go)", (path) => spawnGo(["hold", path, "2000"])]
]

describe("config.lock held by another implementation", () => {
  // fail loudly (not skip) when Go is missing: this is what proves both CLIs exclude each other
  it("the Go lock program builds", () => {
    expect(goLockBinary()).toMatch(/golock$/)
  })

  for (const [who, hold] of holders) {
    for (const quick of [true, false]) {
      it(`profile use (${quick ? "quick path" : "full path"}) waits for ${who}, then switches`, async () => {
        const h = e2e.home
        twoProfiles(h)
        const before = readFileSync(configFile(h), "utf8")
        const holder = hold(configLock(h))
        try {
          await holder.waitFor("locked")
          let done = false
          const use = e2e.cli(["profile", "use", B], { env: quick ? {} : { OLARES_CLI_QUICK: "0" } }).finally(
            () => (done = true)
          )
          await sleep(1_000)
          // still waiting, and nothing written under someone else's lock
          expect(done).toBe(false)
          expect(readFileSync(configFile(h), "utf8")).toBe(before)
          await holder.exited
          const r = await use
          expect(r.code, r.stderr).toBe(0)
          expect(r.stdout).toBe(`switched to profile ${B} (${B})\n`)
          expect(JSON.parse(readFileSync(configFile(h), "utf8"))).toMatchObject({
            currentProfile: B,
            previousProfile: A
          })
        } finally {
          holder.child.kill("SIGKILL")
          await holder.exited
        }
      })
    }
  }
})

describe("waiting for a lock is interruptible", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`profile use waiting on the Go program's config lock: ${signal} exits 130 at once, nothing written`, async () => {
      const h = e2e.home
      twoProfiles(h)
      const before = readFileSync(configFile(h), "utf8")
      const holder = spawnGo(["hold", configLock(h), "60000"])
      try {
        await holder.waitFor("locked")
        const child = spawn(process.execPath, [BIN, "profile", "use", B], {
          env: { PATH: process.env.PATH ?? "", ...h.env, OLARES_CLI_DEBUG: "1" },
          stdio: ["ignore", "pipe", "pipe"]
        })
        let stderr = ""
        child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
        const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
        // the quick path declined (held), the fast path is polling
        for (let i = 0; !stderr.includes("served by the fast path"); i++) {
          if (i > 1_000) throw new Error(`use never started waiting: ${stderr}`)
          await sleep(20)
        }
        await sleep(300)
        const t0 = Date.now()
        child.kill(signal)
        expect(await exited).toBe(130)
        recordOutput(`olares-cli profile use (${signal})`, stderr)
        expect(Date.now() - t0).toBeLessThan(5_000)
        expect(readFileSync(configFile(h), "utf8")).toBe(before)
        // and it left nothing held: the holder still owns the lock, nobody else does
        expect((await runGo(["try", configLock(h)])).stdout).toBe("busy\n")
      } finally {
        holder.child.kill("SIGKILL")
        await holder.exited
      }
    })
  }
})

describe("the refresh lock held by another implementation", () => {
  // The holder takes the home's refresh lock, then waits until our `api` has sent its stale token
  // (and so is waiting for the lock), rotates the grant through the server, holds 0.5 s more and
  // releases. We must then use what it stored: one /api/refresh in total.
  const rotateArgs = (h: TempHome, lock: boolean) => [
    "rotate",
    h.home,
    dataDir(h),
    ID,
    e2e.server.url,
    ...(lock ? [] : ["--nolock"]),
    "--wait-stdin",
    "--hold",
    "500"
  ]
  const rotators: ReadonlyArray<readonly [string, (h: TempHome) => Worker]> = [
    [
      "flock(1)",
      (h) => spawnFlock(homeRefreshLock(h), `exec ${goLockBinary()} ${rotateArgs(h, false).join(" ")}`, { stdin: true })
    ],
    ["gofrs/flock (Go)", (h) => spawnGo(rotateArgs(h, true), { stdin: true })]
  ]

  for (const [who, rotator] of rotators) {
    it(`api on a stale token waits for ${who}, then uses the token it stored`, async () => {
      const h = e2e.home
      const server = e2e.server
      const grant = await server.issueGrant("alice", { ttlSeconds: -60 })
      await seedProfile(h, {
        olaresId: ID,
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        authUrlOverride: server.url
      })
      const holder = rotator(h)
      try {
        await holder.waitFor("locked")
        let done = false
        const api = e2e.cli(["api", "/api/echo/x"]).finally(() => (done = true))
        // its stale token was refused: it is now waiting for the refresh lock
        for (let i = 0; server.hits("/api/echo/x") < 1; i++) {
          if (i > 1_000) throw new Error("api never sent its request")
          await sleep(20)
        }
        await sleep(300)
        expect(done).toBe(false)
        expect(server.hits("/api/refresh")).toBe(0)
        holder.child.stdin!.end("go\n")
        await holder.waitFor("refreshed")
        const r = await api
        expect(r.code, r.stderr).toBe(0)
        expect(JSON.parse(r.stdout)).toMatchObject({ path: "/api/echo/x", user: "alice" })
        expect(server.hits("/api/refresh")).toBe(1)
        const rec = await mustRecord(h, ID)
        expect(rec.invalidatedAt ?? 0).toBe(0)
        const sent = server.requests().filter((q) => q.path === "/api/echo/x").map((q) => q.headers["x-authorization"])
        expect(sent.length).toBe(2)
        expect(sent[0] === grant.accessToken).toBe(true)
        expect(sent[1] === Redacted.value(rec.accessToken)).toBe(true)
      } finally {
        holder.child.kill("SIGKILL")
        await holder.exited
      }
    })
  }
})

describe("while we hold a lock, the others cannot take it", () => {
  it("FileLockLive's hold: the Go program's TryLock and flock(1) -n both fail, then succeed once it is gone", async () => {
    const h = e2e.home
    const path = configLock(h)
    const ours = spawnWorker(["hold", path])
    try {
      await ours.waitFor("locked")
      expect((await runGo(["try", path])).stdout).toBe("busy\n")
      expect(flockBusy(path)).toBe(true)
    } finally {
      ours.child.kill("SIGKILL")
      await ours.exited
    }
    // SIGKILL frees it at once: the very next attempt gets it
    expect((await runGo(["try", path])).stdout).toBe("locked\n")
    expect(flockBusy(path)).toBe(false)
  })

  it("a refresh in flight holds both refresh locks (the config home's and the data dir's)", async () => {
    const h = e2e.home
    const server = e2e.server
    const grant = await server.issueGrant("alice", { ttlSeconds: -60 })
    await seedProfile(h, {
      olaresId: ID,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      authUrlOverride: server.url
    })
    server.setFault("/api/refresh", { delayMs: 1_500, times: 1 })
    const api = e2e.cli(["api", "/api/echo/x"])
    for (let i = 0; server.hits("/api/refresh") < 1; i++) {
      if (i > 1_000) throw new Error("api never refreshed")
      await sleep(20)
    }
    const [home, data] = refreshLockPaths({ locksDir: join(h.home, "locks"), dataDir: dataDir(h) }, ID)
    expect((await runGo(["try", home!])).stdout).toBe("busy\n")
    expect(flockBusy(data!)).toBe(true)
    const r = await api
    expect(r.code, r.stderr).toBe(0)
    expect(flockBusy(home!)).toBe(false)
    expect(flockBusy(data!)).toBe(false)
  })
})

describe("SIGKILL of any holder frees the lock at once", () => {
  const kinds: ReadonlyArray<readonly [string, (path: string) => Worker]> = [
    ["olares-cli (FileLockLive)", (path) => spawnWorker(["hold", path])],
    ["gofrs/flock (Go)", (path) => spawnGo(["hold", path, "60000"])],
    ["flock(1)", (path) => spawnFlock(path, "exec sleep 60")]
  ]
  for (const [who, hold] of kinds) {
    it(who, async () => {
      const h = e2e.home
      twoProfiles(h)
      const path = configLock(h)
      const holder = hold(path)
      await holder.waitFor("locked")
      expect(flockBusy(path)).toBe(true)
      holder.child.kill("SIGKILL")
      expect((await holder.exited).signal).toBe("SIGKILL")
      // no stale bound to wait out: our quick path gets it on its single attempt
      const r = await runCli(["profile", "use", B], { env: { ...h.env, OLARES_CLI_DEBUG: "1" } })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toContain("served by the quick path")
      expect((await runGo(["try", path])).stdout).toBe("locked\n")
    })
  }
})
