/**
 * FileLockLive: the kernel lock on the lock file itself; timeouts, in-process queueing, interruption,
 * a SIGKILLed holder freeing it at once, and lock files that are not plain files refused at once.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import { execFileSync } from "node:child_process"
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FileLockLive, makeFileLock } from "../../layers/FileLockLive.js"
import { makeFlocker, requireKoffi } from "../../layers/internal/Flock.js"
import { LockTimeout, StorageError } from "../../src/errors.js"
import { FileLock } from "../../src/services/FileLock.js"
import { flockBusy, spawnGo } from "../support/golock.js"
import { removeWorkerBundle, spawnWorker } from "../support/repo-worker.js"

afterAll(removeWorkerBundle)

/** A temp directory removed with the test's scope. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "olares-lock-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const mode = (p: string) => statSync(p).mode & 0o777

describe("FileLockLive", () => {
  it.scopedLive("creates a 0600 lock file in a 0700 dir, flocks it (flock(1) sees it held), and nothing else", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "locks", "config.lock")
      const lock = yield* FileLock
      yield* Effect.scoped(
        Effect.gen(function*() {
          yield* lock.lock(path, { timeout: "1 second" })
          expect(mode(join(dir, "locks"))).toBe(0o700)
          expect(mode(path)).toBe(0o600)
          expect(flockBusy(path)).toBe(true)
          expect(yield* lock.isLocked(path)).toBe(true)
        })
      )
      expect(readdirSync(join(dir, "locks"))).toEqual(["config.lock"])
      expect(flockBusy(path)).toBe(false)
      expect(yield* lock.isLocked(path)).toBe(false)
    }).pipe(Effect.provide(FileLockLive)))

  it.scopedLive("isLocked never creates a missing lock file", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const lock = yield* FileLock
      expect(yield* lock.isLocked(join(dir, "nothing.lock"))).toBe(false)
      expect(readdirSync(dir)).toEqual([])
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
      expect(flockBusy(path)).toBe(false)
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
      expect(flockBusy(path)).toBe(false)
      // an in-process permit or a file lock left behind would make this time out
      yield* Effect.scoped(lock.lock(path, { timeout: "3 seconds" }))
    }).pipe(Effect.provide(FileLockLive)))

  it.scopedLive("a timed-out attempt inside a longer scope gives back what it took at once", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "scope.lock")
      const lock = yield* FileLock
      // a holder outside our in-process queue: the Go program, as the Go CLI would be
      const go = spawnGo(["hold", path, "60000"])
      yield* Effect.addFinalizer(() => Effect.sync(() => go.child.kill("SIGKILL")))
      yield* Effect.promise(() => go.waitFor("locked"))
      // the failed attempt is caught, and the surrounding scope stays open
      const err = yield* lock.lock(path, { timeout: "250 millis" }).pipe(Effect.flip)
      expect(err._tag).toBe("LockTimeout")
      go.child.kill("SIGKILL")
      yield* Effect.promise(() => go.exited)
      // had the failed attempt kept its in-process permit until the end of this scope, this would time out
      yield* Effect.forkScoped(Effect.scoped(lock.lock(path, { timeout: "3 seconds" }))).pipe(
        Effect.flatMap(Fiber.join)
      )
    }).pipe(Effect.provide(FileLockLive)))

  it.scopedLive("a SIGKILLed holder in another process frees the lock at once", () =>
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
      // no stale bound: the kernel dropped the dead holder's lock, so the first attempt gets it
      expect(yield* lock.isLocked(path)).toBe(false)
      yield* Effect.scoped(
        Effect.gen(function*() {
          yield* lock.lock(path, { timeout: "1 millis" })
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
      // the holder still owns it
      expect(yield* lock.isLocked(path)).toBe(true)
      const err = yield* Effect.scoped(lock.lock(path, { timeout: "200 millis" })).pipe(Effect.flip)
      expect(err._tag).toBe("LockTimeout")
    }).pipe(Effect.provide(FileLockLive)), 30_000)

  it.scopedLive("a symlinked lock file is refused at once, its target never created or touched", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const lock = yield* FileLock
      const target = join(dir, "elsewhere")
      const path = join(dir, "config.lock")
      symlinkSync(target, path)
      const err = yield* Effect.scoped(lock.lock(path, { timeout: "5 seconds" })).pipe(Effect.flip)
      expect(err).toBeInstanceOf(StorageError)
      expect(err.message).toContain("symbolic link")
      expect((err as StorageError).hint).toBe(
        `remove the link (rm ${JSON.stringify(path)}); it is recreated as a plain file`
      )
      expect(existsSync(target)).toBe(false)
      writeFileSync(target, "keep", { mode: 0o644 })
      expect(yield* Effect.flip(Effect.scoped(lock.lock(path, { timeout: "5 seconds" })))).toBeInstanceOf(StorageError)
      expect(mode(target)).toBe(0o644)
      expect(readFileSync(target, "utf8")).toBe("keep")
      expect(yield* Effect.flip(lock.isLocked(path))).toBeInstanceOf(StorageError)
    }).pipe(Effect.provide(FileLockLive)))

  it.scopedLive("a FIFO or a directory in place of the lock file is refused at once, without blocking", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const lock = yield* FileLock
      const fifo = join(dir, "fifo.lock")
      execFileSync("mkfifo", [fifo])
      const folder = join(dir, "dir.lock")
      mkdirSync(folder)
      for (const path of [fifo, folder]) {
        const start = yield* Clock.currentTimeMillis
        const err = yield* Effect.scoped(lock.lock(path, { timeout: "20 seconds" })).pipe(Effect.flip)
        expect(err).toBeInstanceOf(StorageError)
        expect(err.message).toContain("not a regular file")
        expect((err as StorageError).hint).toContain(`mv ${JSON.stringify(path)} ${JSON.stringify(`${path}.bad`)}`)
        expect((yield* Clock.currentTimeMillis) - start).toBeLessThan(5_000)
        expect(yield* Effect.flip(lock.isLocked(path))).toBeInstanceOf(StorageError)
      }
    }).pipe(Effect.provide(FileLockLive)))

  it.scopedLive("a lock directory an older olares-cli-ts left is removed by the next lock once over 5 s old", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const lock = yield* FileLock
      const old = join(dir, "old.lock")
      const fresh = join(dir, "fresh.lock")
      mkdirSync(`${old}.lock`)
      const t = new Date(Date.now() - 60_000)
      utimesSync(`${old}.lock`, t, t)
      mkdirSync(`${fresh}.lock`)
      yield* Effect.scoped(lock.lock(old, { timeout: "1 second" }))
      yield* Effect.scoped(lock.lock(fresh, { timeout: "1 second" }))
      expect(existsSync(`${old}.lock`)).toBe(false)
      // a fresh one may still belong to a running older version: left alone (doctor reports it)
      expect(existsSync(`${fresh}.lock`)).toBe(true)
    }).pipe(Effect.provide(FileLockLive)))
})

describe("lock directories under a pseudo file system", () => {
  it("a lock under /proc fails at once with ENOENT (Node's recursive mkdir would loop forever there)", () => {
    const flocker = makeFlocker(requireKoffi(createRequire(import.meta.url)))
    let code: string | undefined
    try {
      flocker.open("/proc/olares-cli-lock-test/locks/config.lock", true)
    } catch (e) {
      code = (e as NodeJS.ErrnoException).code
    }
    expect(code).toBe("ENOENT")
  })
})
