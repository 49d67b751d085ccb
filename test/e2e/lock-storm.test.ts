/**
 * Mixed storms (issue 9): per round 32 processes on one home, half ours and half the Go lock program
 * (gofrs/flock, the Go CLI's discipline): 8 of ours and 8 Go writers each add a profile to
 * config.json under `config.lock`; 8 `olares-cli api` and 8 Go refreshers meet one stale token under
 * the refresh lock. Every round: no lost update, exactly one /api/refresh, no invalidated record.
 */
import * as Redacted from "effect/Redacted"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { type CliResult, runCli } from "../support/cli.js"
import { useE2e } from "../support/e2e.js"
import { goLockBinary, spawnGo } from "../support/golock.js"
import { removeWorkerBundle, spawnWorker } from "../support/repo-worker.js"
import { mustRecord, seedProfile } from "../support/seed.js"

afterAll(removeWorkerBundle)

const e2e = useE2e()
const ID = "alice@olares.com"
const ROUNDS = 20
const PER_KIND = 8

type Exit = { readonly code: number | null; readonly stdout: string; readonly stderr: string }

describe("mixed storm: olares-cli and the Go lock program on one home", () => {
  it(
    `${ROUNDS} rounds of ${4 * PER_KIND} processes: 0 lost updates, 1 refresh per stale token, 0 invalidated`,
    async () => {
      goLockBinary() // built before the clock of the first round starts
      const h = e2e.home
      const server = e2e.server
      const data = join(h.data, "olares-cli")
      const started = Date.now()
      for (let round = 0; round < ROUNDS; round++) {
        const grant = await server.issueGrant("alice", { ttlSeconds: -60 })
        await seedProfile(h, {
          olaresId: ID,
          accessToken: grant.accessToken,
          refreshToken: grant.refreshToken,
          authUrlOverride: server.url
        })
        server.reset()
        const ours = Array.from({ length: PER_KIND }, (_, i) => `o${round}-${i}@olares.com`)
        const theirs = Array.from({ length: PER_KIND }, (_, i) => `g${round}-${i}@olares.com`)
        const jobs: Array<Promise<readonly [string, Exit | CliResult]>> = []
        for (let i = 0; i < PER_KIND; i++) {
          jobs.push(spawnWorker(["update", h.home, ours[i]!]).exited.then((r) => ["ours update", r] as const))
          jobs.push(spawnGo(["config", h.home, theirs[i]!]).exited.then((r) => ["go config", r] as const))
          jobs.push(
            runCli(["api", "/api/echo/x"], { env: h.env, timeoutMs: 60_000 }).then((r) => ["ours api", r] as const)
          )
          jobs.push(spawnGo(["rotate", h.home, data, ID, server.url]).exited.then((r) => ["go rotate", r] as const))
        }
        const results = await Promise.all(jobs)
        for (const [what, r] of results) expect(r.code, `round ${round}, ${what}: ${r.stderr}`).toBe(0)

        // no lost update: every writer's profile is there, whoever wrote last
        const ids =
          (JSON.parse(readFileSync(join(h.home, "config.json"), "utf8")).profiles as Array<{ olaresId: string }>)
            .map((p) => p.olaresId)
        expect(ids.filter((id) => ours.includes(id) || theirs.includes(id)).sort(), `round ${round}`).toEqual(
          [...ours, ...theirs].sort()
        )
        // exactly one refresh of this round's stale token, by whichever side got the lock first
        expect(server.hits("/api/refresh"), `round ${round}`).toBe(1)
        const rec = await mustRecord(h, ID)
        expect(rec.invalidatedAt ?? 0, `round ${round}`).toBe(0)
        expect(Redacted.value(rec.accessToken) === grant.accessToken).toBe(false)
        expect(server.isRefreshTokenLive(Redacted.value(rec.refreshToken!))).toBe(true)
        // every api got through with a live token: its stale one, then the one the refresher stored
        expect(server.hits("/api/echo/x"), `round ${round}`).toBeGreaterThanOrEqual(PER_KIND)
        const goRefreshed = results.filter(([what, r]) => what === "go rotate" && r.stdout.includes("refreshed")).length
        expect(goRefreshed, `round ${round}`).toBeLessThanOrEqual(1)
      }
      // the figure the README quotes
      console.log(`mixed storm: ${ROUNDS} rounds x ${4 * PER_KIND} processes in ${Date.now() - started} ms`)
    },
    240_000
  )
})
