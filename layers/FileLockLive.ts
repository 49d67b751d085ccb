/**
 * Cross-process locks with `proper-lockfile` (an atomic `mkdir` of `<path>.lock`, kept fresh by an
 * mtime heartbeat so a killed holder goes stale and is taken over), plus an in-process semaphore per
 * path so fibers of one process queue instead of polling each other.
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { dirname, resolve } from "node:path"
import { LockTimeout, StorageError } from "../src/errors.js"
import { FileLock } from "../src/services/FileLock.js"
import { ensureLockFileSync } from "./LockDir.js"

/** Tuning for the lock heartbeat and polling. */
export interface FileLockOptions {
  /** A lock whose heartbeat is older than this is considered abandoned and taken over (ms, >= 2000). */
  readonly staleMs: number
  /** How often a holder refreshes its heartbeat (ms, >= 1000, <= staleMs / 2). */
  readonly updateMs: number
  /** Pause between two attempts while another process holds the lock. */
  readonly pollInterval: Duration.DurationInput
}

/** Defaults: a SIGKILLed holder is taken over after about 5 s; waiters poll every ~75 ms. */
export const defaultFileLockOptions: FileLockOptions = { staleMs: 5_000, updateMs: 1_000, pollInterval: "75 millis" }

type ProperLockfile = typeof import("proper-lockfile")

// Loaded on first use: read-only commands never lock, so they never pay for the module (and its
// signal-exit hooks).
let loaded: Promise<ProperLockfile> | undefined
const properLockfile = Effect.promise(() => (loaded ??= import("proper-lockfile").then((m) => m.default ?? m)))

/** Another holder has the lock right now; retried until the timeout. */
class Busy extends Data.TaggedError("Busy")<{}> {}

const errnoCode = (e: unknown): string | undefined =>
  typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : undefined

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const storageError = (path: string, what: string, e: unknown) => {
  const code = errnoCode(e)
  const dir = dirname(path)
  const hint = code === "EACCES" || code === "EPERM" || code === "EROFS"
    ? `make ${dir} writable, or set OLARES_CLI_HOME to a writable directory`
    : code === "ENOSPC"
    ? `free some disk space on the file system holding ${dir} and retry`
    : `check that ${dir} is a writable directory`
  return new StorageError({ path, detail: `${what}: ${errText(e)}`, hint })
}

/** Creates the parent dir (0700) and an empty lock file (0600), the shape the Go CLI's flock uses. */
const ensureLockFile = (path: string) =>
  Effect.try({
    try: () => ensureLockFileSync(path),
    catch: (e) => storageError(path, "cannot create lock file", e)
  })

// One semaphore per lock path for the whole process, never removed (the set of paths is tiny:
// config + one per identity). Process-wide rather than per layer because proper-lockfile keeps its
// held locks in a process-wide map keyed by path: two holders in one process would confuse it.
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

    // One uninterruptible mkdir attempt; on success its release lands in the current scope at once.
    const attempt = (path: string, runtime: Runtime.Runtime<never>) =>
      Effect.acquireRelease(
        Effect.flatMap(properLockfile, (pl) =>
          Effect.tryPromise({
            try: () =>
              pl.lock(path, {
                realpath: false,
                retries: 0,
                stale: options.staleMs,
                update: options.updateMs,
                // The default throws from a timer and kills the process. Losing the lock (our
                // heartbeat stalled past the stale bound and someone took over) cannot be undone
                // here; the work under it is already running, so say so and carry on. The release
                // then knows the lock is gone and leaves the new holder's lock alone.
                onCompromised: (err) =>
                  Runtime.runFork(runtime)(
                    Effect.logWarning(`lock ${path} was lost while held: ${err.message}`).pipe(
                      Effect.annotateLogs({ lock: path })
                    )
                  )
              }),
            catch: (e) => (errnoCode(e) === "ELOCKED" ? new Busy() : storageError(path, "cannot lock", e))
          })),
        (release) => Effect.promise(() => release().catch(() => undefined))
      )

    const lock = (path: string, opts: { readonly timeout: Duration.DurationInput }) =>
      Effect.gen(function*() {
        const abs = resolve(path)
        const timeout = Duration.decode(opts.timeout)
        const runtime = yield* Effect.runtime<never>()
        const outer = yield* Effect.scope
        // Everything taken while waiting goes in a child scope: closed at once on failure or
        // interruption, left to the caller's scope on success.
        const inner = yield* Scope.fork(outer, ExecutionStrategy.sequential)
        const acquire = Effect.gen(function*() {
          yield* takeLocal(abs)
          yield* ensureLockFile(abs)
          yield* attempt(abs, runtime).pipe(
            Effect.retry({
              schedule: Schedule.spaced(options.pollInterval).pipe(Schedule.jittered),
              while: (e) => e._tag === "Busy"
            }),
            // The schedule never ends, so Busy cannot get out: only the timeout stops the polling.
            Effect.catchTag("Busy", (e) => Effect.die(e))
          )
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
      Effect.flatMap(properLockfile, (pl) =>
        Effect.tryPromise({
          try: () => pl.check(resolve(path), { realpath: false, stale: options.staleMs }),
          catch: (e) => storageError(path, "cannot inspect lock", e)
        }))

    return FileLock.of({ lock, isLocked })
  })

/** proper-lockfile locks: `<path>.lock` dirs, ~5 s stale takeover, interruptible polling. */
export const FileLockLive: Layer.Layer<FileLock> = Layer.effect(FileLock, makeFileLock())
