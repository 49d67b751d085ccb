/**
 * `-o json` is a contract: the real output of list, whoami and doctor, and of failures under
 * `-o json`, decoded with the Schemas in src/schemas.ts, unknown keys rejected. stdout carries
 * exactly one JSON document (warnings go to stderr), and every error envelope's `exitCode` is the
 * process exit code.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, expectTypeOf, it } from "vitest"
import { makeLinuxFileKeyStore } from "../../layers/KeyStoreFile.js"
import { type ProfileRow } from "../../src/commands/list/view.js"
import type { ProfileRowJson } from "../../src/schemas.js"
import { DoctorJson, ErrorEnvelopeJson, ProfileListJson, WhoamiJson } from "../../src/schemas.js"
import { type CliResult } from "../support/cli.js"
import { useE2e } from "../support/e2e.js"

const e2e = useE2e()

const cli = e2e.cli

const strict = { onExcessProperty: "error" } as const
const decodeStdout = <A, I>(schema: Schema.Schema<A, I>, r: CliResult): A =>
  Schema.decodeUnknownSync(schema, strict)(JSON.parse(r.stdout))

/** The envelope: the whole of stderr, or (after a usage error @effect/cli already explained in prose) its JSON tail. */
const decodeEnvelope = (r: CliResult) => {
  const at = r.stderr.startsWith("{") ? 0 : r.stderr.lastIndexOf("\n{\n") + 1
  const doc = Schema.decodeUnknownSync(ErrorEnvelopeJson, strict)(JSON.parse(r.stderr.slice(at)))
  expect(doc.error.exitCode).toBe(r.code)
  return doc.error
}

const storeDir = () => join(e2e.home.data, "olares-cli")
const store = () => makeLinuxFileKeyStore(storeDir())

const importProfile = async (username: string, extra: ReadonlyArray<string> = []) => {
  const g = await e2e.server.issueGrant(username)
  const r = await cli([
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
  expect(r.code, r.stderr).toBe(0)
}

describe("documents", () => {
  it("the list row type is the schema's type", () => {
    expectTypeOf<ProfileRow>().toEqualTypeOf<typeof ProfileRowJson.Type>()
  })

  it("profile list -o json: empty, then every status; the fast path and the full CLI print the same document", async () => {
    const empty = await cli(["profile", "list", "-o", "json"])
    expect(empty.code).toBe(0)
    expect(decodeStdout(ProfileListJson, empty)).toEqual({ profiles: [] })

    await importProfile("alice")
    await importProfile("bob", ["--no-switch", "--name", "work"])
    e2e.server.addUser({ username: "carol", password: "carol-password-1" })
    await importProfile("carol", ["--no-switch"])
    await Effect.runPromise(store().markInvalidated("carol@olares.com", 1_700_000_000_000))
    await Effect.runPromise(
      store().set({ olaresId: "bob@olares.com", accessToken: Redacted.make(await e2e.server.mintJwt({ ttl: -60 })) })
    )
    const fast = await cli(["profile", "list", "-o", "json"])
    const full = await cli(["profile", "list", "--output", "json", "--no-input"]) // not a fast-path shape
    expect(fast.code).toBe(0)
    expect(full.code).toBe(0)
    const doc = decodeStdout(ProfileListJson, fast)
    expect(decodeStdout(ProfileListJson, full)).toEqual(doc)
    expect(doc.profiles).toEqual([
      { current: true, name: "alice@olares.com", olaresId: "alice@olares.com", status: "logged-in", version: "1.12.6" },
      { current: false, name: "work", olaresId: "bob@olares.com", status: "expired", version: "1.12.6" },
      {
        current: false,
        name: "carol@olares.com",
        olaresId: "carol@olares.com",
        status: "invalidated",
        version: "1.12.6"
      }
    ])
  })

  it("profile whoami -o json, from the cache and with --refresh", async () => {
    await importProfile("bob")
    const cached = await cli(["profile", "whoami", "-o", "json"])
    expect(cached.code).toBe(0)
    const c = decodeStdout(WhoamiJson, cached)
    expect(c).toMatchObject({
      olaresId: "bob@olares.com",
      profile: "bob@olares.com",
      role: "admin",
      roleLabel: "Admin",
      source: "cache"
    })
    expect(c.refreshedAgoSecs).toBeGreaterThanOrEqual(0)

    e2e.server.setOsVersion("1.12.7")
    const fresh = await cli(["profile", "whoami", "--refresh", "-o", "json"])
    expect(fresh.code).toBe(0)
    const f = decodeStdout(WhoamiJson, fresh)
    expect(f).toMatchObject({ name: "bob", source: "server", backendVersion: "1.12.7" })
    e2e.server.setOsVersion("1.12.6")
  })

  it("profile doctor -o json", async () => {
    await importProfile("alice")
    const r = await cli(["profile", "doctor", "-o", "json"])
    expect(r.code).toBe(0)
    const doc = decodeStdout(DoctorJson, r)
    expect(doc.healthy).toBe(true)
    expect(doc.profiles.map((p) => p.status)).toEqual(["logged-in"])
  })

  it("warnings go to stderr only: stdout stays one JSON document", async () => {
    await importProfile("alice")
    chmodSync(e2e.home.home, 0o755) // the repo tightens it and warns
    const r = await cli(["profile", "whoami", "-o", "json"])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain("warning: config directory")
    expect(r.stderr.match(/was mode 0755/g)).toHaveLength(1) // said once, not once per logger
    expect(decodeStdout(WhoamiJson, r).olaresId).toBe("alice@olares.com")
    e2e.server.setFault("/api/olares-info", { status: 502 })
    const list = await cli(["profile", "list", "-o", "json", "--refresh-version"])
    expect(list.code).toBe(0)
    expect(list.stderr).toContain("warning: could not refresh backend version")
    expect(decodeStdout(ProfileListJson, list).profiles).toHaveLength(1)
  })
})

describe("error envelopes under -o json", () => {
  it("NoProfile, NotLoggedIn, TokenInvalidated: stderr is the envelope, stdout is empty", async () => {
    const none = await cli(["profile", "whoami", "-o", "json"])
    expect(none.code).toBe(3)
    expect(none.stdout).toBe("")
    expect(decodeEnvelope(none)).toMatchObject({ code: "auth_no_profile", status: "NoProfile", retryable: false })

    await importProfile("alice")
    await Effect.runPromise(store().remove("alice@olares.com"))
    const notLoggedIn = await cli(["profile", "whoami", "--output=json"])
    expect(decodeEnvelope(notLoggedIn)).toEqual({
      code: "auth_not_logged_in",
      status: "NotLoggedIn",
      exitCode: 3,
      message:
        "no access token for alice@olares.com; run: olares-cli profile login --olares-id alice@olares.com  (or profile import --refresh-token <tok>)",
      retryable: false,
      action: "olares-cli profile login --olares-id alice@olares.com"
    })

    await importProfile("bob")
    await Effect.runPromise(store().markInvalidated("bob@olares.com", 1_700_000_000_000))
    const dead = await cli(["profile", "whoami", "--refresh", "-o", "json"])
    expect(dead.code).toBe(4)
    expect(decodeEnvelope(dead)).toMatchObject({ code: "auth_token_invalidated", status: "TokenInvalidated" })
  })

  it("a transient server error is retryable http_5xx with exit 1", async () => {
    await importProfile("alice")
    e2e.server.setFault("/api/backend/v1/user-info", { status: 503 })
    const r = await cli(["profile", "whoami", "--refresh", "-o", "json"])
    expect(r.code).toBe(1)
    expect(decodeEnvelope(r)).toMatchObject({ code: "http_5xx", status: "HttpStatusError", retryable: true })
  })

  it("a corrupt config.json is a storage error on the fast path and on the full CLI alike", async () => {
    mkdirSync(e2e.home.home, { recursive: true, mode: 0o700 })
    writeFileSync(join(e2e.home.home, "config.json"), "{ nope", { mode: 0o600 })
    const fast = await cli(["profile", "list", "-o", "json"])
    const full = await cli(["profile", "list", "-o", "json", "--no-input"])
    expect(fast.code).toBe(1)
    expect(decodeEnvelope(fast)).toEqual(decodeEnvelope(full))
    expect(decodeEnvelope(fast)).toMatchObject({ code: "storage", status: "StorageError" })
  })

  it("usage errors: the envelope follows @effect/cli's prose and says what was wrong", async () => {
    const r = await cli(["profile", "list", "-o", "json", "--bogus"])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe("")
    expect(decodeEnvelope(r)).toMatchObject({
      code: "usage",
      status: "UsageError",
      message: "Received unknown argument: '--bogus'",
      action: "olares-cli --help"
    })
    const noInput = await cli(["profile", "remove", "x", "--no-input", "-o", "json"])
    expect(noInput.code).toBe(2)
    expect(decodeEnvelope(noInput).code).toBe("usage")
  })

  it("doctor's problems: the document on stdout, the ProblemsFound envelope on stderr, exit 1", async () => {
    await importProfile("alice")
    await Effect.runPromise(store().remove("alice@olares.com"))
    const r = await cli(["profile", "doctor", "-o", "json", "--offline"])
    expect(r.code).toBe(1)
    expect(decodeStdout(DoctorJson, r).problems.map((p) => p.code)).toEqual(["token_missing"])
    expect(decodeEnvelope(r)).toMatchObject({
      code: "doctor_problems",
      status: "ProblemsFound",
      message: "profile doctor found 1 problem"
    })
  })
})
