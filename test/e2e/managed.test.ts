/**
 * Platform-issued ("managed") profiles end to end (issue 9 item 3, reference notes 11.6): the built
 * CLI in a home with `OLARES_CLI_CREDENTIALS_DIR/credential.json` mounted, against the loopback
 * server. Takeover of a hand-made profile (and of its stored token), the exchange at start-up, the
 * steady state with no network, refresh from the mount, `fa2: true`, the refusals, `pending`, the
 * SOURCE column and JSON; plus the exchange of a fresh container with no config at all, in process.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeEach, describe, expect, it } from "vitest"
import { HttpClientsLive } from "../../layers/HttpClientsLive.js"
import { makeLinuxFileKeyStore } from "../../layers/KeyStoreFile.js"
import { makeLocalLive } from "../../layers/Main.js"
import { OlaresAuthApiLive } from "../../layers/OlaresAuthApiLive.js"
import { RefreshCoordinatorLive } from "../../layers/RefreshCoordinatorLive.js"
import { parseManagedCredential } from "../../src/domain/ManagedCredential.js"
import { importManagedCredential } from "../../src/managed.js"
import { HttpClients } from "../../src/services/HttpClients.js"
import { KeyStore } from "../../src/services/KeyStore.js"
import { ProfileRepo } from "../../src/services/ProfileRepo.js"
import { useE2e } from "../support/e2e.js"
import { snapshot } from "../support/hardening-util.js"
import { recordSecret } from "../support/leaks.js"
import { mintJwt } from "../support/server.js"
import { useTempRoots } from "../support/tmp.js"

const e2e = useE2e()
const tempRoot = useTempRoots("olares-managed-")

const ID = "alice@olares.com"
const storeDir = () => join(e2e.home.data, "olares-cli")
const store = () => makeLinuxFileKeyStore(storeDir())
const readRecord = (id: string = ID) => Effect.runPromise(store().get(id))
const configText = () => readFileSync(join(e2e.home.home, "config.json"), "utf8")
const config = () => JSON.parse(configText())
const writeConfig = (doc: unknown) => {
  mkdirSync(e2e.home.home, { recursive: true, mode: 0o700 })
  writeFileSync(join(e2e.home.home, "config.json"), JSON.stringify(doc, null, 2), { mode: 0o600 })
}

/** Mounts credential.json the way the platform does; returns the env that points the CLI at it. */
const mount = (doc: Record<string, unknown>) => {
  const dir = join(tempRoot(), "credentials")
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, "credential.json"), JSON.stringify(doc))
  return { OLARES_CLI_CREDENTIALS_DIR: dir }
}

/** A live platform grant for alice, mounted; the platform's grants are not rotated by a refresh. */
const mountGrant = async (appName = "lares") => {
  const g = await e2e.server.issueGrant("alice")
  return { grant: g, env: mount({ refreshToken: g.refreshToken, olaresId: ID, appName }) }
}

const handMade = (extra: Record<string, unknown> = {}) =>
  writeConfig({
    currentProfile: "home",
    profiles: [{ name: "home", olaresId: ID, authUrlOverride: e2e.server.url, ...extra }]
  })

beforeEach(() => {
  e2e.server.setRotateRefreshTokens(false)
  e2e.server.setRefreshFa2(false)
})

describe("start-up import", () => {
  it("takes over a hand-made profile and its stored token: managed, alias/override/TLS kept, mount exchanged once", async () => {
    // the user had logged in by hand (a token with its own refresh token)
    const userGrant = await e2e.server.issueGrant("alice")
    handMade({ insecureSkipVerify: true, backendVersion: "1.12.5" })
    await Effect.runPromise(
      store().set({
        olaresId: ID,
        accessToken: Redacted.make(userGrant.accessToken),
        refreshToken: Redacted.make(userGrant.refreshToken)
      })
    )
    const { env, grant } = await mountGrant()
    e2e.server.reset()

    const list = await e2e.cli(["profile", "list"], { env })
    expect(list.code, list.stderr).toBe(0)
    expect(e2e.server.hits("/api/refresh")).toBe(1)
    expect(JSON.parse(e2e.server.lastRequest("/api/refresh")!.body)).toEqual({ refreshToken: grant.refreshToken })
    expect(config().profiles).toEqual([{
      name: "home",
      olaresId: ID,
      authUrlOverride: e2e.server.url,
      insecureSkipVerify: true,
      backendVersion: "1.12.5",
      managed: true,
      appName: "lares"
    }])
    const rec = Option.getOrThrow(await readRecord())
    expect(rec.managed).toBe(true)
    expect(rec.refreshToken).toBeUndefined()
    expect(Redacted.value(rec.accessToken)).not.toBe(userGrant.accessToken)
    expect(list.stdout).toMatch(
      /^ {4}NAME +OLARES-ID +STATUS +VERSION +SOURCE\n\* +home +alice@olares\.com +logged-in +1\.12\.5 +platform\(lares\)\n$/
    )

    // the steady state: no network, nothing rewritten
    const before = snapshot(e2e.home.root)
    const again = await e2e.cli(["profile", "list", "-o", "json"], { env })
    expect(again.code).toBe(0)
    expect(e2e.server.hits("/api/refresh")).toBe(1)
    expect(JSON.parse(again.stdout).profiles).toEqual([{
      current: true,
      name: "home",
      olaresId: ID,
      status: "logged-in",
      version: "1.12.5",
      source: "platform(lares)",
      appName: "lares"
    }])
    expect(snapshot(e2e.home.root)).toEqual(before)
  })

  it("a new appName in the mount is reconciled without network; a hand-made profile beside it is `local`", async () => {
    handMade()
    const first = await mountGrant("lares")
    expect((await e2e.cli(["profile", "list"], { env: first.env })).code).toBe(0)
    const second = await mountGrant("files")
    e2e.server.reset()
    const r = await e2e.cli(["profile", "list"], { env: { ...second.env } })
    expect(r.code).toBe(0)
    expect(e2e.server.requests()).toHaveLength(0)
    expect(config().profiles[0].appName).toBe("files")

    writeConfig({ ...config(), profiles: [...config().profiles, { olaresId: "bob@olares.com" }] })
    const rows = JSON.parse((await e2e.cli(["profile", "list", "-o", "json"], { env: second.env })).stdout).profiles
    expect(rows.map((p: { source: string }) => p.source)).toEqual(["platform(files)", "local"])
  })

  it("a grant the server cannot exchange yet leaves a `pending` entry; the next command exchanges the mount on the spot", async () => {
    handMade()
    const { env } = await mountGrant()
    e2e.server.setFault("/api/refresh", { status: 503, times: 1 })
    const debug = await e2e.cli(["profile", "list"], { env: { ...env, OLARES_CLI_DEBUG: "1" } })
    expect(debug.code).toBe(0)
    expect(debug.stderr).toContain(
      `[olares-cli managed] initial refresh for ${ID} failed: /api/refresh returned HTTP 503`
    )
    expect(debug.stdout).toMatch(/\* +home +alice@olares\.com +pending +- +platform\(lares\)/)
    expect(config().profiles[0]).toMatchObject({ managed: true, appName: "lares" })

    const api = await e2e.cli(["api", "/api/olares-info"], { env })
    expect(api.code, api.stderr).toBe(0)
    expect(e2e.server.hits("/api/refresh")).toBe(2)
    expect(Option.getOrThrow(await readRecord()).refreshToken).toBeUndefined()
  })

  it("fa2: true in the exchange is fatal: the reference's warning, nothing created", async () => {
    writeConfig({ profiles: [{ olaresId: "bob@olares.com" }] })
    handMade()
    const before = configText()
    const { env } = await mountGrant()
    e2e.server.setRefreshFa2(true)
    const r = await e2e.cli(["profile", "list"], { env })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain(
      `warning: the platform-issued credential for ${ID} refreshed into a first-factor token, which cannot be used; reinstall or repair the application that requested it`
    )
    expect(configText()).toBe(before)
    expect(Option.isNone(await readRecord())).toBe(true)
  })

  it("a half-written credential.json is ignored, with the reason under OLARES_CLI_DEBUG only", async () => {
    const env = mount({ refreshToken: "  ", olaresId: ID })
    const quiet = await e2e.cli(["profile", "list"], { env })
    expect(quiet.stderr).toBe("")
    expect(quiet.stdout).toContain("no profiles configured.")
    const loud = await e2e.cli(["profile", "list"], { env: { ...env, OLARES_CLI_DEBUG: "1" } })
    expect(loud.stderr).toMatch(
      /\[olares-cli managed\] managed credential: \S+credential\.json is missing refreshToken, appName/
    )
    expect(e2e.server.requests()).toHaveLength(0)
  })

  it("with a mount, neither start-up shortcut serves: the full CLI imports first", async () => {
    const { env } = await mountGrant()
    handMade()
    const r = await e2e.cli(["profile", "list"], { env: { ...env, OLARES_CLI_DEBUG: "1" } })
    expect(r.stderr).toContain("debug: served by the full path")
    expect(config().profiles[0].managed).toBe(true)
  })
})

describe("refresh of a managed profile", () => {
  it("uses the mounted token, ignores a stored invalidation marker, and never stores a refresh token", async () => {
    handMade({ managed: true, appName: "lares" })
    const stale = await mintJwt({ username: "alice", ttl: -60 })
    await Effect.runPromise(
      store().set({ olaresId: ID, accessToken: Redacted.make(stale), managed: true }).pipe(
        Effect.zipRight(store().markInvalidated(ID, 1_700_000_000_000))
      )
    )
    const { env, grant } = await mountGrant()
    // invalidated + mounted: `profile list` says so; the resolver refuses before any network
    const list = await e2e.cli(["profile", "list"], { env })
    expect(list.stdout).toMatch(/invalidated +- +platform\(lares\)/)
    const dead = await e2e.cli(["api", "/api/olares-info"], { env })
    expect(dead.code).toBe(4)
    expect(dead.stderr).toContain(
      `the credential for ${ID} was rejected at 2023-11-14T22:13:20Z: this credential is issued by the platform for application "lares"; reinstall or repair that application to have it re-issued`
    )
    expect(dead.stderr).not.toContain("profile login")

    // a record that is merely stale refreshes from the mount (a marker is no reason not to)
    await Effect.runPromise(store().set({ olaresId: ID, accessToken: Redacted.make(stale), managed: true }))
    e2e.server.reset()
    const ok = await e2e.cli(["api", "/api/olares-info"], { env })
    expect(ok.code, ok.stderr).toBe(0)
    expect(e2e.server.hits("/api/refresh")).toBe(1)
    expect(JSON.parse(e2e.server.lastRequest("/api/refresh")!.body)).toEqual({ refreshToken: grant.refreshToken })
    const rec = Option.getOrThrow(await readRecord())
    expect(rec.refreshToken).toBeUndefined()
    expect(rec.invalidatedAt).toBeUndefined()
    expect(rec.managed).toBe(true)
  })

  it("a rejected mount marks the record; without a mount the managed texts point at the application, not at login", async () => {
    handMade({ managed: true, appName: "lares" })
    const stale = await mintJwt({ username: "alice", ttl: -60 })
    await Effect.runPromise(store().set({ olaresId: ID, accessToken: Redacted.make(stale), managed: true }))
    recordSecret("rt-the-platform-revoked")
    const env = mount({ refreshToken: "rt-the-platform-revoked", olaresId: ID, appName: "lares" })
    const r = await e2e.cli(["profile", "whoami", "-o", "json"], { env })
    expect(r.code).toBe(4)
    const envelope = JSON.parse(r.stderr).error
    expect(envelope.code).toBe("auth_token_invalidated")
    expect(envelope.action).toBe(
      "reinstall or repair application \"lares\", which requested this platform-issued credential"
    )
    expect(Option.getOrThrow(await readRecord()).invalidatedAt).toBeGreaterThan(0)

    await Effect.runPromise(store().remove(ID))
    const gone = await e2e.cli(["profile", "whoami"])
    expect(gone.code).toBe(3)
    expect(gone.stderr).toContain(
      `Error: no access token for ${ID}: this credential is issued by the platform for application "lares"; reinstall or repair that application to have it re-issued`
    )
    expect(e2e.server.hits("/api/refresh")).toBe(1)
  })
})

describe("refusals", () => {
  it("login, import and remove refuse a managed identity with the reference's text; nothing is written", async () => {
    handMade({ managed: true, appName: "lares" })
    await Effect.runPromise(
      store().set({ olaresId: ID, accessToken: Redacted.make(await mintJwt({ ttl: -60 })), managed: true })
    )
    const before = snapshot(e2e.home.root)
    const g = await e2e.server.issueGrant("alice")
    e2e.server.reset()
    const cases: Array<[ReadonlyArray<string>, string]> = [
      [["profile", "login", "--olares-id", ID, "--password-stdin"], "log in as"],
      [["profile", "import", "--olares-id", ID], "import credentials for"],
      [["profile", "remove", "--yes", ID], "remove"],
      [["profile", "remove", "--yes", "home"], "remove"]
    ]
    for (const [args, verb] of cases) {
      const r = await e2e.cli(args, { input: "whatever\n", env: { OLARES_REFRESH_TOKEN: g.refreshToken } })
      expect(r.code, args.join(" ")).toBe(5)
      expect(r.stderr).toContain(
        `Error: cannot ${verb} ${ID}: its credential is issued by the platform for application "lares" and is not stored locally; uninstall that application to revoke it`
      )
    }
    expect(e2e.server.requests()).toHaveLength(0)
    expect(snapshot(e2e.home.root)).toEqual(before)
    // any other identity still logs in
    const bob = await e2e.server.issueGrant("bob")
    const other = await e2e.cli([
      "profile",
      "import",
      "--olares-id",
      "bob@olares.com",
      "--auth-url-override",
      e2e.server.url
    ], {
      env: { OLARES_REFRESH_TOKEN: bob.refreshToken }
    })
    expect(other.code, other.stderr).toBe(0)
  })
})

describe("pending and SOURCE without a mount", () => {
  it("a managed profile with no record is `pending`; SOURCE and JSON say where each profile comes from", async () => {
    writeConfig({ profiles: [{ olaresId: ID }, { olaresId: "bob@olares.com", managed: true }] })
    const r = await e2e.cli(["profile", "list", "-o", "json"])
    expect(JSON.parse(r.stdout).profiles).toMatchObject([
      { olaresId: ID, status: "never", source: "local" },
      { olaresId: "bob@olares.com", status: "pending", source: "platform" }
    ])
    writeConfig({ profiles: [{ olaresId: ID }] })
    const plain = await e2e.cli(["profile", "list", "-o", "json"])
    expect(JSON.parse(plain.stdout).profiles[0].source).toBeUndefined()
    expect((await e2e.cli(["profile", "list"])).stdout).not.toContain("SOURCE")
  })
})

describe("a fresh container (no config.json at all)", () => {
  it("creates the managed entry and exchanges the mount at once (in process; the derived auth host is routed to the loopback server)", async () => {
    const root = tempRoot()
    const { env, grant } = await mountGrant()
    const homeEnv = { OLARES_CLI_CACHE_DIR: join(root, "cache"), ...env }
    // the derived https://auth.alice.olares.com goes to the loopback server: no DNS, no network
    const routed = Layer.effect(
      HttpClients,
      Effect.map(HttpClients, (c) => ({
        get: (insecure: boolean) =>
          HttpClient.mapRequest(
            c.get(insecure),
            (req) => HttpClientRequest.setUrl(req, req.url.replace("https://auth.alice.olares.com", e2e.server.url))
          )
      }))
    ).pipe(Layer.provide(HttpClientsLive))
    const network = RefreshCoordinatorLive.pipe(Layer.provideMerge(OlaresAuthApiLive), Layer.provideMerge(routed))
    const program = Effect.gen(function*() {
      yield* importManagedCredential
      const cfg = yield* Effect.flatMap(ProfileRepo, (r) => r.load)
      const rec = yield* Effect.flatMap(KeyStore, (s) => s.get(ID))
      return { cfg, rec }
    }).pipe(
      Effect.provide(network.pipe(Layer.provideMerge(makeLocalLive(true)))),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(homeEnv))))
    )
    // with a coordinator in its context the import uses it instead of loading the CLI's network layers
    const { cfg, rec } = await Effect.runPromise(program)
    expect(cfg.profiles).toEqual([{ olaresId: ID, managed: true, appName: "lares" }])
    expect(Option.getOrThrow(rec).managed).toBe(true)
    expect(Option.getOrThrow(rec).refreshToken).toBeUndefined()
    expect(JSON.parse(e2e.server.lastRequest("/api/refresh")!.body)).toEqual({ refreshToken: grant.refreshToken })
  })
})

describe("credential.json", () => {
  it("needs all three fields after trimming; keys match in any case (Go's decoder); values never appear in a reason", () => {
    expect(parseManagedCredential("{\"RefreshToken\":\" rt \",\"OLARESID\":\"a@b.c\",\"appname\":\"x\"}", "/m/c.json"))
      .toMatchObject({
        _tag: "Mounted",
        credential: { olaresId: "a@b.c", appName: "x" }
      })
    expect(parseManagedCredential("[]", "/m/c.json")).toEqual({
      _tag: "Invalid",
      reason: "managed credential: parse /m/c.json: not a JSON object"
    })
    const r = parseManagedCredential("{\"refreshToken\":\"secret-rt\",\"olaresId\":7}", "/m/c.json")
    expect(r).toEqual({ _tag: "Invalid", reason: "managed credential: parse /m/c.json: olaresId is not a string" })
  })
})
