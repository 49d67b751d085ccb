/**
 * In-process locks behind the `FileLock` port, for tests: exclusive per path, released with the
 * scope, interruptible while waiting. The wait is bounded on Effect's `Clock`, so under
 * @effect/vitest's `it.effect` a contended lock times out when the test moves the TestClock
 * (`TestClock.adjust`), not in real time.
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as SynchronizedRef from "effect/SynchronizedRef"
import * as NodePath from "node:path"
import { LockTimeout } from "../src/errors.js"
import { FileLock } from "../src/services/FileLock.js"
import { LockInspector } from "../src/services/LockInspector.js"

const makeTable = Effect.gen(function*() {
  const locks = yield* SynchronizedRef.make(new Map<string, Effect.Semaphore>())
  const held = yield* Ref.make(new Set<string>())

  const semaphoreFor = (path: string) =>
    SynchronizedRef.modifyEffect(locks, (m) => {
      const existing = m.get(path)
      if (existing !== undefined) return Effect.succeed([existing, m] as const)
      return Effect.map(Effect.makeSemaphore(1), (s) => [s, new Map(m).set(path, s)] as const)
    })

  const mark = (path: string, on: boolean) =>
    Ref.update(held, (s) => {
      const next = new Set(s)
      if (on) next.add(path)
      else next.delete(path)
      return next
    })

  const lockPort = FileLock.of({
    lock: (path, { timeout }) =>
      Effect.flatMap(
        semaphoreFor(path),
        (semaphore) =>
          Effect.uninterruptibleMask((restore) =>
            restore(semaphore.take(1)).pipe(
              Effect.timeoutFail({
                duration: timeout,
                onTimeout: () => new LockTimeout({ path, seconds: Duration.toSeconds(Duration.decode(timeout)) })
              }),
              Effect.zipRight(mark(path, true)),
              Effect.zipRight(Effect.addFinalizer(() => Effect.zipRight(mark(path, false), semaphore.release(1))))
            )
          )
      ),
    isLocked: (path) => Effect.map(Ref.get(held), (s) => s.has(path))
  })

  // Every path ever locked here is a lock "file" of its directory; there is no legacy layout.
  const inspector = LockInspector.of({
    inspect: (dir) =>
      Effect.gen(function*() {
        const known = yield* SynchronizedRef.get(locks)
        const now = yield* Ref.get(held)
        const locksIn = [...known.keys()].filter((p) => NodePath.dirname(p) === dir)
          .map((path) => ({ name: NodePath.basename(path), path, held: now.has(path), legacyDir: false }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        return { locks: locksIn, unusable: [] }
      })
  })
  return { lockPort, inspector }
})

/** Builds the lock table. */
export const makeFileLockMemory = Effect.map(makeTable, (t) => t.lockPort)

/** Fresh in-memory locks. */
export const FileLockMemory: Layer.Layer<FileLock> = Layer.effect(FileLock, makeFileLockMemory)

/** Fresh in-memory locks with their inspector (both over one table). */
export const FileLockMemoryInspected: Layer.Layer<FileLock | LockInspector> = Layer.effectContext(
  Effect.map(makeTable, (t) => Context.make(FileLock, t.lockPort).pipe(Context.add(LockInspector, t.inspector)))
)
