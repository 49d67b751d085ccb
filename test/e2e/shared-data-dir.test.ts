/**
 * Two config homes on one data dir (issue 10, item 5): the data dir is the unit of sharing. The
 * refresh lock also covers it (a second lock beside the records, taken after the home's), so both
 * homes refresh one grant once; and removing the last profile of one home leaves the other's
 * records and the master key they need. Real processes, real loopback HTTP.
 */
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { homeAt, runCli, type TempHome } from "../support/cli.js"
import { useServer } from "../support/e2e.js"
import { readRecord, seedProfile } from "../support/seed.js"
import { useTempRoots } from "../support/tmp.js"

const fixture = useServer()
const tempRoot = useTempRoots("olares-shared-")

/** Home A, and home B whose token store is A's data dir. */
const twoHomes = (): readonly [TempHome, TempHome] => {
  const a = homeAt(tempRoot())
  const b0 = homeAt(tempRoot())
  const b: TempHome = { ...b0, data: a.data, env: { ...b0.env, OLARES_CLI_DATA_DIR: a.data } }
  return [a, b]
}

const ALICE = "alice@olares.com"
const BOB = "bob@olares.com"
const store = (h: TempHome) => join(h.data, "olares-cli")

describe("two config homes sharing one data dir", () => {
  it("refreshing one stale grant from both homes at once: one /api/refresh, nobody invalidated", async () => {
    const server = fixture.server
    const [a, b] = twoHomes()
    const grant = await server.issueGrant("alice", { ttlSeconds: -60 })
    for (const h of [a, b]) {
      await seedProfile(h, {
        olaresId: ALICE,
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        authUrlOverride: server.url
      })
    }
    // their config-home locks differ; only the lock beside the records serialises them
    server.setFault("/api/refresh", { delayMs: 300 })
    const runs = await Promise.all(
      Array.from(
        { length: 12 },
        (_, i) => runCli(["api", "/api/echo/x"], { env: (i % 2 === 0 ? a : b).env, timeoutMs: 60_000 })
      )
    )
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ path: "/api/echo/x", user: "alice" })
    }
    expect(server.hits("/api/refresh")).toBe(1)
    const rec = Option.getOrThrow(await readRecord(b, ALICE))
    expect(rec.invalidatedAt ?? 0).toBe(0)
    expect(Redacted.value(rec.accessToken) === grant.accessToken).toBe(false)
    expect(existsSync(join(store(a), "locks", `${ALICE}.refresh.lock`))).toBe(true)
  })

  it("removing the last profile of home A leaves home B's records and master.key; B's last removal deletes the key", async () => {
    const server = fixture.server
    const [a, b] = twoHomes()
    const ga = await server.issueGrant("alice")
    const gb = await server.issueGrant("bob")
    await seedProfile(a, {
      olaresId: ALICE,
      accessToken: ga.accessToken,
      refreshToken: ga.refreshToken,
      authUrlOverride: server.url
    })
    await seedProfile(b, {
      olaresId: BOB,
      accessToken: gb.accessToken,
      refreshToken: gb.refreshToken,
      authUrlOverride: server.url
    })
    expect(readdirSync(store(a)).sort()).toEqual(["alice_olares.com.enc", "bob_olares.com.enc", "master.key"])

    const removed = await runCli(["profile", "remove", ALICE, "--yes"], { env: a.env })
    expect(removed.code, removed.stderr).toBe(0)
    expect(removed.stdout).toContain("no profiles remain.")
    // only A's record went; B's record and the key it is encrypted under stay
    expect(readdirSync(store(a)).filter((f) => f !== "locks").sort()).toEqual(["bob_olares.com.enc", "master.key"])
    const list = await runCli(["profile", "list", "-o", "json"], { env: b.env })
    expect(list.code, list.stderr).toBe(0)
    expect(JSON.parse(list.stdout).profiles).toMatchObject([{ olaresId: BOB, status: "logged-in" }])
    const api = await runCli(["api", "/api/echo/x"], { env: b.env })
    expect(api.code, api.stderr).toBe(0)

    // B's last profile: no record remains in the data dir, so the key goes too
    const last = await runCli(["profile", "remove", BOB, "--yes"], { env: b.env })
    expect(last.code, last.stderr).toBe(0)
    expect(readdirSync(store(a)).filter((f) => f !== "locks")).toEqual([])
  })
})
