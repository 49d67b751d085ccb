/** What the lock files of a directory look like right now (for `profile doctor`), read without creating anything. */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"

/** One lock file and its state. */
export interface LockState {
  /** The file name, e.g. `config.lock`. */
  readonly name: string
  readonly path: string
  /** A process holds it now: this CLI or the Go olares-cli (the kernel's lock, probed without waiting). */
  readonly held: boolean
  /** An older olares-cli-ts left `<path>.lock`, a lock directory nothing uses any more. */
  readonly legacyDir: boolean
}

/** A lock file that cannot be used at all (a symbolic link, a FIFO, a directory), with its fix. */
export interface UnusableLock {
  readonly path: string
  readonly message: string
  readonly hint: string
}

/** The port. */
export interface LockInspectorShape {
  /**
   * The lock files in `dir`, sorted by name, and those that cannot be used (also listed, as not
   * held). A missing or unreadable directory has none; nothing is created or followed.
   */
  readonly inspect: (dir: string) => Effect.Effect<{
    readonly locks: ReadonlyArray<LockState>
    readonly unusable: ReadonlyArray<UnusableLock>
  }>
}

/** Lock inspection. */
export class LockInspector extends Context.Tag("olares-cli/LockInspector")<LockInspector, LockInspectorShape>() {}
