/** The config.json port: reads, and locked read-modify-write with atomic replacement. */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { ProfileConfig } from "../domain/ProfileConfig.js"
import type { LockTimeout, StorageError } from "../errors.js"

/** The profile list on disk. */
export interface ProfileRepoShape {
  /** Path of config.json (for messages). */
  readonly path: string
  /** Reads the file; missing or empty is the empty config; bad JSON or types fail naming the file. */
  readonly load: Effect.Effect<ProfileConfig, StorageError>
  /**
   * Takes `<home>/locks/config.lock`, re-reads the file, applies `f`, and writes the result
   * atomically (temp + fsync + rename, 0600) if it changed. Concurrent updates never lose each other.
   */
  readonly update: <A, E>(
    f: (config: ProfileConfig) => Effect.Effect<readonly [A, ProfileConfig], E>
  ) => Effect.Effect<A, E | StorageError | LockTimeout>
}

/** config.json. */
export class ProfileRepo extends Context.Tag("olares-cli/ProfileRepo")<ProfileRepo, ProfileRepoShape>() {}
