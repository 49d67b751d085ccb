/**
 * Parity with the Go olares-cli v4.3 (issue 9 items 4-6, issue 10 item 11 second half), end to end
 * against the loopback server: ids the Go CLI writes (bare `alice`, an astral character), bare names
 * on lookup, the version flags and osVersion validation, `-o` in any case, the reference's login
 * error texts, `api -H Content-Type` with `--input`, the vault URL and the first `profile use`.
 * The record-name rule is checked against an independent per-rune sanitiser written here.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import fc from "fast-check"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { authTargetOf, profileServiceUrl } from "../../layers/HttpAuthLive.js"
import { makeLinuxFileKeyStore } from "../../layers/KeyStoreFile.js"
import { chooseCacheDir } from "../../src/domain/CacheDir.js"
import { OlaresId, serviceUrl, vaultUrl } from "../../src/domain/OlaresId.js"
import { goQuote, olaresVersionProblem } from "../../src/domain/OlaresVersion.js"
import { recordPath } from "../../src/domain/Paths.js"
import { useE2e } from "../support/e2e.js"
import { ALICE, mintJwt } from "../support/server.js"
import { useTempRoots } from "../support/tmp.js"

const e2e = useE2e()
const cli = e2e.cli
const tempRoot = useTempRoots("olares-parity-")

const storeDir = () => join(e2e.home.data, "olares-cli")
const store = () => makeLinuxFileKeyStore(storeDir())
const readRecord = (id: string) => Effect.runPromise(store().get(id))
const config = () => JSON.parse(readFileSync(join(e2e.home.home, "config.json"), "utf8"))
const writeConfig = (doc: unknown) => {
  mkdirSync(e2e.home.home, { recursive: true, mode: 0o700 })
  writeFileSync(join(e2e.home.home, "config.json"), JSON.stringify(doc, null, 2), { mode: 0o600 })
}
const seedRecord = (id: string, accessToken: string, refreshToken?: string) =>
  Effect.runPromise(
    store().set({
      olaresId: id,
      accessToken: Redacted.make(accessToken),
      ...(refreshToken === undefined ? {} : { refreshToken: Redacted.make(refreshToken) })
    })
  )
const importAs = async (olaresId: string, username: string, extra: ReadonlyArray<string> = []) => {
  const g = await e2e.server.issueGrant(username)
  return cli(["profile", "import", "--olares-id", olaresId, "--auth-url-override", e2e.server.url, ...extra], {
    env: { OLARES_REFRESH_TOKEN: g.refreshToken }
  })
}
const QUICK_OFF = { OLARES_CLI_QUICK: "0" }

// ---------------------------------------------------------------------------------------------
// Item 4: ids the Go CLI writes
// ---------------------------------------------------------------------------------------------

/** The Go CLI's record-file rule, written from the reference (regexp `[^a-zA-Z0-9._-]` over runes), not from our code. */
const goSafeFileName = (account: string): string => {
  let out = ""
  for (const rune of account) {
    const ascii = rune.length === 1 && /[a-zA-Z0-9._-]/.test(rune)
    out += ascii ? rune : "_"
  }
  return `${out}.enc`
}

describe("record file names (Go's per-rune sanitiser)", () => {
  it("for random ids, astral characters included, the .enc name is the Go CLI's", () => {
    const idChar = fc.oneof(
      fc.constantFrom(..."abcXYZ019._-@ /\\:*?\"<>|"),
      fc.integer({ min: 0x20, max: 0xd7ff }).map((c) => String.fromCodePoint(c)),
      fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c))
    )
    fc.assert(
      fc.property(fc.array(idChar, { minLength: 1, maxLength: 24 }).map((cs) => cs.join("")), (id) => {
        expect(recordPath("/d", id)).toBe(`/d/${goSafeFileName(id)}`)
      }),
      { numRuns: 500 }
    )
    expect(recordPath("/d", "😀bob@olares.com")).toBe("/d/_bob_olares.com.enc")
  })

  it("a Go-written profile whose id holds an emoji reads the same .enc file (quick and full path)", async () => {
    const id = "😀bob"
    writeConfig({ profiles: [{ olaresId: id }] })
    await seedRecord(id, await mintJwt({ ttl: 3600 }))
    // what the Go CLI names it: one `_` for the emoji (two UTF-16 units)
    expect(existsSync(join(storeDir(), "_bob.enc"))).toBe(true)
    expect(existsSync(join(storeDir(), "__bob.enc"))).toBe(false)
    for (const env of [{}, QUICK_OFF]) {
      const r = await cli(["profile", "list", "-o", "json"], { env })
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout).profiles).toMatchObject([{ olaresId: id, status: "logged-in" }])
    }
  })
})

describe("a profile the Go CLI stored under a bare id", () => {
  const seedGoAlice = async () => {
    const g = await e2e.server.issueGrant("alice", { ttlSeconds: -60 })
    writeConfig({ currentProfile: "alice", profiles: [{ olaresId: "alice", authUrlOverride: e2e.server.url }] })
    await seedRecord("alice", g.accessToken, g.refreshToken)
    return g
  }

  it("whoami --refresh and api work: the stored id is the key-store account and the lock name", async () => {
    const g = await seedGoAlice()
    const who = await cli(["profile", "whoami", "--refresh", "-o", "json"])
    expect(who.code, who.stderr).toBe(0)
    expect(JSON.parse(who.stdout)).toMatchObject({
      olaresId: "alice@olares.com",
      role: "owner",
      backendVersion: "1.12.6"
    })
    expect(e2e.server.hits("/api/refresh")).toBe(1)
    // the caches landed on the bare profile, and the rotated grant in its record: no twin anywhere
    expect(config().profiles).toMatchObject([{ olaresId: "alice", ownerRole: "owner", backendVersion: "1.12.6" }])
    expect(config().profiles).toHaveLength(1)
    const rec = Option.getOrThrow(await readRecord("alice"))
    expect(Redacted.value(rec.refreshToken!)).not.toBe(g.refreshToken)
    expect(e2e.server.isRefreshTokenLive(Redacted.value(rec.refreshToken!))).toBe(true)
    expect(Option.isNone(await readRecord("alice@olares.com"))).toBe(true)
    expect(existsSync(join(e2e.home.home, "locks", "alice.refresh.lock"))).toBe(true)

    const api = await cli(["api", "/api/olares-info"])
    expect(api.code, api.stderr).toBe(0)
    expect(JSON.parse(api.stdout).data.osVersion).toBe("1.12.6")
  })

  it("import --olares-id alice revives it in place instead of adding a twin", async () => {
    await seedGoAlice()
    const r = await importAs("alice", "alice")
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain("token stored via file (service \"olares-cli\", account \"alice\").")
    expect(config().profiles).toHaveLength(1)
    expect(config().profiles[0].olaresId).toBe("alice")
    expect((await cli(["profile", "whoami"])).code).toBe(0)
  })
})

describe("bare names resolve on lookup as on login", () => {
  it("`profile use bob` after `import --olares-id bob` (stored bob@olares.com), quick and full path; remove too", async () => {
    expect((await importAs("alice@olares.com", "alice")).code).toBe(0)
    expect((await importAs("bob", "bob")).code).toBe(0)
    expect(config().profiles.map((p: { olaresId: string }) => p.olaresId)).toEqual([
      "alice@olares.com",
      "bob@olares.com"
    ])
    for (const env of [{ OLARES_CLI_DEBUG: "1" }, QUICK_OFF]) {
      expect((await cli(["profile", "use", "alice"], { env })).stdout).toContain("switched to profile alice@olares.com")
      const r = await cli(["profile", "use", "bob"], { env })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toBe("switched to profile bob@olares.com (bob@olares.com)\n")
    }
    const rm = await cli(["profile", "remove", "--yes", "bob"])
    expect(rm.code, rm.stderr).toBe(0)
    expect(Option.isNone(await readRecord("bob@olares.com"))).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------------
// Item 5: version flags, osVersion validated before anything is cached
// ---------------------------------------------------------------------------------------------

describe("Olares versions", () => {
  it("parses like the reference (Masterminds NewVersion) and quotes like Go's %q", () => {
    for (const ok of ["1.12.6", "1.12.6-20260603", "1.12.0-rc.0", "v1.2", "1", "1.2.3+build.5"]) {
      expect(olaresVersionProblem(ok), ok).toBeUndefined()
    }
    expect(olaresVersionProblem("garbage!")).toBe("Invalid Semantic Version")
    expect(olaresVersionProblem("1.2.3-01")).toBe("Version segment starts with 0")
    expect(olaresVersionProblem("1.2.3\u001b[2J")).toBe("Invalid Semantic Version")
    expect(olaresVersionProblem(`1.2.3-${"a".repeat(100)}`)).toBe("longer than 64 characters")
    expect(goQuote("a\"b\u001b\u009b")).toBe("\"a\\\"b\\x1b\\u009b\"")
  })

  it("--olares-version is validated on every profile verb (usage error, nothing written, no network)", async () => {
    expect((await importAs("alice@olares.com", "alice")).code).toBe(0)
    const before = readFileSync(join(e2e.home.home, "config.json"), "utf8")
    e2e.server.reset()
    for (
      const args of [["list"], ["whoami"], ["use", "alice@olares.com"], ["login", "--olares-id", "carol@olares.com"]]
    ) {
      const r = await cli(["profile", ...args, "--olares-version", "garbage!"])
      expect(r.code, args.join(" ")).toBe(2)
      expect(r.stderr).toContain("Error: invalid --olares-version \"garbage!\": Invalid Semantic Version")
    }
    expect(e2e.server.requests()).toHaveLength(0)
    expect(readFileSync(join(e2e.home.home, "config.json"), "utf8")).toBe(before)
  })

  it("an osVersion that is not a semver is refused with the reference's text and never cached", async () => {
    e2e.server.setOsVersion("garbage!")
    const login = await cli(
      [
        "profile",
        "login",
        "--olares-id",
        "alice@olares.com",
        "--auth-url-override",
        e2e.server.url,
        "--password-stdin"
      ],
      { input: `${ALICE.password}\n` }
    )
    expect(login.code, login.stderr).toBe(0)
    expect(login.stderr).toContain(
      "warning: post-login version fetch failed: parse backend osVersion \"garbage!\": Invalid Semantic Version"
    )
    expect(config().profiles[0].backendVersion).toBeUndefined()

    const list = await cli(["profile", "list", "--refresh-version"])
    expect(list.code).toBe(0)
    expect(list.stderr).toContain(
      "warning: could not refresh backend version for the current profile: parse backend osVersion \"garbage!\""
    )
    const who = await cli(["profile", "whoami", "--refresh"])
    expect(who.code).toBe(1)
    expect(who.stderr).toContain("Error: parse backend osVersion \"garbage!\": Invalid Semantic Version")
    // a 100 kB "version" that is otherwise valid semver is refused too, shown cut
    e2e.server.setOsVersion(`1.2.3-${"x".repeat(100_000)}`)
    const big = await cli(["profile", "whoami", "--refresh-version"])
    expect(big.code).toBe(1)
    expect(big.stderr.length).toBeLessThan(1000)
    expect(config().profiles[0].backendVersion).toBeUndefined()
  })

  it("--olares-version replaces detection (no /api/olares-info), before or after the verb; --refresh-version re-reads", async () => {
    const login = await cli(
      [
        "profile",
        "login",
        "--olares-id",
        "alice@olares.com",
        "--auth-url-override",
        e2e.server.url,
        "--password-stdin",
        "--olares-version",
        "1.12.0-rc.0"
      ],
      { input: `${ALICE.password}\n` }
    )
    expect(login.code, login.stderr).toBe(0)
    expect(e2e.server.hits("/api/olares-info")).toBe(0)
    expect(config().profiles[0].backendVersion).toBe("1.12.0-rc.0")

    expect((await cli(["profile", "list", "--refresh-version", "--olares-version", "1.12.6-20260603"])).code).toBe(0)
    expect(config().profiles[0].backendVersion).toBe("1.12.6-20260603")
    const parent = await cli(["profile", "--olares-version", "1.13.0", "whoami", "--refresh-version", "-o", "json"])
    expect(parent.code, parent.stderr).toBe(0)
    expect(JSON.parse(parent.stdout).backendVersion).toBe("1.13.0")
    expect(e2e.server.hits("/api/olares-info")).toBe(0)

    e2e.server.setOsVersion("1.12.7")
    const who = await cli(["profile", "whoami", "--refresh-version", "-o", "json"])
    expect(who.code, who.stderr).toBe(0)
    expect(JSON.parse(who.stdout).backendVersion).toBe("1.12.7")
    expect(e2e.server.hits("/api/olares-info")).toBe(1)
    // --refresh-version alone does not re-read the role
    expect(e2e.server.hits("/api/backend/v1/user-info")).toBe(1)
  })
})

// ---------------------------------------------------------------------------------------------
// Item 6: smaller parity items
// ---------------------------------------------------------------------------------------------

describe("-o / --output", () => {
  it("takes any case; anything else is the reference's usage error (exit 2)", async () => {
    expect((await importAs("alice@olares.com", "alice")).code).toBe(0)
    for (
      const args of [["profile", "list", "-o", "JSON"], ["profile", "list", "--output=Json"], [
        "profile",
        "whoami",
        "-o",
        "JSON"
      ]]
    ) {
      for (const env of [{}, QUICK_OFF]) {
        const r = await cli(args, { env })
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0)
        expect(() => JSON.parse(r.stdout)).not.toThrow()
      }
    }
    const bad = await cli(["profile", "list", "-o", "yaml"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("unsupported --output \"yaml\" (allowed: table, json)")
    expect(bad.stdout).toBe("")
  })
})

describe("first/second-factor refusals", () => {
  it("use the reference's text, keeping exit 4 (LoginRejected)", async () => {
    const r = await cli(
      [
        "profile",
        "login",
        "--olares-id",
        "alice@olares.com",
        "--auth-url-override",
        e2e.server.url,
        "--password-stdin"
      ],
      { input: "not-the-password\n" }
    )
    expect(r.code).toBe(4)
    expect(r.stderr).toContain(
      "Error: /api/firstfactor returned HTTP 401: Authentication failed. Check your credentials."
    )
  })
})

describe("api -H Content-Type with --input", () => {
  it("sends the caller's content type for a file and for stdin", async () => {
    expect((await importAs("alice@olares.com", "alice")).code).toBe(0)
    const body = join(tempRoot(), "body.json")
    writeFileSync(body, "{\"hello\":1}")
    const file = await cli(["api", "-X", "POST", "/api/echo", "-H", "Content-Type: application/json", "--input", body])
    expect(file.code, file.stderr).toBe(0)
    expect(e2e.server.lastRequest("/api/echo")!.headers["content-type"]).toBe("application/json")
    const stdin = await cli(["api", "-X", "POST", "/api/echo", "-H", "content-type: text/plain", "--input", "-"], {
      input: "hi"
    })
    expect(stdin.code, stdin.stderr).toBe(0)
    expect(e2e.server.lastRequest("/api/echo")!.headers["content-type"]).toBe("text/plain")
    expect(JSON.parse(stdin.stdout).bodyLength).toBe(2)
    // without -H the default stays
    expect((await cli(["api", "-X", "POST", "/api/echo", "--input", body])).code).toBe(0)
    expect(e2e.server.lastRequest("/api/echo")!.headers["content-type"]).toBe("application/octet-stream")
  })
})

describe("the vault URL", () => {
  it("carries /server, with the profile's prefix", () => {
    const id = OlaresId.make("alice@olares.com")
    expect(vaultUrl(id)).toBe("https://vault.alice.olares.com/server")
    expect(serviceUrl("vault", id, { localUrlPrefix: "dev." })).toBe("https://vault.dev.alice.olares.com/server")
    expect(profileServiceUrl({ olaresId: id }, id)("vault")).toBe("https://vault.alice.olares.com/server")
    expect(profileServiceUrl({ olaresId: id }, id)("files")).toBe("https://files.alice.olares.com")
    expect(authTargetOf({ olaresId: "alice" }, id).account).toBe("alice")
  })
})

describe("the first `profile use` with no current profile", () => {
  it("leaves the pointers as the Go CLI does: no previous profile (quick and full path)", async () => {
    for (const env of [{ OLARES_CLI_DEBUG: "1" }, QUICK_OFF]) {
      writeConfig({ profiles: [{ olaresId: "alice@olares.com" }, { olaresId: "bob@olares.com" }] })
      const r = await cli(["profile", "use", "bob@olares.com"], { env })
      expect(r.code, r.stderr).toBe(0)
      expect(config()).toMatchObject({ currentProfile: "bob@olares.com" })
      expect(config().previousProfile).toBeUndefined()
      const back = await cli(["profile", "use", "-"], { env })
      expect(back.code).toBe(6)
      expect(back.stderr).toContain("no previous profile to switch back to")
    }
  })
})

describe("an OLARES_CLI_CACHE_DIR that cannot be written", () => {
  it("falls back to a private per-user place, never a shared one under the temp dir", () => {
    const root = tempRoot()
    const blocked = join(root, "cache-is-a-file")
    writeFileSync(blocked, "")
    const runtime = join(root, "run")
    mkdirSync(runtime, { mode: 0o700 })
    const uid = process.getuid!()
    const viaRuntime = chooseCacheDir({ OLARES_CLI_CACHE_DIR: blocked, XDG_RUNTIME_DIR: runtime }, "/home/x", uid)
    expect(viaRuntime.env.OLARES_CLI_CACHE_DIR).toBe(join(runtime, "olares-cli"))
    expect(viaRuntime.warning).toContain(`OLARES_CLI_CACHE_DIR ${blocked} is not writable`)
    // a runtime dir others may enter is not private: the per-user defaults under home instead
    const viaHome = chooseCacheDir({ OLARES_CLI_CACHE_DIR: blocked, XDG_RUNTIME_DIR: root }, "/home/x", uid + 1)
    expect(viaHome.env.OLARES_CLI_CACHE_DIR).toBeUndefined()
    expect(viaHome.warning).toContain("per-user defaults under /home/x")
    // no home either: keep it (its writes then fail naming the path), never a temp-dir fallback
    expect(chooseCacheDir({ OLARES_CLI_CACHE_DIR: blocked }, "", uid).env.OLARES_CLI_CACHE_DIR).toBe(blocked)
    // writable, or not needed: untouched
    expect(chooseCacheDir({ OLARES_CLI_CACHE_DIR: join(root, "new", "cache") }, "/home/x", uid).warning).toBeUndefined()
    expect(
      chooseCacheDir({ OLARES_CLI_CACHE_DIR: blocked, OLARES_CLI_HOME: "/a", OLARES_CLI_DATA_DIR: "/b" }, "/h", uid)
        .warning
    )
      .toBeUndefined()
  })

  it("end to end: config and tokens under the cache dir, and the fallback with its warning", async () => {
    const root = tempRoot()
    const cache = join(root, "cache")
    const env = { OLARES_CLI_HOME: "", OLARES_CLI_DATA_DIR: "", OLARES_CLI_CACHE_DIR: cache, HOME: join(root, "home") }
    const g = await e2e.server.issueGrant("alice")
    const r = await cli(
      ["profile", "import", "--olares-id", "alice@olares.com", "--auth-url-override", e2e.server.url],
      {
        env: { ...env, OLARES_REFRESH_TOKEN: g.refreshToken }
      }
    )
    expect(r.code, r.stderr).toBe(0)
    expect(existsSync(join(cache, "config", "config.json"))).toBe(true)
    expect(existsSync(join(cache, "keychain", "olares-cli", "alice_olares.com.enc"))).toBe(true)

    const blocked = join(root, "blocked")
    writeFileSync(blocked, "")
    const list = await cli(["profile", "list"], { env: { ...env, OLARES_CLI_CACHE_DIR: blocked } })
    expect(list.code, list.stderr).toBe(0)
    expect(list.stderr).toContain(`warning: OLARES_CLI_CACHE_DIR ${blocked} is not writable`)
    expect(list.stdout).toContain("no profiles configured.")
  })
})
