/**
 * `profile doctor`'s facts come through ports (src/commands/doctor/facts.ts): the locks from
 * `LockInspector`, the orphan records from `TokenRecords`, the probes from `Reachability` (never under
 * `--offline`). In process, over memory ports and a temporary directory; no build, no processes.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FileLockMemoryInspected } from "../../layers/FileLockMemory.js"
import { makeMemory } from "../../layers/KeyStoreMemory.js"
import { ProfileRepoMemory } from "../../layers/ProfileRepoMemory.js"
import { unclaimedRecords } from "../../layers/TokenRecordsLive.js"
import { gatherFacts } from "../../src/commands/doctor/facts.js"
import type { ProfileConfig } from "../../src/domain/ProfileConfig.js"
import { AppPaths } from "../../src/services/AppPaths.js"
import { FileLock } from "../../src/services/FileLock.js"
import { KeyStore } from "../../src/services/KeyStore.js"
import { Reachability } from "../../src/services/Reachability.js"
import { TokenRecords } from "../../src/services/TokenRecords.js"

const withTemp = <A, E, R>(f: (dir: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "doctor-facts-"))),
    f,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const cfg: ProfileConfig = {
  currentProfile: "alice@olares.com",
  profiles: [{ olaresId: "alice@olares.com" }, { olaresId: "bob@olares.com", authUrlOverride: "http://127.0.0.1:9" }]
} as ProfileConfig

/** The ports doctor asks, over `dir`; `probes` counts the reachability calls. */
const ports = (dir: string, probes: Ref.Ref<Array<string>>) => {
  const paths = {
    home: join(dir, "h"),
    configFile: join(dir, "h", "config.json"),
    locksDir: join(dir, "h", "locks"),
    dataDir: join(dir, "d"),
    dataDirSource: "test"
  }
  const store = Layer.effect(
    KeyStore,
    Effect.map(makeMemory([{ olaresId: "stray@olares.com", accessToken: Redacted.make("x.y.z") }]), (ks) => ({
      ...ks,
      // an on-disk backend, so doctor looks for orphan records
      describe: Effect.succeed({ backend: "file", location: paths.dataDir, reason: "test" })
    }))
  )
  const records = Layer.succeed(TokenRecords, {
    unclaimed: (accounts) =>
      Effect.succeed(
        ["alice@olares.com", "stray@olares.com", "gone@olares.com"].filter((a) => !accounts.includes(a))
          .map((account) => ({ account, path: join(paths.dataDir, `${account}.enc`) }))
      )
  })
  const reach = Layer.succeed(Reachability, {
    probe: (url) =>
      Effect.as(Ref.update(probes, (a) => [...a, url]), { _tag: "Answered" as const, status: 200, elapsedMs: 1 })
  })
  return Layer.mergeAll(
    store,
    records,
    reach,
    ProfileRepoMemory(cfg),
    FileLockMemoryInspected,
    NodeFileSystem.layer,
    Layer.succeed(AppPaths, paths)
  )
}

describe("doctor facts", () => {
  it.scoped("locks from the lock port, orphans from the record port, one probe per profile", () =>
    withTemp((dir) =>
      Effect.gen(function*() {
        const probes = yield* Ref.make<Array<string>>([])
        mkdirSync(join(dir, "h", "locks"), { recursive: true })
        const facts = yield* Effect.gen(function*() {
          const locks = yield* FileLock
          // held while the facts are gathered, as a running login would hold it
          yield* locks.lock(join(dir, "h", "locks", "config.lock"), { timeout: "1 second" })
          return yield* gatherFacts({ offline: false })
        }).pipe(Effect.provide(ports(dir, probes)))
        expect(facts.locks).toEqual([{
          name: "config.lock",
          path: join(dir, "h", "locks", "config.lock"),
          held: true,
          stale: false
        }])
        expect(facts.lockErrors).toEqual([])
        // the stray record opens (its olaresId is read back); the other cannot be read
        expect(facts.orphans).toEqual([
          { path: join(dir, "d", "stray@olares.com.enc"), olaresId: "stray@olares.com" },
          { path: join(dir, "d", "gone@olares.com.enc"), olaresId: undefined }
        ])
        expect(yield* Ref.get(probes)).toEqual(["https://auth.alice.olares.com/", "http://127.0.0.1:9/"])
        expect(facts.profiles.map((p) => [p.olaresId, p.auth.checked, p.auth.httpStatus])).toEqual([
          ["alice@olares.com", true, 200],
          ["bob@olares.com", true, 200]
        ])
        expect(facts.paths.home).toMatchObject({ path: join(dir, "h"), exists: true, kind: "directory" })
        expect(facts.paths.configFile).toMatchObject({ exists: false })
      })
    ))

  it.scoped("--offline never asks the reachability port", () =>
    withTemp((dir) =>
      Effect.gen(function*() {
        const probes = yield* Ref.make<Array<string>>([])
        const facts = yield* gatherFacts({ offline: true }).pipe(Effect.provide(ports(dir, probes)))
        expect(yield* Ref.get(probes)).toEqual([])
        expect(facts.profiles.every((p) => !p.auth.checked)).toBe(true)
        expect(facts.locks).toEqual([])
      })
    ))

  it.effect("the live record port lists only record files no account names", () =>
    withTemp((dir) =>
      Effect.gen(function*() {
        // a record's name is the account with every character outside [A-Za-z0-9._-] made `_`
        for (
          const name of [
            "alice_olares.com.enc",
            "stray_olares.com.enc",
            ".alice_olares.com.enc.tmp",
            ".hidden.enc",
            "master.key"
          ]
        ) {
          mkdirSync(join(dir, name))
        }
        expect(yield* unclaimedRecords(dir, ["alice@olares.com", ""])).toEqual([{
          path: join(dir, "stray_olares.com.enc"),
          account: "stray_olares.com"
        }])
        expect(yield* unclaimedRecords(join(dir, "missing"), [])).toEqual([])
      })
    ))
})
