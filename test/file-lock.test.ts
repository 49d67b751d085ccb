/** FileLockLive: timeouts, in-process queueing, interruption, stale takeover of a SIGKILLed process. */
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Ref from "effect/Ref"
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { rmdir } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FileLockLive, makeFileLock } from "../layers/FileLockLive.js"
import { LockTimeout } from "../src/errors.js"
import { FileLock } from "../src/services/FileLock.js"
import { removeWorkerBundle, spawnWorker } from "./support/repo-worker.js"

afterAll(removeWorkerBundle)

/** A temp directory removed with the test's scope. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "olares-lock-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const mode = (p: string) => statSync(p).mode & 0o777

/** Logs captured in memory instead of printed. */
const captureLogs = Effect.gen(function*() {
  const lines = yield* Ref.make<ReadonlyArray<string>>([])
  const logger = Logger.make(({ message }) => {
    Effect.runSync(Ref.update(lines, (ls) => [...ls, Array.isArray(message) ? message.join(" ") : String(message)]))
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
})

describe("FileLockLive", () => {
  it.scopedLive("creates a 0600 lock file in a 0700 dir and removes the lock dir on release", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "locks", "config.lock")
      const lock = yield* FileLock
      yield* Effect.scoped(
        Effect.gen(function*() {
          yield* lock.lock(path, { timeout: "1 second" })
          expect(mode(join(dir, "locks"))).toBe(0o700)
          expect(mode(path)).toBe(0o600)
          expect(existsSync(`${path}.lock`)).toBe(true)
          expect(yield* lock.isLocked(path)).toBe(true)
        })
      )
      expect(existsSync(path)).toBe(true)
      expect(existsSync(`${path}.lock`)).toBe(false)
      expect(yield* lock.isLocked(path)).toBe(false)
    }).pipe(Effect.provide(FileLockLive)))

  it.scopedLive("leaves an existing lock file (e.g. the Go CLI's flock file) as it is", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "x.lock")
      writeFileSync(path, "go", { mode: 0o600 })
      const lock = yield* FileLock
      yield* Effect.scoped(lock.lock(path, { timeout: "1 second" }))
      expect(readFileSync(path, "utf8")).toBe("go")
    }).pipe(Effect.provide(FileLockLive)))

  it.scopedLive("fibers of one process take turns, never overlap, and never deadlock", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "turns.lock")
      const lock = yield* FileLock
      const inside = yield* Ref.make(0)
      const maxInside = yield* Ref.make(0)
      const done = yield* Ref.make(0)
      const critical = Effect.scoped(
        Effect.gen(function*() {
          yield* lock.lock(path, { timeout: "20 seconds" })
          const n = yield* Ref.updateAndGet(inside, (k) => k + 1)
          yield* Ref.update(maxInside, (m) => Math.max(m, n))
          yield* Effect.sleep("15 millis")
          yield* Ref.update(inside, (k) => k - 1)
          yield* Ref.update(done, (k) => k + 1)
        })
      )
      yield* Effect.all(Array.from({ length: 12 }, () => critical), { concurrency: "unbounded" })
      expect(yield* Ref.get(done)).toBe(12)
      expect(yield* Ref.get(maxInside)).toBe(1)
      expect(existsSync(`${path}.lock`)).toBe(false)
    }).pipe(Effect.provide(FileLockLive)))

  it.scopedLive("two independent layer instances in one process still exclude each other", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "twice.lock")
      const a = yield* makeFileLock()
      const b = yield* makeFileLock()
      const held = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(
        Effect.scoped(
          Effect.gen(function*() {
            yield* a.lock(path, { timeout: "1 second" })
            yield* Deferred.succeed(held, undefined)
            yield* Deferred.await(release)
          })
        )
      )
      yield* Deferred.await(held)
      const blocked = yield* Effect.scoped(b.lock(path, { timeout: "300 millis" })).pipe(Effect.flip)
      expect(blocked).toBeInstanceOf(LockTimeout)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      yield* Effect.scoped(b.lock(path, { timeout: "1 second" }))
    }))

  it.scopedLive("fails LockTimeout after the bound, naming the path and the seconds", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "busy.lock")
      const lock = yield* FileLock
      const held = yield* Deferred.make<void>()
      yield* Effect.forkScoped(
        Effect.scoped(
          Effect.zipRight(lock.lock(path, { timeout: "1 second" }), Deferred.succeed(held, undefined)).pipe(
            Effect.zipRight(Effect.never)
          )
        )
      )
      yield* Deferred.await(held)
      const start = yield* Clock.currentTimeMillis
      const err = yield* Effect.scoped(lock.lock(path, { timeout: "400 millis" })).pipe(Effect.flip)
      const elapsed = (yield* Clock.currentTimeMillis) - start
      expect(err).toBeInstanceOf(LockTimeout)
      expect(err).toMatchObject({ _tag: "LockTimeout", path, seconds: 0.4 })
      expect(err.message).toContain(path)
      expect(elapsed).toBeGreaterThanOrEqual(380)
      expect(elapsed).toBeLessThan(3_000)
    }).pipe(Effect.provide(FileLockLive)))

  it.scopedLive("interrupting a waiter leaves nothing held: the next taker gets the lock at once", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "intr.lock")
      const lock = yield* FileLock
      const held = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const waiterGotIt = yield* Ref.make(false)
      const holder = yield* Effect.fork(
        Effect.scoped(
          Effect.gen(function*() {
            yield* lock.lock(path, { timeout: "1 second" })
            yield* Deferred.succeed(held, undefined)
            yield* Deferred.await(release)
          })
        )
      )
      yield* Deferred.await(held)
      // several waiters, interrupted at different moments of their polling
      for (const wait of ["0 millis", "30 millis", "120 millis"] as const) {
        const waiter = yield* Effect.fork(
          Effect.scoped(Effect.zipRight(lock.lock(path, { timeout: "30 seconds" }), Ref.set(waiterGotIt, true)))
        )
        yield* Effect.sleep(wait)
        const exit = yield* Fiber.interrupt(waiter)
        expect(Exit.isInterrupted(exit)).toBe(true)
      }
      expect(yield* Ref.get(waiterGotIt)).toBe(false)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      expect(existsSync(`${path}.lock`)).toBe(false)
      // an in-process permit or a file lock left behind would make this time out
      yield* Effect.scoped(lock.lock(path, { timeout: "3 seconds" }))
    }).pipe(Effect.provide(FileLockLive)))

  it.scopedLive("a timed-out attempt inside a longer scope gives back what it took at once", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "scope.lock")
      const lock = yield* FileLock
      // a holder outside our in-process queue (the raw library, as another process would be)
      const raw = yield* Effect.promise(() =>
        import("proper-lockfile").then((m) => m.default.lock(path, { realpath: false, stale: 5_000 }))
      )
      // the failed attempt is caught, and the surrounding scope stays open
      const err = yield* lock.lock(path, { timeout: "250 millis" }).pipe(Effect.flip)
      expect(err._tag).toBe("LockTimeout")
      yield* Effect.promise(() => raw())
      // had the failed attempt kept its in-process permit until the end of this scope, this would time out
      yield* Effect.forkScoped(Effect.scoped(lock.lock(path, { timeout: "3 seconds" }))).pipe(
        Effect.flatMap(Fiber.join)
      )
    }).pipe(Effect.provide(FileLockLive)))

  it.scopedLive("a lock lost while held is logged, not thrown, and its release leaves the new holder alone", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "lost.lock")
      const { layer, lines } = yield* captureLogs
      const next = spawnWorker(["hold", path])
      yield* Effect.addFinalizer(() => Effect.sync(() => next.child.kill("SIGKILL")))
      yield* Effect.gen(function*() {
        const lock = yield* FileLock
        yield* Effect.scoped(
          Effect.gen(function*() {
            yield* lock.lock(path, { timeout: "1 second" })
            // someone removes our lock dir and another process takes the lock; our heartbeat (1 s)
            // notices that the lock is no longer ours
            yield* Effect.promise(() => rmdir(`${path}.lock`))
            yield* Effect.promise(() => next.waitFor("locked"))
            yield* Effect.sleep("1500 millis")
          })
        )
        expect((yield* Ref.get(lines)).some((l) => l.includes("was lost while held"))).toBe(true)
        // our release did not remove the other process's lock
        expect(existsSync(`${path}.lock`)).toBe(true)
        expect(yield* lock.isLocked(path)).toBe(true)
        next.child.kill("SIGKILL")
      }).pipe(Effect.provide(Layer.merge(FileLockLive, layer)))
    }), 20_000)

  it.scopedLive("a SIGKILLed holder in another process is taken over within the stale bound", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "locks", "alice@olares.com.refresh.lock")
      const lock = yield* FileLock
      const holder = spawnWorker(["hold", path])
      yield* Effect.addFinalizer(() => Effect.sync(() => holder.child.kill("SIGKILL")))
      yield* Effect.promise(() => holder.waitFor("locked"))
      expect(yield* lock.isLocked(path)).toBe(true)

      // held by a live process: we time out
      const err = yield* Effect.scoped(lock.lock(path, { timeout: "600 millis" })).pipe(Effect.flip)
      expect(err._tag).toBe("LockTimeout")

      holder.child.kill("SIGKILL")
      const gone = yield* Effect.promise(() => holder.exited)
      expect(gone.signal).toBe("SIGKILL")
      const killedAt = yield* Clock.currentTimeMillis
      // the dead holder's lock dir stays behind until it goes stale
      expect(existsSync(`${path}.lock`)).toBe(true)
      yield* Effect.scoped(
        Effect.gen(function*() {
          yield* lock.lock(path, { timeout: "15 seconds" })
          const waited = (yield* Clock.currentTimeMillis) - killedAt
          // stale bound 5 s after the last heartbeat (<= 1 s before the kill), plus polling and load
          expect(waited).toBeLessThan(8_000)
          expect(yield* lock.isLocked(path)).toBe(true)
        })
      )
      expect(yield* lock.isLocked(path)).toBe(false)
    }).pipe(Effect.provide(FileLockLive)), 30_000)

  it.scopedLive("waiting on another process is interruptible and takes nothing", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "xproc.lock")
      const lock = yield* FileLock
      const holder = spawnWorker(["hold", path])
      yield* Effect.addFinalizer(() => Effect.sync(() => holder.child.kill("SIGKILL")))
      yield* Effect.promise(() => holder.waitFor("locked"))
      const waiter = yield* Effect.fork(Effect.scoped(lock.lock(path, { timeout: "30 seconds" })))
      yield* Effect.sleep("300 millis")
      expect(Exit.isInterrupted(yield* Fiber.interrupt(waiter))).toBe(true)
      // the holder still owns it: its lock dir is intact and still fresh
      expect(yield* lock.isLocked(path)).toBe(true)
      const err = yield* Effect.scoped(lock.lock(path, { timeout: "200 millis" })).pipe(Effect.flip)
      expect(err._tag).toBe("LockTimeout")
    }).pipe(Effect.provide(FileLockLive)), 30_000)
})
