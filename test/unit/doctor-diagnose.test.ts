/**
 * `profile doctor`'s pure verdict (src/commands/doctor/diagnose.ts), unit- and property-tested over
 * facts drawn from the report's own schemas: every finding is well formed and scrubbed, the verdict
 * follows the errors, each stale lock / unusable lock / orphan gives exactly one finding, a healthy
 * set-up gives none, and every printed fix pastes into a POSIX shell as the word it quotes.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as fc from "effect/FastCheck"
import { diagnose, type DoctorFacts, octal, report, shellQuote } from "../../src/commands/doctor/diagnose.js"
import type { Profile } from "../../src/domain/ProfileConfig.js"
import { DoctorProfileJson, LockCheckJson, PathCheckJson } from "../../src/schemas.js"
import { VERSION } from "../../src/version.js"

const pathCheck = Arbitrary.make(PathCheckJson)
const lockCheck = Arbitrary.make(LockCheckJson)
// the probed URL is always a URL (the fix for a DNS failure names its host)
const profileCheck = fc.tuple(Arbitrary.make(DoctorProfileJson), fc.webUrl()).map(([p, url]) => ({
  ...p,
  auth: { ...p.auth, url }
}))

/** Stored profiles for the checked ones, some with an alias, an override (with credentials) or managed. */
const storedFor = (olaresId: string): fc.Arbitrary<Profile> =>
  fc.record({
    name: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
    authUrlOverride: fc.option(fc.constantFrom("https://u:p@auth.example", "http://127.0.0.1:8787"), {
      nil: undefined
    }),
    insecureSkipVerify: fc.option(fc.boolean(), { nil: undefined }),
    managed: fc.option(fc.boolean(), { nil: undefined }),
    appName: fc.option(fc.string({ maxLength: 8 }), { nil: undefined })
  }).map((extra) => {
    const p: Record<string, unknown> = { olaresId }
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) p[k] = v
    return p as unknown as Profile
  })

const factsArb: fc.Arbitrary<DoctorFacts> = fc.record({
  backend: fc.constantFrom("file", "file-fallback", "memory", "keyring"),
  home: pathCheck,
  configFile: pathCheck,
  locksDir: pathCheck,
  dataDir: fc.option(pathCheck, { nil: null }),
  masterKey: fc.option(pathCheck, { nil: null }),
  profiles: fc.array(profileCheck, { maxLength: 4 }),
  locks: fc.array(lockCheck, { maxLength: 4 }),
  // typed errors always carry a message and a hint
  lockErrors: fc.array(
    fc.record({ path: fc.string(), message: fc.string({ minLength: 1 }), fix: fc.string({ minLength: 1 }) }),
    { maxLength: 2 }
  ),
  configError: fc.option(fc.record({ message: fc.string({ minLength: 1 }), hint: fc.string({ minLength: 1 }) }), {
    nil: undefined
  }),
  orphans: fc.array(
    fc.record({ path: fc.string(), olaresId: fc.option(fc.string({ minLength: 1 }), { nil: undefined }) }),
    { maxLength: 3 }
  ),
  reason: fc.option(fc.string(), { nil: undefined })
}).chain((r) =>
  fc.tuple(...r.profiles.map((p) => storedFor(p.olaresId))).map((stored): DoctorFacts => ({
    store: { backend: r.backend, location: "/d/olares-cli", reason: "test" },
    paths: { home: r.home, configFile: r.configFile, locksDir: r.locksDir, dataDir: r.dataDir, masterKey: r.masterKey },
    profiles: r.profiles,
    locks: r.locks,
    lockErrors: r.lockErrors,
    configError: r.configError,
    configProfiles: stored,
    userHome: "/home/u",
    tokenReasons: Object.fromEntries(r.profiles.map((p) => [p.olaresId, r.reason ?? "no exp claim"])),
    orphans: r.orphans
  }))
)

const CODES = new Set([
  "store_memory",
  "path_wrong_kind",
  "path_foreign_owner",
  "path_insecure",
  "path_not_writable",
  "config_unreadable",
  "no_profiles",
  "token_missing",
  "token_invalidated",
  "token_unreadable",
  "token_expired_no_refresh",
  "token_unparseable",
  "auth_unreachable",
  "token_orphan",
  "lock_stale",
  "lock_unusable"
])

// C0 and C1 controls and DEL: what a terminal would act on

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

/** Reads one POSIX shell word made of plain characters and '...' / \' pieces (what shellQuote writes). */
const shellWord = (s: string): string => {
  let out = ""
  for (let i = 0; i < s.length;) {
    if (s[i] === "'") {
      const end = s.indexOf("'", i + 1)
      if (end < 0) throw new Error(`unterminated quote in ${s}`)
      out += s.slice(i + 1, end)
      i = end + 1
    } else if (s[i] === "\\") {
      out += s[i + 1]
      i += 2
    } else if (/[A-Za-z0-9_@%+=:,./-]/.test(s[i]!)) {
      out += s[i]
      i++
    } else throw new Error(`unquoted ${JSON.stringify(s[i])} in ${s}`)
  }
  return out
}

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
const file = (path: string): PathCheckJson => ({ ...dir(path), kind: "file", mode: "0600", expectedMode: "0600" })

const healthyProfile = (olaresId: string, current: boolean): DoctorProfileJson =>
  ({
    name: olaresId,
    olaresId,
    current,
    status: "logged-in",
    hasRefreshToken: true,
    auth: {
      url: `https://auth.${olaresId.replace("@", ".")}`,
      source: "derived",
      insecureSkipVerify: false,
      checked: true,
      reachable: true,
      httpStatus: 200,
      errorKind: null,
      error: null,
      elapsedMs: 3
    }
  }) as DoctorProfileJson

describe("diagnose (properties)", () => {
  it.prop(
    "every finding is well formed, in a known code, and the same facts give the same findings",
    [factsArb],
    ([f]) => {
      const found = diagnose(f)
      for (const p of found) {
        expect(CODES.has(p.code), p.code).toBe(true)
        expect(["error", "warning"]).toContain(p.severity)
        expect(p.message.length).toBeGreaterThan(0)
        expect(p.fix.length).toBeGreaterThan(0)
      }
      expect(diagnose(f)).toEqual(found)
    }
  )

  it.prop(
    "the report: healthy exactly when no finding is an error; every text scrubbed and capped",
    [factsArb],
    ([f]) => {
      const found = diagnose(f)
      const doc = report(f)
      expect(doc.healthy).toBe(!found.some((p) => p.severity === "error"))
      expect(doc.problems.map((p) => [p.code, p.severity])).toEqual(found.map((p) => [p.code, p.severity]))
      expect({
        store: doc.store,
        paths: doc.paths,
        profiles: doc.profiles,
        locks: doc.locks,
        cliVersion: doc.cliVersion
      })
        .toEqual({ store: f.store, paths: f.paths, profiles: f.profiles, locks: f.locks, cliVersion: VERSION })
      for (const p of doc.problems) {
        for (const text of [p.subject, p.message, p.fix]) expect(CONTROL.test(text), JSON.stringify(text)).toBe(false)
        expect(p.subject.length).toBeLessThanOrEqual(513)
        expect(p.message.length).toBeLessThanOrEqual(2049)
        expect(p.fix.length).toBeLessThanOrEqual(2049)
      }
    }
  )

  it.prop("one finding per stale lock, per unusable lock and per orphan record", [factsArb], ([f]) => {
    const found = diagnose(f)
    const count = (code: string) => found.filter((p) => p.code === code)
    expect(count("lock_stale").map((p) => p.subject)).toEqual(f.locks.filter((l) => l.stale).map((l) => l.path))
    for (const p of count("lock_stale")) expect(p.fix).toBe(`rm -rf ${shellQuote(`${p.subject}.lock`)}`)
    expect(count("lock_unusable").map((p) => [p.subject, p.severity])).toEqual(
      (f.lockErrors ?? []).map((e) => [e.path, "error"])
    )
    expect(count("token_orphan").map((p) => p.subject)).toEqual((f.orphans ?? []).map((o) => o.path))
    // a config that cannot be read is one error, and then "no profiles" is not claimed
    expect(count("config_unreadable").length).toBe(f.configError === undefined ? 0 : 1)
    if (f.configError !== undefined) expect(count("no_profiles")).toEqual([])
  })

  it.prop(
    "a healthy set-up has no finding, whatever the profiles are called",
    [fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}@olares\.com$/), { minLength: 1, maxLength: 5 })],
    ([ids]) => {
      const f: DoctorFacts = {
        store: { backend: "file", location: "/d/olares-cli", reason: "test" },
        paths: {
          home: dir("/h"),
          configFile: file("/h/config.json"),
          locksDir: dir("/h/locks"),
          dataDir: dir("/d"),
          masterKey: file("/d/master.key")
        },
        profiles: ids.map((id, i) => healthyProfile(id, i === 0)),
        locks: ids.map((id) => ({
          name: `${id}.refresh.lock`,
          path: `/h/locks/${id}.refresh.lock`,
          held: false,
          stale: false
        })),
        configError: undefined,
        configProfiles: ids.map((olaresId) => ({ olaresId }) as Profile),
        userHome: "/home/u"
      }
      expect(diagnose(f)).toEqual([])
      expect(report(f).healthy).toBe(true)
    }
  )

  it.prop(
    "a directory is too open exactly when group or others have any bit",
    [fc.integer({ min: 0, max: 0o777 })],
    ([mode]) => {
      const f: DoctorFacts = {
        store: { backend: "file", location: "/d", reason: "test" },
        paths: {
          home: dir("/h", { mode: octal(mode) }),
          configFile: file("/h/config.json"),
          locksDir: dir("/h/locks"),
          dataDir: null,
          masterKey: null
        },
        profiles: [],
        locks: [],
        configError: undefined,
        configProfiles: [],
        userHome: "/home/u"
      }
      const insecure = diagnose(f).filter((p) => p.code === "path_insecure")
      expect(insecure.length).toBe((mode & 0o077) !== 0 ? 1 : 0)
      if (insecure.length === 1) expect(insecure[0]!.fix).toBe("chmod 700 /h")
    }
  )

  it.prop("shellQuote: the shell reads back exactly the word", [fc.string({ unit: "binary" })], ([s]) => {
    expect(shellWord(shellQuote(s))).toBe(s)
  })
})

describe("diagnose (units)", () => {
  it("order: store, paths, config, each profile (token then auth host), orphans, stale locks, unusable locks", () => {
    const f: DoctorFacts = {
      store: { backend: "memory", location: "(process memory)", reason: "forced" },
      paths: {
        home: dir("/h", { mode: "0755" }),
        configFile: file("/h/config.json"),
        locksDir: dir("/h/locks"),
        dataDir: null,
        masterKey: null
      },
      profiles: [{
        ...healthyProfile("bob@olares.com", true),
        status: "never",
        hasRefreshToken: null,
        auth: {
          ...healthyProfile("bob@olares.com", true).auth,
          reachable: false,
          httpStatus: null,
          errorKind: "refused",
          error: "connect ECONNREFUSED"
        }
      } as DoctorProfileJson],
      locks: [{ name: "config.lock", path: "/h/locks/config.lock", held: false, stale: true }],
      lockErrors: [{ path: "/h/locks/x.lock", message: "the lock file is a symbolic link", fix: "rm /h/locks/x.lock" }],
      configError: undefined,
      configProfiles: [{ olaresId: "bob@olares.com" } as Profile],
      userHome: "/home/u",
      orphans: [{ path: "/d/carol@olares.com.enc", olaresId: "carol@olares.com" }]
    }
    const found = diagnose(f)
    expect(found.map((p) => p.code)).toEqual([
      "store_memory",
      "path_insecure",
      "token_missing",
      "auth_unreachable",
      "token_orphan",
      "lock_stale",
      "lock_unusable"
    ])
    expect(found.find((p) => p.code === "auth_unreachable")).toMatchObject({
      subject: "bob@olares.com",
      message: "nothing listens at https://auth.bob.olares.com (connect ECONNREFUSED); is the server up?",
      fix: "curl -sS -o /dev/null -w '%{http_code}\\n' --max-time 10 https://auth.bob.olares.com/"
    })
    expect(found.find((p) => p.code === "token_orphan")!.fix).toBe(
      "olares-cli profile login --olares-id carol@olares.com"
    )
  })

  it("the report scrubs what a hand edit left in config values, and caps it", () => {
    const f: DoctorFacts = {
      store: { backend: "file", location: "/d", reason: "test" },
      paths: {
        home: dir("/h"),
        configFile: file("/h/config.json"),
        locksDir: dir("/h/locks"),
        dataDir: null,
        masterKey: null
      },
      profiles: [],
      locks: [],
      configError: {
        message: `config.json is not JSON: \u001b[31mred\u0007 ${"x".repeat(3000)}`,
        hint: "fix\u001b]0;title\u0007 it"
      },
      configProfiles: [],
      userHome: "/home/u"
    }
    const [p] = report(f).problems
    expect(p!.code).toBe("config_unreadable")
    expect(p!.message.startsWith("config.json is not JSON: red ")).toBe(true)
    expect(p!.message.length).toBe(2049)
    expect(p!.message.endsWith("…")).toBe(true)
    expect(p!.fix).toBe("fix it")
    expect(report(f).healthy).toBe(false)
  })
})
