/**
 * End to end: the built CLI (dist/bin.cjs) spawned against the loopback Olares server, one temp home
 * per test. Covers every profile command and every row of the error / exit-code table.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { makeLinuxFileKeyStore } from "../../layers/KeyStoreFile.js"
import { useE2e } from "../support/e2e.js"
import { ALICE, BOB } from "../support/server.js"

const e2e = useE2e()

const cli = e2e.cli

const loginAlice = (extra: ReadonlyArray<string> = []) =>
  cli([
    "profile",
    "login",
    "--olares-id",
    "alice@olares.com",
    "--auth-url-override",
    e2e.server.url,
    "--password-stdin",
    ...extra
  ], {
    input: `${ALICE.password}\n`
  })

const storeDir = () => join(e2e.home.data, "olares-cli")
const store = () => makeLinuxFileKeyStore(storeDir())
const readRecord = (id: string) => Effect.runPromise(store().get(id))
const seedToken = (id: string, accessToken: string, extra: { invalidatedAt?: number; refreshToken?: string } = {}) =>
  Effect.runPromise(
    store().set({
      olaresId: id,
      accessToken: Redacted.make(accessToken),
      ...(extra.refreshToken !== undefined ? { refreshToken: Redacted.make(extra.refreshToken) } : {})
    }).pipe(
      Effect.zipRight(
        extra.invalidatedAt !== undefined ? store().markInvalidated(id, extra.invalidatedAt) : Effect.void
      )
    )
  )
const config = () => JSON.parse(readFileSync(join(e2e.home.home, "config.json"), "utf8"))
const mode = (p: string) => statSync(p).mode & 0o777

/** Imports a profile from a fresh server grant (no password involved). */
const importProfile = async (username: string, extra: ReadonlyArray<string> = []) => {
  const g = await e2e.server.issueGrant(username)
  return cli([
    "profile",
    "import",
    "--olares-id",
    `${username}@olares.com`,
    "--auth-url-override",
    e2e.server.url,
    ...extra
  ], {
    env: { OLARES_REFRESH_TOKEN: g.refreshToken }
  })
}

describe("profile login", () => {
  it("logs in with --password-stdin, stores the token privately, fills the role and version caches", async () => {
    const r = await loginAlice()
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("logged in as alice@olares.com (profile: alice@olares.com)")
    expect(r.stdout).toContain("switched current profile to alice@olares.com")
    expect(r.stdout).toContain("token stored via file (service \"olares-cli\", account \"alice@olares.com\").")
    expect(r.stdout).toContain("role: Owner")
    expect(e2e.server.hits("/api/firstfactor")).toBe(1)
    const cfg = config()
    expect(cfg.currentProfile).toBe("alice@olares.com")
    expect(cfg.profiles[0]).toMatchObject({
      olaresId: "alice@olares.com",
      ownerRole: "owner",
      backendVersion: "1.12.6"
    })
    expect(JSON.stringify(cfg)).not.toMatch(/accessToken|refreshToken|eyJ/)
    expect(mode(e2e.home.home)).toBe(0o700)
    expect(mode(join(e2e.home.home, "config.json"))).toBe(0o600)
    expect(mode(storeDir())).toBe(0o700)
    expect(mode(join(storeDir(), "master.key"))).toBe(0o600)
    expect(mode(join(storeDir(), "alice_olares.com.enc"))).toBe(0o600)
    const rec = await readRecord("alice@olares.com")
    expect(rec._tag).toBe("Some")
  })

  it("bare `alice` means alice@olares.com; --name sets the alias", async () => {
    const r = await cli(
      [
        "profile",
        "login",
        "--olares-id",
        "alice",
        "--name",
        "home",
        "--auth-url-override",
        e2e.server.url,
        "--password-stdin"
      ],
      { input: `${ALICE.password}\n` }
    )
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("logged in as alice@olares.com (profile: home)")
    expect(config().currentProfile).toBe("home")
  })

  it("logs in with TOTP via --totp; without it and without a TTY fails TotpRequired (exit 2)", async () => {
    const args = [
      "profile",
      "login",
      "--olares-id",
      "bob@olares.com",
      "--auth-url-override",
      e2e.server.url,
      "--password-stdin"
    ]
    const noCode = await cli(args, { input: `${BOB.password}\n` })
    expect(noCode.code).toBe(2)
    expect(noCode.stderr).toContain("two-factor authentication required: re-run with --totp <code>")
    const ok = await cli([...args, "--totp", e2e.server.totpNow("bob")], { input: `${BOB.password}\n` })
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain("logged in as bob@olares.com")
    expect(ok.stdout).toContain("role: Admin")
    expect(e2e.server.hits("/api/secondfactor/totp")).toBe(1)
  })

  it("a wrong password or TOTP code is LoginRejected (exit 4) and stores nothing", async () => {
    const bad = await cli(
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
    expect(bad.code).toBe(4)
    expect(bad.stderr).toContain("/api/firstfactor")
    expect(bad.stderr).not.toContain("not-the-password")
    const wrongCode = String((Number(e2e.server.totpNow("bob")) + 500_000) % 1_000_000).padStart(6, "0")
    const badTotp = await cli(
      [
        "profile",
        "login",
        "--olares-id",
        "bob@olares.com",
        "--auth-url-override",
        e2e.server.url,
        "--password-stdin",
        "--totp",
        wrongCode
      ],
      { input: `${BOB.password}\n` }
    )
    expect(badTotp.code).toBe(4)
    expect(existsSync(join(e2e.home.home, "config.json"))).toBe(false)
  })

  it("refuses re-login over a valid token (exit 5) before asking for a password", async () => {
    expect((await loginAlice()).code).toBe(0)
    const again = await loginAlice()
    expect(again.code).toBe(5)
    expect(again.stderr).toMatch(/already authenticated for alice@olares\.com \(expires in \d+m\d+s\)\./)
    expect(again.stderr).toContain("to re-authenticate, run: olares-cli profile remove alice@olares.com")
    expect(e2e.server.hits("/api/firstfactor")).toBe(1)
  })

  it("refuses re-login over a token without exp (ExpiryUnknown, exit 5)", async () => {
    // the guard is for configured profiles (a stray record is replaced: see secdisk.test.ts)
    mkdirSync(e2e.home.home, { recursive: true, mode: 0o700 })
    writeFileSync(
      join(e2e.home.home, "config.json"),
      JSON.stringify({ profiles: [{ olaresId: "alice@olares.com" }] }),
      { mode: 0o600 }
    )
    await seedToken("alice@olares.com", await e2e.server.mintJwt({ noExp: true }))
    const r = await loginAlice()
    expect(r.code).toBe(5)
    expect(r.stderr).toContain(
      "a token is already stored for alice@olares.com but its expiry can't be determined client-side."
    )
  })

  it("writes over an expired or invalidated token, clearing invalidatedAt", async () => {
    await seedToken("alice@olares.com", await e2e.server.mintJwt({ ttl: -60 }), { invalidatedAt: 1_700_000_000_000 })
    const r = await loginAlice()
    expect(r.code).toBe(0)
    const rec = await readRecord("alice@olares.com")
    expect(rec._tag === "Some" && rec.value.invalidatedAt).toBeFalsy()
  })

  it("usage errors exit 2: missing/blank/malformed --olares-id, --password on argv, empty password, no TTY", async () => {
    const missing = await cli(["profile", "login", "--password-stdin"], { input: "x\n" })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("--olares-id is required")

    const malformed = await cli(["profile", "login", "--olares-id", "a@b@c", "--password-stdin"], { input: "x\n" })
    expect(malformed.code).toBe(2)
    expect(malformed.stderr).toContain("more than one '@'")
    const spaces = await cli(["profile", "login", "--olares-id", "al ice@olares.com", "--password-stdin"], {
      input: "x\n"
    })
    expect(spaces.code).toBe(2)

    const argvPw = await cli(["profile", "login", "--olares-id", "alice", "--password", "hunter2-secret"])
    expect(argvPw.code).toBe(2)
    expect(argvPw.stderr).toContain("there is no --password flag")
    expect(argvPw.stderr + argvPw.stdout).not.toContain("hunter2-secret")
    const argvPwEq = await cli(["profile", "login", "--olares-id", "alice", "--password=hunter2-secret"])
    expect(argvPwEq.code).toBe(2)

    const empty = await cli(
      ["profile", "login", "--olares-id", "alice", "--auth-url-override", e2e.server.url, "--password-stdin"],
      { input: "\n" }
    )
    expect(empty.code).toBe(2)
    expect(empty.stderr).toContain("password is empty")

    const noTty = await cli(["profile", "login", "--olares-id", "alice", "--auth-url-override", e2e.server.url])
    expect(noTty.code).toBe(2)
    expect(noTty.stderr).toContain("stdin is not a terminal; pass --password-stdin and pipe the password instead")
    expect(e2e.server.hits("/api/firstfactor")).toBe(0)
  })

  it("--no-switch keeps the current profile; the first profile still becomes current", async () => {
    expect((await importProfile("bob", ["--no-switch"])).code).toBe(0)
    expect(config().currentProfile).toBe("bob@olares.com")
    const r = await loginAlice(["--no-switch"])
    expect(r.code).toBe(0)
    expect(r.stdout).not.toContain("switched current profile")
    expect(config().currentProfile).toBe("bob@olares.com")
  })

  it("switching prints the previous profile and how to go back", async () => {
    expect((await importProfile("bob")).code).toBe(0)
    const r = await loginAlice()
    expect(r.stdout).toContain("previous profile: bob@olares.com (use 'olares-cli profile use -' to switch back)")
    expect(config()).toMatchObject({ currentProfile: "alice@olares.com", previousProfile: "bob@olares.com" })
  })
})

describe("profile import", () => {
  it("imports from OLARES_REFRESH_TOKEN with one /api/refresh and stores the rotated tokens", async () => {
    const r = await importProfile("alice")
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("imported credentials for alice@olares.com (profile: alice@olares.com)")
    expect(e2e.server.hits("/api/refresh")).toBe(1)
    const rec = await readRecord("alice@olares.com")
    expect(rec._tag).toBe("Some")
    if (rec._tag === "Some") expect(e2e.server.isRefreshTokenLive(Redacted.value(rec.value.refreshToken!))).toBe(true)
  })

  it("imports from --refresh-token-stdin and from --refresh-token", async () => {
    const g = await e2e.server.issueGrant("alice")
    const viaStdin = await cli(
      [
        "profile",
        "import",
        "--olares-id",
        "alice@olares.com",
        "--auth-url-override",
        e2e.server.url,
        "--refresh-token-stdin"
      ],
      { input: `${g.refreshToken}\n` }
    )
    expect(viaStdin.code).toBe(0)
    const g2 = await e2e.server.issueGrant("bob")
    const viaFlag = await cli([
      "profile",
      "import",
      "--olares-id",
      "bob@olares.com",
      "--auth-url-override",
      e2e.server.url,
      "--refresh-token",
      g2.refreshToken
    ])
    expect(viaFlag.code).toBe(0)
  })

  it("keeps the old refresh token when the server does not rotate", async () => {
    e2e.server.setRotateRefreshTokens(false)
    try {
      const g = await e2e.server.issueGrant("alice")
      const r = await cli(["profile", "import", "--olares-id", "alice", "--auth-url-override", e2e.server.url], {
        env: { OLARES_REFRESH_TOKEN: g.refreshToken }
      })
      expect(r.code).toBe(0)
      const rec = await readRecord("alice@olares.com")
      expect(rec._tag === "Some" && Redacted.value(rec.value.refreshToken!)).toBe(g.refreshToken)
    } finally {
      e2e.server.setRotateRefreshTokens(true)
    }
  })

  it("a dead refresh token is TokenInvalidated (exit 4); no token is usage (exit 2); empty is exit 2", async () => {
    const g = await e2e.server.issueGrant("alice")
    e2e.server.revokeGrants("alice")
    const dead = await cli(["profile", "import", "--olares-id", "alice", "--auth-url-override", e2e.server.url], {
      env: { OLARES_REFRESH_TOKEN: g.refreshToken }
    })
    expect(dead.code).toBe(4)
    expect(dead.stderr).toContain("refresh token for alice@olares.com became invalid at")
    expect(dead.stderr).toContain("please run: olares-cli profile login --olares-id alice@olares.com")

    const none = await cli(["profile", "import", "--olares-id", "alice", "--auth-url-override", e2e.server.url])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain("--refresh-token is required")

    const empty = await cli([
      "profile",
      "import",
      "--olares-id",
      "alice",
      "--refresh-token-stdin",
      "--auth-url-override",
      e2e.server.url
    ], {
      input: "\n"
    })
    expect(empty.code).toBe(2)
    expect(empty.stderr).toContain("refresh token is empty")
  })

  it("a server error is transient (exit 1): names the endpoint, suggests no login, stores nothing", async () => {
    e2e.server.setFault("/api/refresh", { status: 500 })
    const g = await e2e.server.issueGrant("alice")
    const r = await cli(["profile", "import", "--olares-id", "alice", "--auth-url-override", e2e.server.url], {
      env: { OLARES_REFRESH_TOKEN: g.refreshToken }
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("/api/refresh")
    expect(r.stderr).not.toContain("profile login")
    expect(existsSync(join(e2e.home.home, "config.json"))).toBe(false)
  })
})

describe("profile list", () => {
  it("prints the empty-state hint", async () => {
    const r = await cli(["profile", "list"])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      "no profiles configured.\nrun `olares-cli profile login --olares-id <id>` or `olares-cli profile import --olares-id <id> --refresh-token <tok>` to add one.\n"
    )
  })

  it("computes every STATUS locally, marks the current profile, shows VERSION", async () => {
    const ids = ["alice", "bob", "carol", "dave", "erin", "frank"]
    for (const u of ["carol", "dave", "erin", "frank"]) e2e.server.addUser({ username: u, password: `${u}-password` })
    for (const u of ids) expect((await importProfile(u, ["--no-switch"])).code).toBe(0)
    // alice: logged-in (as imported); bob: expired; carol: invalidated; dave: never; erin: unparseable; frank: unknown.
    await seedToken("bob@olares.com", await e2e.server.mintJwt({ ttl: -60 }), { refreshToken: "rt-bob-unused" })
    await seedToken("carol@olares.com", await e2e.server.mintJwt({ ttl: 3600 }), { invalidatedAt: 1_700_000_000_000 })
    await Effect.runPromise(store().remove("dave@olares.com"))
    await seedToken("erin@olares.com", "not-a-jwt")
    writeFileSync(join(storeDir(), "frank_olares.com.enc"), Buffer.alloc(40, 7))
    const before = e2e.server.stats().hits
    const r = await cli(["profile", "list"])
    expect(r.code).toBe(0)
    expect(e2e.server.stats().hits).toEqual(before) // no network
    const lines = r.stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(/^ {4}NAME +OLARES-ID +STATUS +VERSION$/)
    const row = (id: string) => lines.find((l) => l.includes(` ${id} `))!
    expect(row("alice@olares.com")).toMatch(/^\* +alice@olares\.com +alice@olares\.com +logged-in +1\.12\.6$/)
    expect(row("bob@olares.com")).toMatch(/ expired /)
    expect(row("carol@olares.com")).toMatch(/ invalidated /)
    expect(row("dave@olares.com")).toMatch(/ never /)
    expect(row("erin@olares.com")).toMatch(/ logged-in \(unparseable token\) /)
    expect(row("frank@olares.com")).toMatch(/ unknown /)
    expect(r.stdout).not.toContain("\u001b[") // no colour when piped

    const json = await cli(["profile", "list", "-o", "json"])
    expect(json.code).toBe(0)
    const doc = JSON.parse(json.stdout)
    expect(doc.profiles.map((p: { status: string }) => p.status)).toEqual([
      "logged-in",
      "expired",
      "invalidated",
      "never",
      "logged-in (unparseable token)",
      "unknown"
    ])
    expect(doc.profiles[0]).toEqual({
      current: true,
      name: "alice@olares.com",
      olaresId: "alice@olares.com",
      status: "logged-in",
      version: "1.12.6"
    })
  })

  it("--refresh-version re-reads the current profile's version; a failure is only a warning", async () => {
    expect((await importProfile("alice")).code).toBe(0)
    e2e.server.setOsVersion("1.12.7-20261101")
    const r = await cli(["profile", "list", "--refresh-version"])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("1.12.7-20261101")
    e2e.server.setFault("/api/olares-info", { status: 502 })
    const failed = await cli(["profile", "list", "--refresh-version"])
    expect(failed.code).toBe(0)
    expect(failed.stderr).toContain("warning: could not refresh backend version for the current profile")
    expect(failed.stdout).toContain("1.12.7-20261101")
  })
})

describe("profile use", () => {
  it("switches by olaresId or alias, `use -` swaps back, unknown keys exit 6", async () => {
    expect((await importProfile("alice", ["--name", "home"])).code).toBe(0)
    expect((await importProfile("bob")).code).toBe(0)
    const toAlias = await cli(["profile", "use", "home"])
    expect(toAlias.code).toBe(0)
    expect(toAlias.stdout).toBe("switched to profile home (alice@olares.com)\n")
    const back = await cli(["profile", "use", "-"])
    expect(back.stdout).toBe("switched to profile bob@olares.com (bob@olares.com)\n")
    const again = await cli(["profile", "use", "-"])
    expect(again.stdout).toBe("switched to profile home (alice@olares.com)\n")
    expect(config()).toMatchObject({ currentProfile: "home", previousProfile: "bob@olares.com" })

    const unknown = await cli(["profile", "use", "nobody"])
    expect(unknown.code).toBe(6)
    expect(unknown.stderr).toContain("profile \"nobody\" not found")
    expect(unknown.stderr).toContain("olares-cli profile list")
  })

  it("`use -` takes options after the `-` too (--no-input, as agents pass it)", async () => {
    expect((await importProfile("alice")).code).toBe(0)
    expect((await importProfile("bob")).code).toBe(0)
    const r = await cli(["profile", "use", "-", "--no-input"])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("switched to profile alice@olares.com (alice@olares.com)\n")
    const before = await cli(["profile", "use", "--no-input", "-"])
    expect(before.stdout).toBe("switched to profile bob@olares.com (bob@olares.com)\n")
  })

  it("`use -` with no previous profile exits 6", async () => {
    expect((await importProfile("alice")).code).toBe(0)
    const r = await cli(["profile", "use", "-"])
    expect(r.code).toBe(6)
    expect(r.stderr).toContain("no previous profile to switch back to")
  })
})

describe("profile remove", () => {
  it("removes profile and token, falls back to the previous profile, deletes the master key after the last", async () => {
    expect((await importProfile("alice")).code).toBe(0)
    expect((await importProfile("bob")).code).toBe(0)
    const r = await cli(["profile", "remove", "bob@olares.com", "--yes"])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("removed profile bob@olares.com (bob@olares.com)")
    expect(r.stdout).toContain("current profile is now: alice@olares.com")
    expect(existsSync(join(storeDir(), "bob_olares.com.enc"))).toBe(false)
    expect(config().profiles).toHaveLength(1)

    const last = await cli(["profile", "remove", "alice@olares.com", "--yes"])
    expect(last.code).toBe(0)
    expect(last.stdout).toContain("no profiles remain.")
    expect(last.stdout).toContain("cleaned up keychain storage for service \"olares-cli\".")
    // no record left anywhere in the data dir: the key goes (the directory, shared with other homes, stays)
    expect(readdirSync(storeDir()).filter((f) => f !== "locks")).toEqual([])
    expect(config()).toEqual({})
  })

  it("unknown profile exits 6 and touches nothing", async () => {
    expect((await importProfile("alice")).code).toBe(0)
    const before = readFileSync(join(e2e.home.home, "config.json"), "utf8")
    const r = await cli(["profile", "remove", "nobody", "--yes"])
    expect(r.code).toBe(6)
    expect(readFileSync(join(e2e.home.home, "config.json"), "utf8")).toBe(before)
    expect(readdirSync(storeDir())).toContain("alice_olares.com.enc")
  })
})

describe("profile whoami", () => {
  it("renders from cache, --refresh re-reads role and version, -o json has the documented fields", async () => {
    expect((await importProfile("bob")).code).toBe(0)
    e2e.server.reset()
    const cached = await cli(["profile", "whoami"])
    expect(cached.code).toBe(0)
    expect(cached.stdout).toContain("bob@olares.com — Admin")
    expect(cached.stdout).toMatch(/from cache, refreshed \d+s ago/)
    expect(e2e.server.hits("/api/backend/v1/user-info")).toBe(0)

    const fresh = await cli(["profile", "whoami", "--refresh", "-o", "json"])
    expect(fresh.code).toBe(0)
    const doc = JSON.parse(fresh.stdout)
    expect(doc).toMatchObject({
      olaresId: "bob@olares.com",
      role: "admin",
      roleLabel: "Admin",
      source: "server",
      backendVersion: "1.12.6"
    })
    expect(e2e.server.hits("/api/backend/v1/user-info")).toBe(1)
    expect(e2e.server.hits("/api/olares-info")).toBe(1)
  })

  it("NoProfile and NotLoggedIn exit 3; JSON errors carry code, status and action", async () => {
    const none = await cli(["profile", "whoami"])
    expect(none.code).toBe(3)
    expect(none.stderr).toContain("no Olares profile is configured")
    const noneJson = await cli(["profile", "whoami", "-o", "json"])
    expect(noneJson.code).toBe(3)
    expect(JSON.parse(noneJson.stderr).error).toMatchObject({
      code: "auth_no_profile",
      status: "NoProfile",
      exitCode: 3,
      retryable: false
    })

    expect((await importProfile("alice")).code).toBe(0)
    await Effect.runPromise(store().remove("alice@olares.com"))
    const notLoggedIn = await cli(["profile", "whoami", "-o", "json"])
    expect(notLoggedIn.code).toBe(3)
    expect(JSON.parse(notLoggedIn.stderr).error).toMatchObject({
      code: "auth_not_logged_in",
      action: "olares-cli profile login --olares-id alice@olares.com"
    })
  })

  it("an invalidated profile fails fast with TokenInvalidated (exit 4) and no network", async () => {
    expect((await importProfile("alice")).code).toBe(0)
    await Effect.runPromise(store().markInvalidated("alice@olares.com", 1_700_000_000_000))
    e2e.server.reset()
    const r = await cli(["profile", "whoami", "--refresh"])
    expect(r.code).toBe(4)
    expect(r.stderr).toContain("refresh token for alice@olares.com became invalid at 2023-11-14T22:13:20Z")
    expect(e2e.server.stats().hits).toEqual({})
  })
})

describe("help and usage", () => {
  it("every command has --help with examples; unknown flags are usage errors (exit 2)", async () => {
    for (const cmd of ["login", "import", "list", "use", "remove", "whoami"]) {
      const r = await cli(["profile", cmd, "--help"])
      expect(r.code, cmd).toBe(0)
      expect(r.stdout, cmd).toContain("EXAMPLES")
    }
    const unknown = await cli(["profile", "list", "--bogus"])
    expect(unknown.code).toBe(2)
  })

  it("help and usage errors are plain text when piped (no ANSI escapes for scripts and agents)", async () => {
    for (const args of [["--help"], ["profile", "--help"], ["profile", "use", "--help"], ["api", "--help"]]) {
      const r = await cli(args)
      expect(r.code, args.join(" ")).toBe(0)
      expect(r.stdout, args.join(" ")).toContain("USAGE")
      expect(r.stdout, args.join(" ")).not.toContain("\u001b")
    }
    const unknown = await cli(["profile", "list", "--bogus"])
    expect(unknown.stderr).toContain("--bogus")
    expect(unknown.stderr).not.toContain("\u001b")
  })
})

describe("aliases", () => {
  it("re-login with a new --name renames the profile and the current pointer follows it", async () => {
    expect((await importProfile("alice")).code).toBe(0)
    await seedToken("alice@olares.com", await e2e.server.mintJwt({ ttl: -60 }))
    const r = await loginAlice(["--name", "home"])
    expect(r.code).toBe(0)
    expect(config()).toMatchObject({ currentProfile: "home" })
    expect(config().previousProfile).toBeUndefined()
    const list = await cli(["profile", "list"])
    expect(list.stdout).toMatch(/^\* +home +alice@olares\.com +logged-in/m)
  })
})
