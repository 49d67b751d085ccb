/**
 * `olares-cli/testing`: what a program built on olares-cli needs to test itself with
 * @effect/vitest, no disk, no terminal and no network beyond loopback.
 *
 *   it.scoped("reads olares-info", () =>
 *     Effect.gen(function*() {
 *       const server = yield* testServer()
 *       yield* seedProfile(server, { state: "expired" })
 *       const { client, baseUrl } = yield* (yield* HttpAuth).current
 *       ...
 *     }).pipe(Effect.provide(OlaresCliTest)))
 *
 * Clocks: the memory locks time out on Effect's `Clock` (under `it.effect`, move the TestClock);
 * invalidation marks are never 0, so one stamped at TestClock 0 still sticks; the loopback server
 * keeps its own wall clock (it plays the remote Olares), so tokens it mints carry real `iat`/`exp`.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { FileLockMemory } from "../layers/FileLockMemory.js"
import { makeMemory } from "../layers/KeyStoreMemory.js"
import { makeOlaresCli, type OlaresCliPorts } from "../layers/OlaresCli.js"
import { ProfileRepoMemory } from "../layers/ProfileRepoMemory.js"
import { PromptNone } from "../layers/PromptNone.js"
import { withPointers } from "./domain/ConfigData.js"
import { type OlaresId, parseOlaresId } from "./domain/OlaresId.js"
import { emptyConfig, type Profile, type ProfileConfig, upsertProfile } from "./domain/ProfileConfig.js"
import type { StoredToken } from "./domain/StoredToken.js"
import { AppPaths, type AppPathsShape } from "./services/AppPaths.js"
import { KeyStore } from "./services/KeyStore.js"
import { ProfileRepo } from "./services/ProfileRepo.js"
import { type Grant, type OlaresTestServer, type ServerOptions, serverResource } from "./testing/server.js"

// Everything of the main entry too, so a test suite can import from `olares-cli/testing` alone.
export { FileLockMemory, makeFileLockMemory } from "../layers/FileLockMemory.js"
export { KeyStoreMemory, makeMemory as makeMemoryKeyStore } from "../layers/KeyStoreMemory.js"
export { makeProfileRepoMemory, ProfileRepoMemory } from "../layers/ProfileRepoMemory.js"
export * from "./index.js"
export {
  ALICE,
  BOB,
  closedPort,
  type Fault,
  type FaultKind,
  type Grant,
  mintJwt,
  type MintOptions,
  type OlaresTestServer,
  onSecret,
  type RecordedRequest,
  type ServerOptions,
  type ServerStats,
  startServer,
  type TestUser,
  totp
} from "./testing/server.js"

/** Paths that are never touched (every test layer is in memory); fixed so messages are stable. */
export const TestPaths: AppPathsShape = {
  home: "/olares-cli-test/home",
  configFile: "/olares-cli-test/home/config.json",
  locksDir: "/olares-cli-test/home/locks",
  dataDir: "/olares-cli-test/data/olares-cli",
  dataDirSource: "olares-cli/testing"
}

/** What a test layer starts from. */
export interface TestOptions<E = never> {
  /** config.json's content (default: no profile). */
  readonly config?: ProfileConfig
  /** Token records already stored. */
  readonly records?: Iterable<StoredToken>
  /** Replace more ports, e.g. `httpClients` with a fake transport. */
  readonly ports?: OlaresCliPorts<E>
}

/**
 * The library wired for tests: memory key store, in-memory profile repo and locks, fixed paths, no
 * prompts; the network side is the real one (refresh logic included) over the program's
 * `HttpClient.HttpClient` when provided, else Node's.
 */
export const makeOlaresCliTest = <E = never>(options: TestOptions<E> = {}) =>
  makeOlaresCli<E>({
    appPaths: Layer.succeed(AppPaths, TestPaths),
    fileLock: FileLockMemory,
    profileRepo: ProfileRepoMemory(options.config ?? emptyConfig),
    keyStore: Layer.effect(KeyStore, makeMemory(options.records ?? [])),
    prompt: PromptNone,
    ...options.ports
  })

/** `makeOlaresCliTest()`: empty, fresh state each time it is provided. */
export const OlaresCliTest = makeOlaresCliTest()

/** The loopback Olares test server as a scoped resource (closed with the scope). */
export const testServer = (
  options: ServerOptions = {}
): Effect.Effect<OlaresTestServer, never, import("effect/Scope").Scope> => serverResource(options)

/** The state of a seeded profile's token. */
export type SeedState = "valid" | "expired" | "invalidated"

/** What to seed. */
export interface SeedOptions {
  /** A user of the server (default `alice`). */
  readonly user?: string
  /** Default `valid` (granted now, 1 h left); `expired` (expired 2 min ago, refresh token live); `invalidated`. */
  readonly state?: SeedState
  /** An alias for the profile. */
  readonly name?: string
  /** Make it the current profile (default true). */
  readonly current?: boolean
  /** How long ago the grant was made (default 0): back-dates `iat` and `grantedAt`. */
  readonly ageSeconds?: number
}

/** A seeded profile. */
export interface Seeded {
  readonly olaresId: OlaresId
  readonly profile: Profile
  /** The server-side grant (its tokens are secrets: compare them, never print them). */
  readonly grant: Grant
}

/**
 * Seeds a profile of `server`'s user (override = the server's URL) into the ProfileRepo and a token
 * record into the KeyStore, in the given state: `invalidated` also revokes the grant on the server
 * and stamps the record at `max(1, now)`.
 */
export const seedProfile = (
  server: OlaresTestServer,
  options: SeedOptions = {}
): Effect.Effect<Seeded, never, ProfileRepo | KeyStore> =>
  Effect.gen(function*() {
    const user = options.user ?? "alice"
    const olaresId = yield* Effect.orDie(parseOlaresId(`${user}@${server.domain}`))
    const state = options.state ?? "valid"
    const ageSeconds = options.ageSeconds ?? 0
    const grant = yield* Effect.promise(() =>
      server.issueGrant(user, { ttlSeconds: state === "expired" ? -120 : 3600 + ageSeconds, ageSeconds })
    )
    const profile: Profile = {
      olaresId,
      authUrlOverride: server.url,
      ...(options.name === undefined ? {} : { name: options.name })
    }
    const repo = yield* ProfileRepo
    const store = yield* KeyStore
    yield* Effect.orDie(repo.update((cfg) => {
      const next = upsertProfile(cfg, profile)
      return Effect.succeed(
        [
          undefined,
          options.current === false ? next : withPointers(next, options.name ?? olaresId, cfg.currentProfile)
        ] as const
      )
    }))
    const now = yield* Clock.currentTimeMillis
    const grantedAt = now - ageSeconds * 1000
    yield* Effect.orDie(store.set({
      olaresId,
      accessToken: Redacted.make(grant.accessToken),
      refreshToken: Redacted.make(grant.refreshToken),
      sessionId: grant.sessionId,
      ...(state === "valid" && grantedAt > 0 ? { grantedAt } : {})
    }))
    if (state === "invalidated") {
      server.revokeGrants(user)
      yield* Effect.orDie(store.markInvalidated(olaresId, Math.max(1, now)))
    }
    return { olaresId, profile, grant }
  })
