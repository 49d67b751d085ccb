/** Cross-process advisory locks, as scoped resources. */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { LockTimeout, StorageError } from "../errors.js"

/** Lock options. */
export interface LockOptions {
  /** How long to wait for a holder before failing `LockTimeout`. */
  readonly timeout: Duration.DurationInput
}

/** The lock port. */
export interface FileLockShape {
  /**
   * Holds an exclusive lock on `path` for the lifetime of the scope. A holder that was killed is
   * detected as stale and its lock taken over. Interruption while waiting leaves nothing behind.
   */
  readonly lock: (path: string, options: LockOptions) => Effect.Effect<void, LockTimeout | StorageError, Scope.Scope>
  /** Whether some live process holds `path` now (for `profile doctor`). */
  readonly isLocked: (path: string) => Effect.Effect<boolean, StorageError>
}

/** Cross-process locks. */
export class FileLock extends Context.Tag("olares-cli/FileLock")<FileLock, FileLockShape>() {}
