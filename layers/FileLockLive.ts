/**
 * Cross-process locks with the kernel's advisory lock (`flock(2)`, `LockFileEx` on Windows) on the
 * very files the Go CLI locks (layers/internal/Flock.ts), so both CLIs exclude each other; plus an in-process
 * semaphore per path so fibers of one process queue instead of polling each other. Waiting is a
 * bounded poll of `LOCK_NB` attempts: it never blocks the event loop and is interruptible at every
 * sleep. A holder that dies loses its lock in the kernel at once: no heartbeat, no stale takeover.
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { rmdirSync, statSync } from "node:fs"
import { lstat, readdir } from "node:fs/promises"
import { join, resolve } from "node:path"
import { LockTimeout, StorageError } from "../src/errors.js"
import { FileLock, type FileLockShape } from "../src/services/FileLock.js"
import { LockInspector, type LockState, type UnusableLock } from "../src/services/LockInspector.js"
import { errorText, storageError } from "./internal/Errno.js"
import { type Flocker, type Koffi, makeFlocker, probeLocked } from "./internal/Flock.js"

/** Tuning for the polling. */
export interface FileLockOptions {
  /** Pause between two `LOCK_NB` attempts while another process holds the lock (jittered). */
  readonly pollInterval: Duration.DurationInput
}

/** Defaults: waiters try every ~50 ms (the Go CLI polls every 100 ms). */
export const defaultFileLockOptions: FileLockOptions = { pollInterval: "50 millis" }

// Loaded on first use: read-only commands never lock, so they never pay for the native module.
let loaded: Promise<Flocker> | undefined
const flocker = Effect.tryPromise({
  // the namespace itself carries every function too, whatever the interop made of `default`
  try: () => (loaded ??= import("koffi").then((m) => makeFlocker(m as Koffi))),
  catch: (e) =>
    new StorageError({
      path: "koffi",
      detail: `cannot load the file-lock module (koffi): ${errorText(e)}`,
      hint: "reinstall olares-cli (npm ci): koffi ships prebuilt binaries for Linux, macOS, Windows and the BSDs"
    })
})

/** Another holder has the lock right now; retried until the timeout. */
class Busy extends Data.TaggedError("Busy")<{}> {}

/** The typed error for a lock file we cannot open or lock, with the command that fixes it. */
export const lockStorageError = (path: string, what: string, e: unknown): StorageError =>
  storageError({ store: "lock", what, path }, e)

/** How old a lock directory of an older olares-cli-ts must be before it is known abandoned. */
const LEGACY_STALE_MS = 5_000

/**
 * Removes `<path>.lock`, the lock directory older olares-cli-ts versions (proper-lockfile) made, once
 * its heartbeat is older than their stale bound: it can only be a dead holder's. Best effort.
 */
export const removeLegacyLockDir = (path: string, nowMs: number): void => {
  const legacy = `${path}.lock`
  try {
    const st = statSync(legacy)
    if (st.isDirectory() && nowMs - st.mtimeMs > LEGACY_STALE_MS) rmdirSync(legacy)
  } catch {
    // absent (the usual case), not empty, or not ours to remove: doctor reports what is left
  }
}

// One semaphore per lock path for the whole process, never removed (the set of paths is tiny:
// config + one per identity). Process-wide rather than per layer: two layer instances in one process
// would otherwise poll each other through the kernel instead of queueing.
const local = new Map<string, Effect.Semaphore>()
const semaphoreFor = (path: string) => {
  let sem = local.get(path)
  if (sem === undefined) {
    sem = Effect.unsafeMakeSemaphore(1)
    local.set(path, sem)
  }
  return sem
}

/** Builds the service with the given tuning. */
export const makeFileLock = (options: FileLockOptions = defaultFileLockOptions) =>
  Effect.sync(() => {
    // Waiting is interruptible; once the permit is ours the release is registered before anything
    // else can interrupt (the same shape as Semaphore.withPermits).
    const takeLocal = (path: string) =>
      Effect.uninterruptibleMask((restore) => {
        const sem = semaphoreFor(path)
        return restore(sem.take(1)).pipe(Effect.zipRight(Effect.addFinalizer(() => sem.release(1))))
      })

    // The descriptor is closed with the scope: that is the release (the kernel drops the lock).
    const openFile = (path: string) =>
      Effect.flatMap(flocker, (f) =>
        Effect.acquireRelease(
          Effect.try({
            try: () => f.open(path, true)!,
            catch: (e) => lockStorageError(path, "cannot open lock file", e)
          }),
          (file) => Effect.sync(() => file.close())
        ))

    const lock = (path: string, opts: { readonly timeout: Duration.DurationInput }) =>
      Effect.gen(function*() {
        const abs = resolve(path)
        const timeout = Duration.decode(opts.timeout)
        const outer = yield* Effect.scope
        // Everything taken while waiting goes in a child scope: closed at once on failure or
        // interruption, left to the caller's scope on success.
        const inner = yield* Scope.fork(outer, ExecutionStrategy.sequential)
        const acquire = Effect.gen(function*() {
          yield* takeLocal(abs)
          const file = yield* openFile(abs)
          yield* Effect.try({
            try: () => file.tryLock(),
            catch: (e) => lockStorageError(abs, "cannot lock", e)
          }).pipe(
            Effect.filterOrFail((got) => got, () => new Busy()),
            Effect.retry({
              schedule: Schedule.spaced(options.pollInterval).pipe(Schedule.jittered),
              while: (e) => e._tag === "Busy"
            }),
            // The schedule never ends, so Busy cannot get out: only the timeout stops the polling.
            Effect.catchTag("Busy", (e) => Effect.die(e))
          )
          const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
          yield* Effect.sync(() => removeLegacyLockDir(abs, now))
        })
        yield* acquire.pipe(
          Scope.extend(inner),
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () => new LockTimeout({ path: abs, seconds: Duration.toSeconds(timeout) })
          }),
          Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Scope.close(inner, exit)))
        )
      }).pipe(Effect.withSpan("FileLock.lock", { attributes: { path } }))

    const isLocked = (path: string) =>
      Effect.flatMap(flocker, (f) =>
        Effect.try({
          try: () => probeLocked(f, resolve(path)),
          catch: (e) => lockStorageError(path, "cannot inspect lock", e)
        }))

    return FileLock.of({ lock, isLocked })
  })

/** Kernel locks on the Go CLI's lock files, interruptible bounded polling. */
export const FileLockLive: Layer.Layer<FileLock> = Layer.effect(FileLock, makeFileLock())

// ---------------------------------------------------------------------------------------------
// Inspection (`profile doctor`): the lock layout of a directory, known here and nowhere else.
// ---------------------------------------------------------------------------------------------

/**
 * The `*.lock` files of `dir` and whether a process holds each (`isLocked`: a `LOCK_NB` probe, so the
 * Go CLI's holds count too), plus the `<file>.lock` directories older versions of this CLI left; a
 * symbolic link named like a lock file is reported, never followed.
 */
export const makeLockInspector = (isLocked: FileLockShape["isLocked"]) =>
  LockInspector.of({
    inspect: (dir) =>
      Effect.gen(function*() {
        const names = yield* Effect.tryPromise(() => readdir(dir)).pipe(Effect.orElseSucceed((): Array<string> => []))
        const types = yield* Effect.forEach(names, (name) =>
          Effect.tryPromise(() => lstat(join(dir, name))).pipe(
            Effect.map((st) => [name, st.isDirectory()] as const),
            Effect.orElseSucceed(() => [name, false] as const)
          ))
        const legacyDirs = new Set(types.filter(([n, isDir]) => isDir && n.endsWith(".lock.lock")).map(([n]) => n))
        const bases = new Set<string>()
        for (const [name] of types) {
          if (legacyDirs.has(name)) bases.add(name.slice(0, -".lock".length))
          else if (name.endsWith(".lock")) bases.add(name)
        }
        const locks: Array<LockState> = []
        const unusable: Array<UnusableLock> = []
        for (const name of [...bases].sort()) {
          const path = join(dir, name)
          const held = yield* Effect.either(isLocked(path))
          if (Either.isLeft(held)) unusable.push({ path, message: held.left.message, hint: held.left.hint })
          locks.push({
            name,
            path,
            held: Either.getOrElse(held, () => false),
            legacyDir: legacyDirs.has(`${name}.lock`)
          })
        }
        return { locks, unusable }
      })
  })

/** Inspection over the process's lock port. */
export const LockInspectorLive: Layer.Layer<LockInspector, never, FileLock> = Layer.effect(
  LockInspector,
  Effect.map(FileLock, (locks) => makeLockInspector(locks.isLocked))
)
