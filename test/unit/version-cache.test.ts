/**
 * src/commands/versionCache.ts: the one program that writes the role and version caches (used by
 * `profile list`, `whoami` and the post-login fill), over an in-memory config.json and the
 * TestClock. No build, no processes.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { makeProfileRepoMemory } from "../../layers/ProfileRepoMemory.js"
import { cacheBackendVersion, cacheServerFacts } from "../../src/commands/versionCache.js"
import type { ProfileConfig } from "../../src/domain/ProfileConfig.js"
import { ProfileRepo } from "../../src/services/ProfileRepo.js"

const NOW_SEC = 1767225600
const initial: ProfileConfig = {
  currentProfile: "home",
  profiles: [
    { olaresId: "alice", name: "home", ownerRole: "owner", whoamiRefreshedAt: 1700000000, futureFlag: true },
    { olaresId: "bob@olares.com", backendVersion: "1.12.0", backendVersionRefreshedAt: 1700000000 }
  ]
}

/** Runs `program` against a memory config.json holding `initial` at NOW_SEC; its result and the config after. */
const withRepo = <A, E>(program: Effect.Effect<A, E, ProfileRepo>) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(NOW_SEC * 1000 + 999)
    const repo = yield* makeProfileRepoMemory(initial)
    const result = yield* Effect.provideService(program, ProfileRepo, repo)
    return { result, config: yield* repo.load }
  })

describe("cacheServerFacts", () => {
  it.effect("a role read replaces the cached one and stamps the read; the version cache is left alone", () =>
    Effect.gen(function*() {
      const { config, result } = yield* withRepo(
        cacheServerFacts("bob@olares.com", { userInfo: Option.some({ ownerRole: "admin" }), version: Option.none() })
      )
      const bob = { ...initial.profiles[1]!, ownerRole: "admin", whoamiRefreshedAt: NOW_SEC }
      expect(config).toEqual({ ...initial, profiles: [initial.profiles[0], bob] })
      expect(result).toEqual(Option.some(bob))
    }))

  it.effect("a read that reported no role keeps the cached role but still stamps the read", () =>
    Effect.gen(function*() {
      for (const userInfo of [{}, { ownerRole: "" }, { ownerRole: undefined }]) {
        const { config } = yield* withRepo(
          cacheServerFacts("alice", { userInfo: Option.some(userInfo), version: Option.none() })
        )
        expect(config.profiles[0]).toEqual({ ...initial.profiles[0], whoamiRefreshedAt: NOW_SEC })
      }
    }))

  it.effect("a version alone updates the version cache only; both together update both", () =>
    Effect.gen(function*() {
      const v = yield* withRepo(cacheBackendVersion("alice", "1.12.6"))
      expect(v.result).toBeUndefined()
      expect(v.config.profiles[0]).toEqual({
        ...initial.profiles[0],
        backendVersion: "1.12.6",
        backendVersionRefreshedAt: NOW_SEC
      })
      const both = yield* withRepo(
        cacheServerFacts("alice", { userInfo: Option.some({ ownerRole: "normal" }), version: Option.some("1.12.6") })
      )
      expect(both.config.profiles[0]).toEqual({
        ...initial.profiles[0],
        ownerRole: "normal",
        whoamiRefreshedAt: NOW_SEC,
        backendVersion: "1.12.6",
        backendVersionRefreshedAt: NOW_SEC
      })
      expect(both.config.profiles[1]).toEqual(initial.profiles[1])
    }))

  it.effect("the profile is found by its key exactly as stored (a Go-written bare `alice`); a profile that is gone changes nothing", () =>
    Effect.gen(function*() {
      const bare = yield* withRepo(cacheBackendVersion("alice@olares.com", "1.12.6"))
      expect(bare.config).toEqual(initial)
      const gone = yield* withRepo(
        cacheServerFacts("erin@olares.com", {
          userInfo: Option.some({ ownerRole: "owner" }),
          version: Option.some("1.12.6")
        })
      )
      expect(gone.result).toEqual(Option.none())
      expect(gone.config).toEqual(initial)
    }))
})
