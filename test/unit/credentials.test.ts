/**
 * The pure halves of login/import (src/commands/credentials.ts): `buildProfile` (the profile to
 * store: the existing one with the flags applied) and `activate` (the current/previous pointer
 * bookkeeping after a successful login). No build, no processes, no I/O.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "effect/FastCheck"
import * as Option from "effect/Option"
import { activate, buildProfile, type ProfileFlags } from "../../src/commands/credentials.js"
import { displayName } from "../../src/domain/ConfigData.js"
import { currentProfile, type Profile, type ProfileConfig } from "../../src/domain/ProfileConfig.js"

const noFlags: ProfileFlags = {
  name: Option.none(),
  authUrlOverride: Option.none(),
  localUrlPrefix: Option.none(),
  insecureSkipVerify: false
}

const alice: Profile = { olaresId: "alice@olares.com" }
const bob: Profile = { olaresId: "bob@olares.com" }
const carol: Profile = { olaresId: "carol@olares.com", name: "work" }

describe("buildProfile", () => {
  it("a new identity is its olaresId and the flags given, nothing else", () => {
    expect(buildProfile(Option.none(), "alice@olares.com", noFlags)).toEqual({ olaresId: "alice@olares.com" })
    expect(
      buildProfile(Option.none(), "alice@olares.com", {
        name: Option.some("home"),
        authUrlOverride: Option.some("https://auth.example.com"),
        localUrlPrefix: Option.some("dev."),
        insecureSkipVerify: true
      })
    ).toEqual({
      olaresId: "alice@olares.com",
      name: "home",
      authUrlOverride: "https://auth.example.com",
      localUrlPrefix: "dev.",
      insecureSkipVerify: true
    })
  })

  it("keeps the existing alias, overrides, caches and unknown fields when no flag says otherwise", () => {
    const existing: Profile = {
      olaresId: "alice",
      name: "home",
      localUrlPrefix: "dev.",
      insecureSkipVerify: true,
      ownerRole: "owner",
      whoamiRefreshedAt: 1767225600,
      backendVersion: "1.12.6",
      clusterContext: { username: "alice" }
    }
    expect(buildProfile(Option.some(existing), "alice@olares.com", noFlags)).toEqual(existing)
  })

  it("a flag given replaces its field; --insecure-skip-verify only ever turns verification off", () => {
    const existing: Profile = {
      olaresId: "alice@olares.com",
      name: "home",
      authUrlOverride: "https://a.example",
      insecureSkipVerify: true
    }
    expect(
      buildProfile(Option.some(existing), "alice@olares.com", {
        ...noFlags,
        name: Option.some("work"),
        authUrlOverride: Option.some("https://b.example")
      })
    ).toEqual({ ...existing, name: "work", authUrlOverride: "https://b.example" })
    expect(buildProfile(Option.some({ olaresId: "a@b.c" }), "a@b.c", { ...noFlags, insecureSkipVerify: true })).toEqual(
      {
        olaresId: "a@b.c",
        insecureSkipVerify: true
      }
    )
  })
})

/** Runs activate; returns what it reports and the pointers and profiles it leaves. */
const run = (cfg: ProfileConfig, profile: Profile, noSwitch = false) => {
  const [a, next] = activate(cfg, profile, noSwitch)
  return {
    switched: a.switched,
    previous: a.previous,
    current: next.currentProfile,
    previousProfile: next.previousProfile,
    ids: next.profiles.map((p) => p.olaresId)
  }
}

describe("activate", () => {
  it("the first login adds the profile and makes it current", () => {
    expect(run({ profiles: [] }, alice)).toEqual({
      switched: true,
      previous: undefined,
      current: "alice@olares.com",
      previousProfile: undefined,
      ids: ["alice@olares.com"]
    })
  })

  it("a login as another identity switches to it and remembers the one it left", () => {
    expect(run({ currentProfile: "alice@olares.com", profiles: [alice] }, bob)).toEqual({
      switched: true,
      previous: "alice@olares.com",
      current: "bob@olares.com",
      previousProfile: "alice@olares.com",
      ids: ["alice@olares.com", "bob@olares.com"]
    })
  })

  it("the implicit current profile (none pinned) is the one left behind", () => {
    expect(run({ profiles: [carol, alice] }, bob)).toMatchObject({
      switched: true,
      previous: "work",
      current: "bob@olares.com",
      previousProfile: "work"
    })
  })

  it("a re-login of the current profile replaces it in place and switches nothing", () => {
    const cfg: ProfileConfig = { currentProfile: "alice@olares.com", previousProfile: "work", profiles: [alice, carol] }
    const [a, next] = activate(cfg, { ...alice, ownerRole: "owner" }, false)
    expect(a).toEqual({ profile: { ...alice, ownerRole: "owner" }, switched: false, previous: undefined })
    expect(next).toEqual({ ...cfg, profiles: [{ ...alice, ownerRole: "owner" }, carol] })
  })

  it("--no-switch keeps a pinned current profile", () => {
    expect(run({ currentProfile: "work", profiles: [carol] }, bob, true)).toEqual({
      switched: false,
      previous: undefined,
      current: "work",
      previousProfile: undefined,
      ids: ["carol@olares.com", "bob@olares.com"]
    })
  })

  it("--no-switch pins the implicit current profile, and bootstraps an empty config to the new one", () => {
    expect(run({ previousProfile: "x", profiles: [carol] }, bob, true)).toMatchObject({
      switched: false,
      current: "work",
      previousProfile: "x"
    })
    expect(run({ profiles: [] }, bob, true)).toMatchObject({
      switched: true,
      previous: undefined,
      current: "bob@olares.com"
    })
  })

  it("a new alias renames the profile: pointers that named it by its old name follow it", () => {
    const cfg: ProfileConfig = {
      currentProfile: "bob@olares.com",
      previousProfile: "alice@olares.com",
      profiles: [alice, bob]
    }
    // re-login of alice with --name home, switching to it
    expect(run(cfg, { ...alice, name: "home" })).toMatchObject({
      switched: true,
      previous: "bob@olares.com",
      current: "home",
      previousProfile: "bob@olares.com"
    })
    // with --no-switch: current stays, the previous pointer follows the rename
    expect(run(cfg, { ...alice, name: "home" }, true)).toMatchObject({
      switched: false,
      current: "bob@olares.com",
      previousProfile: "home"
    })
  })

  const profileArb = fc.record(
    {
      olaresId: fc.constantFrom("alice@olares.com", "bob@olares.com", "carol@olares.com", "dave@olares.com"),
      name: fc.constantFrom("home", "work", "lab")
    },
    { requiredKeys: ["olaresId"] }
  )
  /** Configs with unique olaresIds and unique aliases, pointers naming a profile or nothing. */
  const configArb = fc
    .uniqueArray(profileArb, { selector: (p) => p.olaresId, maxLength: 3 })
    .filter((ps) =>
      new Set(ps.map(displayName)).size === ps.length && ps.every((p) => !ps.some((q) => q.olaresId === p.name))
    )
    .chain((profiles) => {
      const pointer = fc.option(fc.constantFrom(...profiles.map(displayName), ""), { nil: undefined })
      return profiles.length === 0
        ? fc.constant<ProfileConfig>({ profiles })
        : fc.record({ currentProfile: pointer, previousProfile: pointer }).map((p): ProfileConfig => ({
          profiles,
          ...(p.currentProfile === undefined ? {} : { currentProfile: p.currentProfile }),
          ...(p.previousProfile === undefined ? {} : { previousProfile: p.previousProfile })
        }))
    })

  it.prop("stores the profile exactly once, others untouched in order; without --no-switch it is the active one", [
    configArb,
    fc.constantFrom("alice@olares.com", "bob@olares.com", "erin@olares.com"),
    fc.boolean()
  ], ([cfg, id, noSwitch]) => {
    const existing = cfg.profiles.find((p) => p.olaresId === id)
    // keep the alias (no rename here) unless it is new and free
    const profile: Profile = existing ?? { olaresId: id }
    const before = Option.map(currentProfile(cfg), (p) => p.olaresId)
    const [a, next] = activate(cfg, profile, noSwitch)
    expect(next.profiles.filter((p) => p.olaresId === id)).toEqual([profile])
    expect(next.profiles.filter((p) => p.olaresId !== id)).toEqual(cfg.profiles.filter((p) => p.olaresId !== id))
    const after = Option.map(currentProfile(next), (p) => p.olaresId)
    if (!noSwitch) expect(after).toEqual(Option.some(id))
    else expect(after).toEqual(Option.isSome(before) ? before : Option.some(id))
    expect(a.switched).toBe(!Option.getEquivalence((x: string, y: string) => x === y)(before, after))
    if (a.previous !== undefined) expect(next.previousProfile).toBe(a.previous)
  }, { fastCheck: { numRuns: 500 } })
})
