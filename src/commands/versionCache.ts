/** Writing a detected (or `--olares-version`) backend version into a profile's cache. */
import * as Effect from "effect/Effect"
import { modifyProfile } from "../domain/Config.js"
import { ProfileRepo } from "../services/ProfileRepo.js"
import { nowMs } from "./clock.js"

/**
 * Caches an already validated version for the profile stored under `olaresId` (exactly as config.json
 * holds it, so a bare Go-written `alice` is found), under the config lock.
 */
export const cacheBackendVersion = (olaresId: string, version: string) =>
  Effect.gen(function*() {
    const nowSec = Math.floor((yield* nowMs) / 1000)
    const repo = yield* ProfileRepo
    yield* repo.update((cfg) =>
      Effect.succeed(
        [undefined, modifyProfile(cfg, olaresId, (p) => ({ ...p, backendVersion: version, backendVersionRefreshedAt: nowSec }))] as const
      )
    )
  })
