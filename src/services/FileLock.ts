/** Cross-process advisory locks (the kernel's, on the Go CLI's lock files), as scoped resources. */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { LockTimeout, type StorageError } from "../errors.js"

/** Lock options. */
export interface LockOptions {
  /** How long to wait for a holder before failing `LockTimeout`. */
  readonly timeout: Duration.DurationInput
}

/** The lock port. */
export interface FileLockShape {
  /**
   * Holds an exclusive lock on `path` for the lifetime of the scope, creating the file (0600) and its
   * directory (0700) if needed. Excludes every process that locks the same file, the Go CLI
   * included; a holder that dies frees it at once. Waiting is bounded by `timeout` (`LockTimeout`)
   * and interruptible; interruption leaves nothing behind. A lock file that is a symbolic link or not
   * a regular file is refused at once (`StorageError`).
   */
  readonly lock: (path: string, options: LockOptions) => Effect.Effect<void, LockTimeout | StorageError, Scope.Scope>
  /** Whether any process holds `path` now, the Go CLI included (for `profile doctor`); never creates it. */
  readonly isLocked: (path: string) => Effect.Effect<boolean, StorageError>
}

/** Cross-process locks. */
export class FileLock extends Context.Tag("olares-cli/FileLock")<FileLock, FileLockShape>() {}

/**
 * Holds every lock of `paths`, taken one after the other in the given order, for the lifetime of the
 * scope; `timeout` bounds the whole sequence, not each lock.
 */
export const lockAll = (
  locks: FileLockShape,
  paths: ReadonlyArray<string>,
  options: LockOptions
): Effect.Effect<void, LockTimeout | StorageError, Scope.Scope> =>
  Effect.gen(function*() {
    const total = Duration.toMillis(Duration.decode(options.timeout))
    const start = yield* Clock.currentTimeMillis
    for (const path of paths) {
      const left = total - ((yield* Clock.currentTimeMillis) - start)
      yield* locks.lock(path, { timeout: Duration.millis(Math.max(left, 1)) }).pipe(
        // the message names the bound the caller asked for, not what was left of it
        Effect.mapError((
          e
        ) => (e._tag === "LockTimeout" ? new LockTimeout({ path: e.path, seconds: total / 1000 }) : e))
      )
    }
  })
