/**
 * The single-flight refresher: an in-process Semaphore(1) per olaresId, then the cross-process file
 * lock, re-reading the stored record after each, and only then one `/api/refresh` (spec section 7,
 * reference notes 6.5).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as SynchronizedRef from "effect/SynchronizedRef"
import { refreshLockPath } from "../src/domain/OlaresId.js"
import type { StoredToken } from "../src/domain/StoredToken.js"
import { isInvalidated } from "../src/domain/StoredToken.js"
import { grantNotStored, NotLoggedIn, TokenInvalidated } from "../src/errors.js"
import { AppPaths } from "../src/services/AppPaths.js"
import { FileLock } from "../src/services/FileLock.js"
import { KeyStore } from "../src/services/KeyStore.js"
import type { AuthTarget, TokenGrant } from "../src/services/OlaresAuthApi.js"
import { OlaresAuthApi } from "../src/services/OlaresAuthApi.js"
import { RefreshCoordinator } from "../src/services/RefreshCoordinator.js"
import type { RefreshError } from "../src/services/RefreshCoordinator.js"

/** How long to wait for another process that holds the refresh lock. */
export const REFRESH_LOCK_TIMEOUT = "30 seconds"

/** The `/api/refresh` timeout of the refresher. */
export const REFRESH_HTTP_TIMEOUT = "15 seconds"

/** What a check of the stored record says to do for a caller that saw `stale`. */
export type RefreshDecision = "not-logged-in" | "invalidated" | "use-stored" | "refresh"

/** Check #1 / #2 of the refresher: pure, so it can be property-tested. */
export const decide = (stored: Option.Option<StoredToken>, stale: string): RefreshDecision => {
  if (Option.isNone(stored)) return "not-logged-in"
  if (isInvalidated(stored.value)) return "invalidated"
  const current = Redacted.value(stored.value.accessToken)
  // Someone (another fiber or process) already rotated the token the caller saw: no network.
  if (current !== "" && current !== stale) return "use-stored"
  return "refresh"
}

/** `<locksDir>/<sanitized id>.refresh.lock`, the reference's lock file name. */
export { refreshLockPath }

/** Builds the coordinator from its dependencies (yielded once, so `refresh` has `R = never`). */
export const make = Effect.gen(function*() {
  const store = yield* KeyStore
  const locks = yield* FileLock
  const api = yield* OlaresAuthApi
  const paths = yield* AppPaths
  const semaphores = yield* SynchronizedRef.make(new Map<string, Effect.Semaphore>())

  const semaphoreFor = (id: string) =>
    SynchronizedRef.modifyEffect(semaphores, (m) => {
      const existing = m.get(id)
      if (existing !== undefined) return Effect.succeed([existing, m] as const)
      return Effect.map(Effect.makeSemaphore(1), (s) => [s, new Map(m).set(id, s)] as const)
    })

  /** Checks #1 and #2: `Some(token)` means "return this, no network", `None` means "refresh". */
  const settle = (
    id: string,
    stored: Option.Option<StoredToken>,
    stale: string
  ): Effect.Effect<Option.Option<Redacted.Redacted<string>>, NotLoggedIn | TokenInvalidated> => {
    switch (decide(stored, stale)) {
      case "not-logged-in":
        return Effect.fail(new NotLoggedIn({ olaresId: id }))
      case "invalidated":
        return Effect.fail(
          new TokenInvalidated({ olaresId: id, invalidatedAt: Option.getOrThrow(stored).invalidatedAt ?? 0 })
        )
      case "use-stored":
        return Effect.succeed(Option.some(Option.getOrThrow(stored).accessToken))
      case "refresh":
        return Effect.succeed(Option.none<Redacted.Redacted<string>>())
    }
  }

  const markDead = (id: string) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      // Best effort, as the reference: the typed error is what the caller needs either way.
      yield* store.markInvalidated(id, now).pipe(
        Effect.catchAll((e) =>
          Effect.logWarning(
            `failed to persist invalidated marker for ${id}: ${e.message} (refresh attempt will repeat next run)`
          )
        )
      )
      return yield* Effect.fail(new TokenInvalidated({ olaresId: id, invalidatedAt: now }))
    })

  /** Runs under the file lock. */
  const exchange = (target: AuthTarget, stale: string) =>
    Effect.gen(function*() {
      const id = target.olaresId
      // Check #2: another process may have finished while we waited for the file lock.
      const stored = yield* store.get(id)
      const settled = yield* settle(id, stored, stale)
      if (Option.isSome(settled)) return settled.value
      const record = Option.getOrThrow(stored)
      const refreshToken = record.refreshToken
      if (refreshToken === undefined || Redacted.value(refreshToken) === "") {
        return yield* Effect.fail(new NotLoggedIn({ olaresId: id }))
      }
      const storedAccess = Redacted.value(record.accessToken) === ""
        ? Option.none<Redacted.Redacted<string>>()
        : Option.some(record.accessToken)
      const persist = (grant: TokenGrant) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const rotated = Option.filter(grant.refreshToken, (t) => Redacted.value(t) !== "")
          const sessionId = Option.getOrElse(Option.filter(grant.sessionId, (s) => s !== ""), () => record.sessionId)
          const next: StoredToken = {
            olaresId: id,
            accessToken: grant.accessToken,
            refreshToken: Option.getOrElse(rotated, () => refreshToken),
            ...(sessionId === undefined || sessionId === "" ? {} : { sessionId }),
            grantedAt: now
          }
          yield* store.set(next).pipe(
            Effect.mapError((e) => grantNotStored(id, e, `olares-cli profile login --olares-id ${id}`))
          )
          return grant.accessToken
        })
      // No exchange without a place to keep its result (issue 10): the master key and the record's
      // room are reserved until the lock's scope closes, so the write below cannot run out of space.
      yield* store.reserve(id)
      // Once the server has rotated the grant, losing the answer would strand the user: only the
      // exchange itself may be interrupted, never the write that follows it.
      return yield* Effect.uninterruptibleMask((restore) =>
        restore(api.refresh(target, refreshToken, storedAccess, REFRESH_HTTP_TIMEOUT)).pipe(
          Effect.catchTag("RefreshRejected", () => markDead(id)),
          Effect.flatMap(persist)
        )
      )
    })

  const refresh = Effect.fn("RefreshCoordinator.refresh")(
    function*(target: AuthTarget, staleToken: Redacted.Redacted<string>) {
      const id = target.olaresId
      const stale = Redacted.value(staleToken)
      const semaphore = yield* semaphoreFor(id)
      return yield* semaphore.withPermits(1)(
        Effect.gen(function*() {
          // Check #1: a fiber ahead of us in the semaphore may already have refreshed.
          const fresh = yield* Effect.flatMap(store.get(id), (stored) => settle(id, stored, stale))
          if (Option.isSome(fresh)) return fresh.value
          return yield* Effect.scoped(
            Effect.zipRight(
              locks.lock(refreshLockPath(paths.locksDir, id), { timeout: REFRESH_LOCK_TIMEOUT }),
              exchange(target, stale)
            )
          )
        })
      )
    },
    (effect): Effect.Effect<Redacted.Redacted<string>, RefreshError> => effect
  )

  return RefreshCoordinator.of({ refresh })
})

/** The live coordinator: Semaphore -> file lock -> re-read -> `/api/refresh`. */
export const RefreshCoordinatorLive: Layer.Layer<RefreshCoordinator, never, KeyStore | FileLock | OlaresAuthApi | AppPaths> =
  Layer.effect(RefreshCoordinator, make)
