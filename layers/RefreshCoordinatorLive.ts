/**
 * The single-flight refresher: an in-process Semaphore(1) per olaresId, then the cross-process file
 * locks (the config home's, which the Go CLI takes too, then the data dir's), re-reading the stored
 * record after each, and only then one `/api/refresh`, so a stale token is refreshed once. A
 * rejected refresh token only invalidates the record when it is still the stored one: a token that
 * someone else rotated meanwhile (a process of any tool, locked or not) means "use theirs".
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as SynchronizedRef from "effect/SynchronizedRef"
import { managedRecord } from "../src/domain/ManagedCredential.js"
import { refreshLockPath, refreshLockPaths } from "../src/domain/Paths.js"
import type { StoredToken } from "../src/domain/StoredToken.js"
import { isInvalidated, stillHolds } from "../src/domain/StoredToken.js"
import { grantNotStored, ManagedNotSecondFactor, NotLoggedIn, TokenInvalidated } from "../src/errors.js"
import { AppPaths } from "../src/services/AppPaths.js"
import { FileLock, lockAll } from "../src/services/FileLock.js"
import { KeyStore } from "../src/services/KeyStore.js"
import type { AuthTarget, TokenGrant } from "../src/services/OlaresAuthApi.js"
import { accountOf, OlaresAuthApi } from "../src/services/OlaresAuthApi.js"
import { RefreshCoordinator } from "../src/services/RefreshCoordinator.js"
import type { RefreshError } from "../src/services/RefreshCoordinator.js"

/** How long to wait for another process that holds the refresh lock. */
export const REFRESH_LOCK_TIMEOUT = "30 seconds"

/** The `/api/refresh` timeout of the refresher. */
export const REFRESH_HTTP_TIMEOUT = "15 seconds"

/** What a check of the stored record says to do for a caller that saw `stale`. */
export type RefreshDecision = "not-logged-in" | "invalidated" | "use-stored" | "refresh"

/**
 * Check #1 / #2 of the refresher: pure, so it can be property-tested. For a platform-issued grant
 * (`managed`) a missing record is a first run and a stamped one is retried: the mount supplies the
 * refresh token whatever the store holds, and the platform may have re-issued it meanwhile.
 */
export const decide = (stored: Option.Option<StoredToken>, stale: string, managed = false): RefreshDecision => {
  if (Option.isNone(stored)) return managed ? "refresh" : "not-logged-in"
  if (isInvalidated(stored.value)) return managed ? "refresh" : "invalidated"
  const current = Redacted.value(stored.value.accessToken)
  // Someone (another fiber or process) already rotated the token the caller saw: no network.
  if (current !== "" && current !== stale) return "use-stored"
  return "refresh"
}

/** `<locksDir>/<sanitized id>.refresh.lock`, the reference's lock file name; and both refresh locks in order. */
export { refreshLockPath, refreshLockPaths }

/** How many times one refresh follows a grant rotated by someone else before giving up. */
const MAX_EXCHANGES = 3

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
    stale: string,
    managed = false
  ): Effect.Effect<Option.Option<Redacted.Redacted<string>>, NotLoggedIn | TokenInvalidated> => {
    switch (decide(stored, stale, managed)) {
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

  /**
   * Stamps the record dead, but only if `rejected` is still its refresh token (the store re-checks;
   * `undefined` stamps unconditionally: a platform-issued record holds no refresh token to compare).
   */
  const markDead = (id: string, rejected: Redacted.Redacted<string> | undefined, managedApp?: string) =>
    Effect.gen(function*() {
      // 0 reads as "not invalidated" in the record format: a clock at the epoch (a TestClock) must
      // still leave a mark that sticks.
      const now = Math.max(1, yield* Clock.currentTimeMillis)
      // Best effort, as the reference: the typed error is what the caller needs either way.
      yield* store.markInvalidated(id, now, rejected).pipe(
        Effect.catchAll((e) =>
          Effect.logWarning(
            `failed to persist invalidated marker for ${id}: ${e.message} (refresh attempt will repeat next run)`
          )
        )
      )
      return yield* Effect.fail(new TokenInvalidated({ olaresId: id, invalidatedAt: now, managedApp }))
    })

  /** One `/api/refresh` with a grant: the new access token, or `None` when the server rejected it. */
  const exchangeOnce = (
    target: AuthTarget,
    record: StoredToken | undefined,
    refreshToken: Redacted.Redacted<string>
  ) => {
    const id = accountOf(target)
    const managed = target.managed
    const storedAccess = record === undefined || Redacted.value(record.accessToken) === ""
      ? Option.none<Redacted.Redacted<string>>()
      : Option.some(record.accessToken)
    const persist = (grant: TokenGrant) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        if (managed !== undefined) {
          // fa2 means no second factor was seen: a token that would 401 on every host; store nothing.
          if (grant.fa2 === true) return yield* Effect.fail(new ManagedNotSecondFactor({ olaresId: id }))
          yield* store.set(managedRecord(id, grant, now))
          return Option.some(grant.accessToken)
        }
        const rotated = Option.filter(grant.refreshToken, (t) => Redacted.value(t) !== "")
        const sessionId = Option.getOrElse(Option.filter(grant.sessionId, (s) => s !== ""), () => record?.sessionId)
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
        return Option.some(grant.accessToken)
      })
    // Once the server has rotated the grant, losing the answer would strand the user: only the
    // exchange itself may be interrupted, never the write that follows it.
    return Effect.uninterruptibleMask((restore) =>
      restore(api.refresh(target, refreshToken, storedAccess, REFRESH_HTTP_TIMEOUT)).pipe(
        Effect.flatMap(persist),
        Effect.catchTag("RefreshRejected", () => Effect.succeed(Option.none<Redacted.Redacted<string>>()))
      )
    )
  }

  /** Runs under the file locks. */
  const exchange = (target: AuthTarget, stale: string) =>
    Effect.gen(function*() {
      const id = accountOf(target)
      const managed = target.managed
      // Check #2: another process may have finished while we waited for the file locks.
      let stored = yield* store.get(id)
      for (let attempt = 1;; attempt++) {
        const settled = yield* settle(id, stored, stale, managed !== undefined)
        if (Option.isSome(settled)) return settled.value
        const record = Option.getOrUndefined(stored)
        // A platform-issued grant is refreshed from the mount only (its records never hold one).
        const refreshToken = managed !== undefined ? Option.getOrUndefined(managed.refreshToken) : record?.refreshToken
        if (refreshToken === undefined || Redacted.value(refreshToken) === "") {
          return yield* Effect.fail(new NotLoggedIn({ olaresId: id, managedApp: managed?.appName }))
        }
        // No exchange without a place to keep its result: the master key and the record's room are
        // reserved until the locks' scope closes, so the write after the exchange cannot run out of space.
        if (attempt === 1) yield* store.reserve(id)
        const fresh = yield* exchangeOnce(target, record, refreshToken)
        if (Option.isSome(fresh)) return fresh.value
        // The mount is the only copy of a platform-issued grant: nobody can have rotated it here.
        if (managed !== undefined) return yield* markDead(id, undefined, managed.appName)
        // Rejected. A lost race, not a dead grant, when the record no longer holds the token we
        // sent: a process that does not take our locks (or takes only some) rotated it meanwhile.
        // Then settle again on what it stored: its access token, or one more exchange with its grant.
        stored = yield* store.get(id)
        if (Option.isNone(stored)) return yield* Effect.fail(new NotLoggedIn({ olaresId: id }))
        if (stillHolds(stored.value, refreshToken) || attempt >= MAX_EXCHANGES) {
          return yield* markDead(id, refreshToken)
        }
      }
    })

  const refresh = Effect.fn("RefreshCoordinator.refresh")(
    function*(target: AuthTarget, staleToken: Redacted.Redacted<string>) {
      const id = accountOf(target)
      const stale = Redacted.value(staleToken)
      const semaphore = yield* semaphoreFor(id)
      return yield* semaphore.withPermits(1)(
        Effect.gen(function*() {
          // Check #1: a fiber ahead of us in the semaphore may already have refreshed.
          const fresh = yield* Effect.flatMap(
            store.get(id),
            (stored) => settle(id, stored, stale, target.managed !== undefined)
          )
          if (Option.isSome(fresh)) return fresh.value
          return yield* Effect.scoped(
            Effect.zipRight(
              lockAll(locks, refreshLockPaths(paths, id), { timeout: REFRESH_LOCK_TIMEOUT }),
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

/** The live coordinator: Semaphore -> file locks -> re-read -> `/api/refresh` -> (rejected) re-read. */
export const RefreshCoordinatorLive: Layer.Layer<
  RefreshCoordinator,
  never,
  KeyStore | FileLock | OlaresAuthApi | AppPaths
> = Layer.effect(RefreshCoordinator, make)
