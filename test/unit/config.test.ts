/** The pure config.json operations: format, round trips, pointer bookkeeping (property and model based). */
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as fc from "effect/FastCheck"
import * as Option from "effect/Option"
import { displayName, serializeConfig } from "../../src/domain/ConfigData.js"
import {
  currentProfile,
  emptyConfig,
  findProfile,
  parseConfig,
  type Profile,
  type ProfileConfig,
  removeProfile,
  setCurrent,
  upsertProfile
} from "../../src/domain/ProfileConfig.js"

/** The reference's profile field order (REFERENCE-NOTES 4.2). */
const PROFILE_ORDER = [
  "name",
  "olaresId",
  "userUid",
  "authUrlOverride",
  "localUrlPrefix",
  "insecureSkipVerify",
  "ownerRole",
  "whoamiRefreshedAt",
  "clusterContext",
  "clusterContextRefreshedAt",
  "backendVersion",
  "backendVersionRefreshedAt",
  "managed",
  "appName"
]
const TOP_ORDER = ["currentProfile", "previousProfile", "profiles"]

const parse = (text: string): ProfileConfig => Either.getOrThrowWith(parseConfig(text), (e) => new Error(e))

/** Strict JSON equality target: what a value looks like after a trip through JSON text. */
const viaJson = (u: unknown): unknown => JSON.parse(JSON.stringify(u))

// ---------------------------------------------------------------------------------------------
// Arbitraries: configs as the Go CLI (or an older/newer build of it) may have written them
// ---------------------------------------------------------------------------------------------

/** Unknown keys: identifier-like (integer-like keys are reordered by every JS engine), not ours. */
const unknownKey = (known: ReadonlyArray<string>) =>
  fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,11}$/).filter((k) => !known.includes(k) && k !== "__proto__")

const str = fc.oneof(fc.constant(""), fc.string({ maxLength: 12 }), fc.constantFrom("1.12.6", "https://x.example"))
const int = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4_102_444_800 }), fc.maxSafeInteger())
const json = fc.jsonValue({ maxDepth: 2 })

const clusterContext = fc.record({
  username: fc.string({ maxLength: 8 }),
  globalrole: fc.constantFrom("platform-admin", "workspaces-manager", ""),
  email: fc.string({ maxLength: 8 }),
  workspaces: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  systemNamespaces: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  grantedClusters: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  clusterRole: fc.string({ maxLength: 8 })
})

/** Unknown fields first, so serialisation has to put the known ones back in order. */
const profileArb: fc.Arbitrary<Profile> = fc
  .tuple(
    fc.dictionary(unknownKey(PROFILE_ORDER), json, { maxKeys: 3 }),
    fc.record(
      {
        name: str,
        olaresId: fc.oneof(fc.constantFrom("alice@olares.com", "bob@olares.com"), fc.string({ maxLength: 16 })),
        userUid: str,
        authUrlOverride: str,
        localUrlPrefix: str,
        insecureSkipVerify: fc.boolean(),
        ownerRole: fc.constantFrom("", "owner", "admin", "normal"),
        whoamiRefreshedAt: int,
        clusterContext,
        clusterContextRefreshedAt: int,
        backendVersion: str,
        backendVersionRefreshedAt: int,
        managed: fc.boolean(),
        appName: str,
        location: fc.constantFrom("eu", "us", "")
      },
      { requiredKeys: ["olaresId"] }
    )
  )
  .map(([extra, known]) => ({ ...extra, ...known }))

const configArb: fc.Arbitrary<ProfileConfig> = fc
  .tuple(
    fc.record({ currentProfile: str, previousProfile: str }, { requiredKeys: [] }),
    fc.array(profileArb, { maxLength: 4 }),
    fc.dictionary(unknownKey(TOP_ORDER), json, { maxKeys: 3 })
  )
  .map(([pointers, profiles, extra]) => ({ ...pointers, profiles, ...extra }))

const isEmpty = (v: unknown) => v === undefined || v === "" || v === 0 || v === false || v === null

/** The spec's omitempty: known fields (but olaresId) vanish when empty; unknown fields stay. */
const omitEmpty = (obj: Record<string, unknown>, known: ReadonlyArray<string>, keep: ReadonlyArray<string>) =>
  Object.fromEntries(Object.entries(obj).filter(([k, v]) => keep.includes(k) || !(known.includes(k) && isEmpty(v))))

const expectedAfterTrip = (c: ProfileConfig) =>
  viaJson({
    ...omitEmpty(c, TOP_ORDER, []),
    profiles: c.profiles.map((p) => omitEmpty(p, PROFILE_ORDER, ["olaresId"]))
  })

/** Known keys in reference order, then unknown keys in the order they were given. */
const expectedKeyOrder = (
  given: Record<string, unknown>,
  written: Record<string, unknown>,
  order: ReadonlyArray<string>
) => [...order.filter((k) => k in written), ...Object.keys(given).filter((k) => !order.includes(k) && k in written)]

describe("config.json format", () => {
  it("an empty config is {}", () => {
    expect(serializeConfig(emptyConfig)).toBe("{}")
    expect(serializeConfig({ profiles: [], currentProfile: "", previousProfile: "" })).toBe("{}")
    expect(parse("{}")).toEqual(emptyConfig)
    expect(parse("")).toEqual(emptyConfig)
  })

  it("matches the reference byte for byte: 2-space indent, field order, empties omitted, no newline", () => {
    const cfg: ProfileConfig = {
      profiles: [
        {
          backendVersion: "1.12.6",
          olaresId: "alice@olares.com",
          ownerRole: "owner",
          insecureSkipVerify: false,
          name: "work",
          whoamiRefreshedAt: 1767225600,
          userUid: ""
        },
        { olaresId: "bob@olares.com", insecureSkipVerify: true, managed: true, appName: "files" }
      ],
      previousProfile: "bob@olares.com",
      currentProfile: "work"
    }
    expect(serializeConfig(cfg)).toBe(`{
  "currentProfile": "work",
  "previousProfile": "bob@olares.com",
  "profiles": [
    {
      "name": "work",
      "olaresId": "alice@olares.com",
      "ownerRole": "owner",
      "whoamiRefreshedAt": 1767225600,
      "backendVersion": "1.12.6"
    },
    {
      "olaresId": "bob@olares.com",
      "insecureSkipVerify": true,
      "managed": true,
      "appName": "files"
    }
  ]
}`)
  })

  it("olaresId is always written, even empty", () => {
    expect(serializeConfig({ profiles: [{ olaresId: "" }] })).toBe(
      `{\n  "profiles": [\n    {\n      "olaresId": ""\n    }\n  ]\n}`
    )
  })

  it("rejects what is not a config, with the schema's explanation", () => {
    const bads = [
      "[]",
      "null",
      "{",
      `{"profiles":[{"name":"x"}]}`,
      `{"profiles":[{"olaresId":"a","whoamiRefreshedAt":1.5}]}`
    ]
    for (const bad of bads) {
      const r = parseConfig(bad)
      expect(Either.isLeft(r), bad).toBe(true)
      expect(Either.isLeft(r) && r.left.length > 0).toBe(true)
    }
  })

  it.prop("parse(serialize(c)) keeps every field, unknown ones included; only empty known fields vanish", {
    c: configArb
  }, ({ c }) => {
    const text = serializeConfig(c)
    expect(parse(text)).toEqual(expectedAfterTrip(c))
    // and it is a fixed point from then on
    expect(serializeConfig(parse(text))).toBe(text)
  }, { fastCheck: { numRuns: 300 } })

  it.prop("serialize writes the reference layout: 2-space JSON, known keys in order, unknown after", {
    c: configArb
  }, ({ c }) => {
    const text = serializeConfig(c)
    expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2))
    expect(text.endsWith("\n")).toBe(false)
    const written = JSON.parse(text) as Record<string, unknown>
    expect(Object.keys(written)).toEqual(expectedKeyOrder(c, written, TOP_ORDER))
    const profiles = (written["profiles"] ?? []) as Array<Record<string, unknown>>
    expect(profiles).toHaveLength(c.profiles.length)
    profiles.forEach((p, i) => expect(Object.keys(p)).toEqual(expectedKeyOrder(c.profiles[i]!, p, PROFILE_ORDER)))
    if (c.profiles.length === 0 && Object.keys(written).length === 0) expect(text).toBe("{}")
  }, { fastCheck: { numRuns: 300 } })

  it("a file written by the Go CLI survives a read-modify-write untouched apart from the edit", () => {
    const go = {
      currentProfile: "work",
      profiles: [
        {
          name: "work",
          olaresId: "alice@olares.com",
          clusterContext: { username: "alice", workspaces: ["a"], grantedClusters: [], clusterRole: "admin" },
          clusterContextRefreshedAt: 1767225601,
          location: { region: "eu", zone: 3 }
        }
      ],
      writtenBy: "olares-cli 1.13"
    }
    const cfg = parse(JSON.stringify(go, null, 2))
    const edited = upsertProfile(cfg, { ...cfg.profiles[0]!, ownerRole: "admin" })
    expect(JSON.parse(serializeConfig(edited))).toEqual({
      ...go,
      profiles: [{ ...go.profiles[0], ownerRole: "admin" }]
    })
  })
})

// ---------------------------------------------------------------------------------------------
// Pointer bookkeeping
// ---------------------------------------------------------------------------------------------

const cfgOf = (...profiles: Array<Profile>): ProfileConfig => ({ profiles })
const use = (c: ProfileConfig, key: string) => Either.getOrThrow(setCurrent(c, key)).config
const rm = (c: ProfileConfig, key: string) => Either.getOrThrow(removeProfile(c, key)).config

describe("setCurrent", () => {
  const a = { olaresId: "a@olares.com" }
  const b = { olaresId: "b@olares.com", name: "bee" }
  const c = { olaresId: "c@olares.com" }

  it("`use -` toggles like `cd -`", () => {
    let cfg = use(use(cfgOf(a, b, c), "a@olares.com"), "bee")
    expect([cfg.currentProfile, cfg.previousProfile]).toEqual(["bee", "a@olares.com"])
    cfg = use(cfg, "-")
    expect([cfg.currentProfile, cfg.previousProfile]).toEqual(["a@olares.com", "bee"])
    cfg = use(cfg, "-")
    expect([cfg.currentProfile, cfg.previousProfile]).toEqual(["bee", "a@olares.com"])
  })

  it("stores the display name whichever key was used, and looks aliases up first", () => {
    const cfg = use(cfgOf(a, b), "b@olares.com")
    expect(cfg.currentProfile).toBe("bee")
    const shadow = cfgOf({ olaresId: "x@olares.com" }, { olaresId: "y@olares.com", name: "x@olares.com" })
    expect(Either.getOrThrow(setCurrent(shadow, "x@olares.com")).profile.olaresId).toBe("y@olares.com")
  })

  it("using the current profile changes nothing", () => {
    const cfg = use(use(cfgOf(a, b), "a@olares.com"), "bee")
    expect(use(cfg, "bee")).toBe(cfg)
  })

  it("fails NoPreviousProfile / ProfileNotFound", () => {
    expect(Either.getLeft(setCurrent(cfgOf(a), "-")).pipe(Option.map((e) => e._tag))).toEqual(
      Option.some("NoPreviousProfile")
    )
    const nf = Either.getLeft(setCurrent(cfgOf(a), "zed"))
    expect(Option.map(nf, (e) => [e._tag, e.message])).toEqual(
      Option.some(["ProfileNotFound", "profile \"zed\" not found"])
    )
  })
})

describe("removeProfile", () => {
  const a = { olaresId: "a@olares.com" }
  const b = { olaresId: "b@olares.com", name: "bee" }
  const c = { olaresId: "c@olares.com" }

  it("removing the current falls back to previous", () => {
    const cfg = rm(use(use(cfgOf(a, b, c), "c@olares.com"), "bee"), "bee")
    expect(cfg.profiles.map((p) => p.olaresId)).toEqual(["a@olares.com", "c@olares.com"])
    expect([cfg.currentProfile, cfg.previousProfile]).toEqual(["c@olares.com", undefined])
  })

  it("with no previous, falls back to the first remaining", () => {
    const cfg = rm({ ...cfgOf(a, b, c), currentProfile: "c@olares.com" }, "c@olares.com")
    expect([cfg.currentProfile, cfg.previousProfile]).toEqual(["a@olares.com", undefined])
    // an implicit current (none set = the first profile) counts as current too
    const cfg2 = rm(cfgOf(a, b, c), "a@olares.com")
    expect([cfg2.currentProfile, cfg2.previousProfile]).toEqual(["bee", undefined])
  })

  it("removing the previous clears it; removing the last leaves {}", () => {
    const cfg = rm(use(use(cfgOf(a, b), "a@olares.com"), "bee"), "a@olares.com")
    expect([cfg.currentProfile, cfg.previousProfile]).toEqual(["bee", undefined])
    expect(serializeConfig(rm(cfg, "b@olares.com"))).toBe("{}")
  })

  it("an unknown key is ProfileNotFound", () => {
    expect(Either.getLeft(removeProfile(cfgOf(a), "nope")).pipe(Option.map((e) => e._tag))).toEqual(
      Option.some("ProfileNotFound")
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Model-based: any sequence of upsert / use / remove keeps the pointers pointing at profiles
// ---------------------------------------------------------------------------------------------

const IDS = ["a@olares.com", "b@olares.com", "c@olares.com", "d@olares.com", "e@olares.com"]

type Op =
  | { readonly op: "upsert"; readonly i: number; readonly role: string }
  | { readonly op: "use"; readonly key: string }
  | { readonly op: "remove"; readonly key: string }

/** Each id has at most one alias for the whole run, and aliases never collide with ids or each other. */
const aliasesArb = fc.array(fc.boolean(), { minLength: IDS.length, maxLength: IDS.length }).map((hasAlias) =>
  IDS.map((_, i) => (hasAlias[i] ? `alias${i}` : undefined))
)

const keyArb = fc.oneof(
  { arbitrary: fc.constantFrom(...IDS), weight: 4 },
  { arbitrary: fc.constantFrom(...IDS.map((_, i) => `alias${i}`)), weight: 3 },
  { arbitrary: fc.constantFrom("-", "nope"), weight: 2 }
)

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant("upsert" as const),
      i: fc.nat({ max: IDS.length - 1 }),
      role: fc.constantFrom("", "owner")
    }),
    weight: 3
  },
  { arbitrary: fc.record({ op: fc.constant("use" as const), key: keyArb }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant("remove" as const), key: keyArb.filter((k) => k !== "-") }), weight: 2 }
)

/** Long enough runs that profiles come and go and both pointers get exercised. */
const opsArb = (maxLength: number) => fc.array(opArb, { minLength: 5, maxLength, size: "max" })

/** The profile record for id `i`, with its alias for this run if it has one. */
const modelProfile = (aliases: ReadonlyArray<string | undefined>, i: number, role = ""): Profile => {
  const alias = aliases[i]
  return { olaresId: IDS[i]!, ...(alias === undefined ? {} : { name: alias }), ownerRole: role }
}

const resolves = (cfg: ProfileConfig, name: string | undefined) =>
  name === undefined || Option.isSome(findProfile(cfg, name))
const currentName = (cfg: ProfileConfig) => Option.getOrUndefined(Option.map(currentProfile(cfg), displayName))

describe("pointer invariants (model-based)", () => {
  it.prop("current/previous never point at a missing profile, and each op does what the spec says", {
    aliases: aliasesArb,
    ops: opsArb(60)
  }, ({ aliases, ops }) => {
    let cfg: ProfileConfig = emptyConfig
    for (const step of ops) {
      const before = cfg
      const curBefore = currentName(before)
      if (step.op === "upsert") {
        cfg = upsertProfile(cfg, modelProfile(aliases, step.i, step.role))
        expect([cfg.currentProfile, cfg.previousProfile]).toEqual([before.currentProfile, before.previousProfile])
      } else if (step.op === "use") {
        const r = setCurrent(cfg, step.key)
        const target = step.key === "-" ? before.previousProfile : step.key
        if (target === undefined) {
          expect(Either.getLeft(r).pipe(Option.map((e) => e._tag))).toEqual(Option.some("NoPreviousProfile"))
          continue
        }
        const found = findProfile(before, target)
        if (Option.isNone(found)) {
          expect(Either.getLeft(r).pipe(Option.map((e) => e._tag))).toEqual(Option.some("ProfileNotFound"))
          continue
        }
        cfg = Either.getOrThrow(r).config
        const name = displayName(found.value)
        expect(cfg.currentProfile).toBe(name)
        expect(currentName(cfg)).toBe(name)
        // switching remembers the pointer as written (the reference's SetCurrent: a first `use`
        // with nothing pinned leaves no previous); staying put keeps the old previous
        expect(cfg.previousProfile).toBe(
          before.currentProfile !== name ? before.currentProfile : before.previousProfile
        )
        expect(cfg.profiles).toBe(before.profiles)
      } else {
        const r = removeProfile(cfg, step.key)
        const found = findProfile(before, step.key)
        if (Option.isNone(found)) {
          expect(Either.getLeft(r).pipe(Option.map((e) => e._tag))).toEqual(Option.some("ProfileNotFound"))
          continue
        }
        cfg = Either.getOrThrow(r).config
        const gone = found.value
        expect(cfg.profiles).toEqual(before.profiles.filter((p) => p.olaresId !== gone.olaresId))
        const prevStays = before.previousProfile !== undefined && before.previousProfile !== displayName(gone)
        if (curBefore === displayName(gone)) {
          // the current one went: previous takes over, else the first remaining
          if (prevStays) expect([cfg.currentProfile, cfg.previousProfile]).toEqual([before.previousProfile, undefined])
          else {
            expect(cfg.currentProfile).toBe(cfg.profiles[0] === undefined ? undefined : displayName(cfg.profiles[0]))
            expect(cfg.previousProfile).toBeUndefined()
          }
        } else {
          expect(cfg.currentProfile).toBe(before.currentProfile)
          expect(cfg.previousProfile).toBe(prevStays ? before.previousProfile : undefined)
        }
      }
      // the invariants, after every step
      expect(resolves(cfg, cfg.currentProfile)).toBe(true)
      expect(resolves(cfg, cfg.previousProfile)).toBe(true)
      expect(cfg.currentProfile).not.toBe("")
      expect(cfg.previousProfile).not.toBe("")
      if (cfg.previousProfile !== undefined) expect(cfg.previousProfile).not.toBe(currentName(cfg))
      expect(Option.isSome(currentProfile(cfg))).toBe(cfg.profiles.length > 0)
      // and the file form says the same thing
      expect(parse(serializeConfig(cfg))).toEqual(expectedAfterTrip(cfg))
    }
  }, { fastCheck: { numRuns: 400 } })

  it.prop("`use -` after switching from X to Y always goes back to X, and again to Y", {
    aliases: aliasesArb,
    ops: opsArb(20),
    x: fc.nat({ max: IDS.length - 1 }),
    y: fc.nat({ max: IDS.length - 1 })
  }, ({ aliases, ops, x, y }) => {
    fc.pre(x !== y)
    let cfg: ProfileConfig = emptyConfig
    for (const step of ops) {
      const next = step.op === "upsert"
        ? Either.right(upsertProfile(cfg, modelProfile(aliases, step.i)))
        : step.op === "use"
        ? Either.map(setCurrent(cfg, step.key), (r) => r.config)
        : Either.map(removeProfile(cfg, step.key), (r) => r.config)
      cfg = Either.getOrElse(next, () => cfg)
    }
    for (const i of [x, y]) cfg = upsertProfile(cfg, modelProfile(aliases, i))
    const nx = aliases[x] ?? IDS[x]!
    const ny = aliases[y] ?? IDS[y]!
    cfg = use(use(cfg, IDS[x]!), IDS[y]!)
    cfg = use(cfg, "-")
    expect([cfg.currentProfile, cfg.previousProfile]).toEqual([nx, ny])
    cfg = use(cfg, "-")
    expect([cfg.currentProfile, cfg.previousProfile]).toEqual([ny, nx])
  }, { fastCheck: { numRuns: 200 } })
})
