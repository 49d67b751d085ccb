/**
 * The role and version caches in config.json: reading them from the server (under the one spinner
 * text each) and the one program that writes what the server said (`profile list`, `whoami` and the
 * post-login fill all go through it; each says its own warning).
 */
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { findByOlaresId, modifyProfile, type Profile } from "../domain/ProfileConfig.js"
import type { LockTimeout, StorageError } from "../errors.js"
import { fetchOsVersion, fetchUserInfo } from "../olaresInfo.js"
import type { AuthedClient } from "../services/HttpAuth.js"
import { ProfileRepo } from "../services/ProfileRepo.js"
import { withSpinner } from "./spinner.js"

/** Reads the identity's role (`/api/backend/v1/user-info`) behind a spinner. */
export const readUserInfo = (authed: AuthedClient, timeout?: Duration.DurationInput) =>
  fetchUserInfo(authed, timeout).pipe(withSpinner("reading the role..."))

/** Reads the Olares version (`/api/olares-info`) behind a spinner. */
export const readOsVersion = (authed: AuthedClient, timeout?: Duration.DurationInput) =>
  fetchOsVersion(authed, timeout).pipe(withSpinner("reading the Olares version..."))

/** What was read from the server, to cache. */
export interface ServerFacts {
  /** `/api/backend/v1/user-info`, when it was read: stamps `whoamiRefreshedAt`; a non-empty role replaces the cached one. */
  readonly userInfo: Option.Option<{ readonly ownerRole?: string | undefined }>
  /** An already validated Olares version (read, or given with `--olares-version`): stamps `backendVersionRefreshedAt`. */
  readonly version: Option.Option<string>
}

/**
 * Caches `facts` for the profile stored under `olaresId` (exactly as config.json holds it, so a
 * bare Go-written `alice` is found), under the config lock, stamped with the time of the write; the
 * profile as written (none when it is gone).
 */
export const cacheServerFacts = (
  olaresId: string,
  facts: ServerFacts
): Effect.Effect<Option.Option<Profile>, StorageError | LockTimeout, ProfileRepo> =>
  Effect.gen(function*() {
    const nowSec = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const repo = yield* ProfileRepo
    const role = Option.getOrUndefined(Option.flatMap(facts.userInfo, (i) => Option.fromNullable(i.ownerRole)))
    return yield* repo.update((cfg) => {
      const next = modifyProfile(cfg, olaresId, (p) => ({
        ...p,
        ...(role !== undefined && role !== "" ? { ownerRole: role } : {}),
        ...(Option.isSome(facts.userInfo) ? { whoamiRefreshedAt: nowSec } : {}),
        ...Option.match(facts.version, {
          onNone: () => ({}),
          onSome: (v) => ({ backendVersion: v, backendVersionRefreshedAt: nowSec })
        })
      }))
      return Effect.succeed([findByOlaresId(next, olaresId), next] as const)
    })
  })

/** Caches an already validated version alone (see `cacheServerFacts`). */
export const cacheBackendVersion = (olaresId: string, version: string) =>
  Effect.asVoid(cacheServerFacts(olaresId, { userInfo: Option.none(), version: Option.some(version) }))
