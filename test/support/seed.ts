/**
 * Seeds and inspects a temp home through the real layers (KeyStoreFile, ProfileRepoFile,
 * FileLockLive, AppPathsLive), so a test can start from any stored state (e.g. a stale access token
 * the CLI itself would refuse to import) and read back exactly what the CLI wrote.
 */
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { readFileSync } from "node:fs"
import { AppPathsLive } from "../../layers/AppPathsLive.js"
import { FileLockLive } from "../../layers/FileLockLive.js"
import { KeyStoreFile } from "../../layers/KeyStoreFile.js"
import { ProfileRepoFile } from "../../layers/ProfileRepoFile.js"
import { withPointers } from "../../src/domain/ConfigData.js"
import { recordPath } from "../../src/domain/Paths.js"
import { type ProfileConfig, upsertProfile } from "../../src/domain/ProfileConfig.js"
import type { StoredToken } from "../../src/domain/StoredToken.js"
import { AppPaths } from "../../src/services/AppPaths.js"
import { KeyStore } from "../../src/services/KeyStore.js"
import { ProfileRepo } from "../../src/services/ProfileRepo.js"

/** The part of a temp home the layers need: the env that points the CLI at it. */
export interface HomeEnv {
  readonly env: Record<string, string>
}

/** What to store for one profile. */
export interface SeedOptions {
  readonly olaresId: string
  readonly accessToken: string
  readonly refreshToken?: string
  readonly sessionId?: string
  readonly authUrlOverride?: string
  readonly name?: string
  /** When the grant was made (unix ms; default now). */
  readonly grantedAt?: number
  /** Stamp the record dead (unix ms). */
  readonly invalidatedAt?: number
  /** Make this profile the current one (default true). */
  readonly makeCurrent?: boolean
}

// Built per call (no memoisation across homes): AppPaths resolves from the config provider below.
const layer = Layer.mergeAll(KeyStoreFile, ProfileRepoFile).pipe(
  Layer.provideMerge(FileLockLive),
  Layer.provideMerge(AppPathsLive)
)

/** Runs an effect against the temp home's real layers. */
export const inHome = <A, E>(
  home: HomeEnv,
  effect: Effect.Effect<A, E, KeyStore | ProfileRepo | AppPaths>
): Promise<A> =>
  Effect.runPromise(
    Effect.provide(effect, layer).pipe(
      // AppPathsLive reads the env through `Config`: point it at the temp home, never at the real one.
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(home.env))))
    )
  )

/** Writes the profile into config.json (locked, atomic) and its token record into the encrypted store. */
export const seedProfile = (home: HomeEnv, opts: SeedOptions): Promise<void> =>
  inHome(
    home,
    Effect.gen(function*() {
      const repo = yield* ProfileRepo
      const store = yield* KeyStore
      yield* repo.update((cfg: ProfileConfig) => {
        const withProfile = upsertProfile(cfg, {
          olaresId: opts.olaresId,
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(opts.authUrlOverride === undefined ? {} : { authUrlOverride: opts.authUrlOverride })
        })
        const next = opts.makeCurrent === false
          ? withProfile
          : withPointers(withProfile, opts.name ?? opts.olaresId, cfg.currentProfile)
        return Effect.succeed([undefined, next] as const)
      })
      const token: StoredToken = {
        olaresId: opts.olaresId,
        accessToken: Redacted.make(opts.accessToken),
        ...(opts.refreshToken === undefined ? {} : { refreshToken: Redacted.make(opts.refreshToken) }),
        ...(opts.sessionId === undefined ? {} : { sessionId: opts.sessionId }),
        grantedAt: opts.grantedAt ?? Date.now()
      }
      yield* store.set(token)
      if (opts.invalidatedAt !== undefined) yield* store.markInvalidated(opts.olaresId, opts.invalidatedAt)
    })
  )

/** The decrypted record (secrets stay `Redacted`, so a failing assertion cannot print them). */
export const readRecord = (home: HomeEnv, olaresId: string): Promise<Option.Option<StoredToken>> =>
  inHome(home, Effect.flatMap(KeyStore, (s) => s.get(olaresId)))

/** The parsed config.json (fails if it is not valid). */
export const readConfig = (home: HomeEnv): Promise<ProfileConfig> =>
  inHome(home, Effect.flatMap(ProfileRepo, (r) => r.load))

/** Where the token record of `olaresId` lives, for byte-level comparisons. */
export const recordFile = (home: HomeEnv, olaresId: string): Promise<string> =>
  inHome(home, Effect.map(AppPaths, (p) => recordPath(p.dataDir, olaresId)))

/** The raw bytes of the token record file. */
export const recordBytes = async (home: HomeEnv, olaresId: string): Promise<Buffer> =>
  readFileSync(await recordFile(home, olaresId))

/** True when the Redacted secret equals `plain` (compare without ever formatting the secret). */
export const holds = (secret: Redacted.Redacted<string> | undefined, plain: string): boolean =>
  secret !== undefined && Redacted.value(secret) === plain

/** The record, or a thrown error when the store has none. */
export const mustRecord = async (home: HomeEnv, olaresId: string): Promise<StoredToken> => {
  const o = await readRecord(home, olaresId)
  if (Option.isNone(o)) throw new Error(`no token record for ${olaresId}`)
  return o.value
}
