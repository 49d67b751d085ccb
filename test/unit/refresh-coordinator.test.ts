/** RefreshCoordinatorLive: single flight, the two re-reads, invalidation, rotation (reference notes 6.5, 10.4). */
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fc from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import { makeMemory } from "../../layers/KeyStoreMemory.js"
import { decide, RefreshCoordinatorLive, refreshLockPath } from "../../layers/RefreshCoordinatorLive.js"
import { OlaresId } from "../../src/domain/OlaresId.js"
import { serializeStoredToken } from "../../src/domain/StoredToken.js"
import type { StoredToken } from "../../src/domain/StoredToken.js"
import { LockTimeout, StorageError, TransportError } from "../../src/errors.js"
import type { TransientHttpError } from "../../src/errors.js"
import { AppPaths } from "../../src/services/AppPaths.js"
import { FileLock } from "../../src/services/FileLock.js"
import type { FileLockShape } from "../../src/services/FileLock.js"
import { KeyStore } from "../../src/services/KeyStore.js"
import type { KeyStoreShape } from "../../src/services/KeyStore.js"
import { OlaresAuthApi, RefreshRejected } from "../../src/services/OlaresAuthApi.js"
import type { AuthTarget, TokenGrant } from "../../src/services/OlaresAuthApi.js"
import { RefreshCoordinator } from "../../src/services/RefreshCoordinator.js"

const ID = OlaresId.make("alice@olares.com")
const TARGET: AuthTarget = { authUrl: "https://auth.alice.olares.com", olaresId: ID, insecureSkipVerify: false }
const LOCKS = "/tmp/olares-test-home/locks"

const record = (at: string, rt: string | undefined, extra: Partial<StoredToken> = {}): StoredToken => ({
  olaresId: ID,
  accessToken: Redacted.make(at),
  ...(rt === undefined ? {} : { refreshToken: Redacted.make(rt) }),
  ...extra
})

const grant = (at: string, rt?: string, sessionId?: string): TokenGrant => ({
  accessToken: Redacted.make(at),
  refreshToken: rt === undefined ? Option.none() : Option.some(Redacted.make(rt)),
  sessionId: Option.fromNullable(sessionId)
})

/** One `/api/refresh` the fake server saw. */
interface Call {
  readonly refreshToken: string
  readonly accessToken: string | undefined
  readonly timeout: Duration.Duration
}

type Answer = (n: number) => Effect.Effect<TokenGrant, RefreshRejected | TransientHttpError>

/** A counting fake of the auth protocol; `answer` gets the 1-based call number. */
const fakeApi = (answer: Answer) => {
  const calls = Ref.unsafeMake<ReadonlyArray<Call>>([])
  const layer = Layer.succeed(
    OlaresAuthApi,
    OlaresAuthApi.of({
      login: () => Effect.dieMessage("login is not part of these tests"),
      refresh: (_target, rt, at, timeout) =>
        Ref.updateAndGet(calls, (cs) => [
          ...cs,
          {
            refreshToken: Redacted.value(rt),
            accessToken: Option.getOrUndefined(Option.map(at, Redacted.value)),
            timeout: Duration.decode(timeout)
          }
        ]).pipe(Effect.flatMap((cs) => answer(cs.length)))
    })
  )
  return { layer, calls }
}

/** An in-memory stand-in for the cross-process lock: a real mutex per path, with a hook run on acquisition. */
const memoryLock = (onAcquire: (path: string) => Effect.Effect<void> = () => Effect.void) => {
  const acquired = Ref.unsafeMake<ReadonlyArray<string>>([])
  const mutexes = new Map<string, Effect.Semaphore>()
  const mutex = (path: string) => {
    let m = mutexes.get(path)
    if (m === undefined) {
      m = Effect.unsafeMakeSemaphore(1)
      mutexes.set(path, m)
    }
    return m
  }
  const shape: FileLockShape = {
    lock: (path) =>
      Effect.acquireRelease(mutex(path).take(1), () => mutex(path).release(1)).pipe(
        Effect.zipRight(Ref.update(acquired, (xs) => [...xs, path])),
        Effect.zipRight(onAcquire(path))
      ),
    isLocked: () => Effect.succeed(false)
  }
  return { layer: Layer.succeed(FileLock, shape), acquired }
}

const PathsTest = Layer.succeed(AppPaths, {
  home: "/tmp/olares-test-home",
  configFile: "/tmp/olares-test-home/config.json",
  locksDir: LOCKS,
  dataDir: "/tmp/olares-test-home/data",
  dataDirSource: "test"
})

interface Setup {
  readonly records?: ReadonlyArray<StoredToken>
  readonly answer?: Answer
  readonly lock?: Layer.Layer<FileLock>
  readonly store?: (s: KeyStoreShape) => KeyStoreShape
}

/** The coordinator over a memory store, a fake API and an in-memory lock; `calls` counts server hits. */
const setup = (opts: Setup = {}) => {
  const api = fakeApi(opts.answer ?? ((n) => Effect.succeed(grant(`AT${n}`, `RT${n}`))))
  const lock = memoryLock()
  const store = Layer.effect(KeyStore, Effect.map(makeMemory(opts.records ?? []), opts.store ?? ((s) => s)))
  const layer = RefreshCoordinatorLive.pipe(
    Layer.provideMerge(Layer.mergeAll(store, api.layer, opts.lock ?? lock.layer, PathsTest))
  )
  return { layer, calls: api.calls, acquired: lock.acquired }
}

const refresh = (stale: string) => Effect.flatMap(RefreshCoordinator, (rc) => rc.refresh(TARGET, Redacted.make(stale)))
const stored = Effect.flatMap(KeyStore, (ks) => ks.get(ID))
const callCount = (calls: Ref.Ref<ReadonlyArray<Call>>) => Effect.map(Ref.get(calls), (cs) => cs.length)

describe("decide", () => {
  it("follows the reference's check order", () => {
    expect(decide(Option.none(), "x")).toBe("not-logged-in")
    expect(decide(Option.some(record("A", "R", { invalidatedAt: 5 })), "A")).toBe("invalidated")
    expect(decide(Option.some(record("A", "R", { invalidatedAt: 5 })), "B")).toBe("invalidated")
    expect(decide(Option.some(record("A", "R")), "B")).toBe("use-stored")
    expect(decide(Option.some(record("A", "R")), "A")).toBe("refresh")
    // An empty stored token is never handed out: there is nothing to use.
    expect(decide(Option.some(record("", "R")), "B")).toBe("refresh")
    expect(decide(Option.some(record("A", "R", { invalidatedAt: 0 })), "A")).toBe("refresh")
  })

  it.prop(
    "only a caller holding exactly the stored (non-empty) token, or a caller over an empty one, refreshes",
    {
      at: fc.string({ maxLength: 4 }),
      stale: fc.string({ maxLength: 4 }),
      inv: fc.option(fc.nat(), { nil: undefined })
    },
    ({ at, inv, stale }) => {
      const d = decide(Option.some(record(at, "R", inv === undefined ? {} : { invalidatedAt: inv })), stale)
      if ((inv ?? 0) > 0) return d === "invalidated"
      return d === (at !== "" && at !== stale ? "use-stored" : "refresh")
    }
  )

  it("names the lock file like the reference", () => {
    expect(refreshLockPath("/h/locks", "alice@olares.com")).toBe("/h/locks/alice@olares.com.refresh.lock")
    expect(refreshLockPath("/h/locks", "weird/id")).toBe("/h/locks/weird_id.refresh.lock")
  })
})

describe("RefreshCoordinatorLive", () => {
  it.effect("happy path: one server hit, new token returned, access and refresh tokens rotated", () => {
    const { acquired, calls, layer } = setup({
      records: [record("AT0", "RT0", { sessionId: "S0", grantedAt: 1 })],
      answer: () => Effect.succeed(grant("AT1", "RT1", "S1"))
    })
    return Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const token = yield* refresh("AT0")
      expect(Redacted.value(token)).toBe("AT1")
      const cs = yield* Ref.get(calls)
      expect(cs).toHaveLength(1)
      expect(cs[0]!.refreshToken).toBe("RT0")
      expect(cs[0]!.accessToken).toBe("AT0")
      expect(Duration.toMillis(cs[0]!.timeout)).toBe(15_000)
      const rec = Option.getOrThrow(yield* stored)
      expect(Redacted.value(rec.accessToken)).toBe("AT1")
      expect(Redacted.value(rec.refreshToken!)).toBe("RT1")
      expect(rec.sessionId).toBe("S1")
      expect(rec.grantedAt).toBe(1_700_000_000_000)
      expect(rec.invalidatedAt).toBeUndefined()
      // the config home's lock (the Go CLI's), then the data dir's: always in that order
      expect(yield* Ref.get(acquired)).toEqual([
        `${LOCKS}/alice@olares.com.refresh.lock`,
        "/tmp/olares-test-home/data/locks/alice@olares.com.refresh.lock"
      ])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a server that does not rotate the refresh token keeps the old one (and the old session id)", () => {
    const { calls, layer } = setup({
      records: [record("AT0", "RT0", { sessionId: "S0" })],
      answer: () => Effect.succeed(grant("AT1"))
    })
    return Effect.gen(function*() {
      expect(Redacted.value(yield* refresh("AT0"))).toBe("AT1")
      expect(yield* callCount(calls)).toBe(1)
      const rec = Option.getOrThrow(yield* stored)
      expect(Redacted.value(rec.accessToken)).toBe("AT1")
      expect(Redacted.value(rec.refreshToken!)).toBe("RT0")
      expect(rec.sessionId).toBe("S0")
    }).pipe(Effect.provide(layer))
  })

  it.effect("an empty stored access token is not sent in X-Authorization", () => {
    const { calls, layer } = setup({ records: [record("", "RT0")] })
    return Effect.gen(function*() {
      expect(Redacted.value(yield* refresh(""))).toBe("AT1")
      expect((yield* Ref.get(calls))[0]!.accessToken).toBeUndefined()
    }).pipe(Effect.provide(layer))
  })

  it.effect("the store already holds a different token than the caller saw: returned, zero hits, no lock", () => {
    const { acquired, calls, layer } = setup({ records: [record("AT-newer", "RT0")] })
    return Effect.gen(function*() {
      expect(Redacted.value(yield* refresh("AT-old"))).toBe("AT-newer")
      expect(yield* callCount(calls)).toBe(0)
      expect(yield* Ref.get(acquired)).toEqual([])
    }).pipe(Effect.provide(layer))
  })

  it.effect("check #2: another process refreshed while we waited for the file lock, zero hits", () =>
    Effect.gen(function*() {
      const ks = yield* makeMemory([record("AT0", "RT0")])
      // The lock hook plays the other process: it rotates the stored token just before we get the lock.
      const lock = memoryLock(() => Effect.orDie(ks.set(record("AT-other-process", "RT-other"))))
      const api = fakeApi(() => Effect.succeed(grant("AT1", "RT1")))
      const layer = RefreshCoordinatorLive.pipe(
        Layer.provideMerge(Layer.mergeAll(Layer.succeed(KeyStore, ks), api.layer, lock.layer, PathsTest))
      )
      const token = yield* Effect.provide(refresh("AT0"), layer)
      expect(Redacted.value(token)).toBe("AT-other-process")
      expect(yield* callCount(api.calls)).toBe(0)
      expect(yield* Ref.get(lock.acquired)).toHaveLength(2)
    }))

  it.live("1,000 concurrent fibers with one stale token: exactly one refresh, all get the same new token", () => {
    const { calls, layer } = setup({
      records: [record("AT0", "RT0")],
      answer: (n) => Effect.as(Effect.sleep("20 millis"), grant(`AT${n}`, `RT${n}`))
    })
    return Effect.gen(function*() {
      const tokens = yield* Effect.forEach(Array.from({ length: 1000 }), () => refresh("AT0"), {
        concurrency: "unbounded"
      })
      expect(yield* callCount(calls)).toBe(1)
      expect(new Set(tokens.map(Redacted.value))).toEqual(new Set(["AT1"]))
      const rec = Option.getOrThrow(yield* stored)
      expect(Redacted.value(rec.accessToken)).toBe("AT1")
      expect(Redacted.value(rec.refreshToken!)).toBe("RT1")
    }).pipe(Effect.provide(layer))
  })

  it.effect("a stamped record fails TokenInvalidated with the stored time, zero hits", () => {
    const { acquired, calls, layer } = setup({ records: [record("AT0", "RT0", { invalidatedAt: 1_650_000_000_000 })] })
    return Effect.gen(function*() {
      const err = yield* Effect.flip(refresh("AT0"))
      expect(err._tag).toBe("TokenInvalidated")
      expect(err).toMatchObject({ olaresId: ID, invalidatedAt: 1_650_000_000_000 })
      expect(err.message).toBe(
        "refresh token for alice@olares.com became invalid at 2022-04-15T05:20:00Z; please run: olares-cli profile login --olares-id alice@olares.com  (or profile import --olares-id alice@olares.com --refresh-token <tok>)"
      )
      expect(yield* callCount(calls)).toBe(0)
      expect(yield* Ref.get(acquired)).toEqual([])
    }).pipe(Effect.provide(layer))
  })

  it.effect("RefreshRejected stamps invalidatedAt at the Clock's time and fails TokenInvalidated", () => {
    const { calls, layer } = setup({
      records: [record("AT0", "RT0", { sessionId: "S0" })],
      answer: () => Effect.fail(new RefreshRejected({ status: 401 }))
    })
    return Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_123_000)
      const err = yield* Effect.flip(refresh("AT0"))
      expect(err).toMatchObject({ _tag: "TokenInvalidated", olaresId: ID, invalidatedAt: 1_700_000_123_000 })
      const rec = Option.getOrThrow(yield* stored)
      expect(rec.invalidatedAt).toBe(1_700_000_123_000)
      // Every other field is kept.
      expect(Redacted.value(rec.accessToken)).toBe("AT0")
      expect(Redacted.value(rec.refreshToken!)).toBe("RT0")
      expect(rec.sessionId).toBe("S0")
      // And the next caller fails fast, with no second hit.
      yield* TestClock.adjust("1 hour")
      const again = yield* Effect.flip(refresh("AT0"))
      expect(again).toMatchObject({ _tag: "TokenInvalidated", invalidatedAt: 1_700_000_123_000 })
      expect(yield* callCount(calls)).toBe(1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a failing markInvalidated still yields a typed TokenInvalidated with the id, and a warning", () => {
    const marks = Ref.unsafeMake(0)
    const logs: Array<string> = []
    const { layer } = setup({
      records: [record("AT0", "RT0")],
      answer: () => Effect.fail(new RefreshRejected({ status: 403 })),
      store: (s) => ({
        ...s,
        markInvalidated: () =>
          Effect.zipRight(
            Ref.update(marks, (n) => n + 1),
            Effect.fail(new StorageError({ path: "/x/alice.enc", detail: "disk full", hint: "free space" }))
          )
      })
    })
    const capture = Logger.add(Logger.make(({ logLevel, message }) => {
      logs.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    }))
    return Effect.gen(function*() {
      yield* TestClock.setTime(42_000)
      const err = yield* Effect.flip(refresh("AT0"))
      expect(err).toMatchObject({ _tag: "TokenInvalidated", olaresId: ID, invalidatedAt: 42_000 })
      expect(yield* Ref.get(marks)).toBe(1)
      expect(logs).toEqual([
        "WARN failed to persist invalidated marker for alice@olares.com: /x/alice.enc: disk full (refresh attempt will repeat next run)"
      ])
    }).pipe(Effect.provide(layer), Effect.provide(capture))
  })

  it.effect("a transient error passes through; nothing is marked, nothing changes on disk", () => {
    const { calls, layer } = setup({
      records: [record("AT0", "RT0", { grantedAt: 7 })],
      answer: () => Effect.fail(new TransportError({ endpoint: "/api/refresh", detail: "connection refused" }))
    })
    return Effect.gen(function*() {
      const before = serializeStoredToken(Option.getOrThrow(yield* stored))
      const got = yield* Effect.flip(refresh("AT0"))
      expect(got._tag).toBe("TransportError")
      expect(got.message).toBe("/api/refresh: connection refused")
      expect(serializeStoredToken(Option.getOrThrow(yield* stored))).toBe(before)
      // Transient failures are not remembered: the next call tries again.
      yield* Effect.flip(refresh("AT0"))
      expect(yield* callCount(calls)).toBe(2)
    }).pipe(Effect.provide(layer))
  })

  it.effect("no record: NotLoggedIn, zero hits", () => {
    const { acquired, calls, layer } = setup()
    return Effect.gen(function*() {
      const err = yield* Effect.flip(refresh("AT0"))
      expect(err).toMatchObject({ _tag: "NotLoggedIn", olaresId: ID })
      expect(yield* callCount(calls)).toBe(0)
      expect(yield* Ref.get(acquired)).toEqual([])
    }).pipe(Effect.provide(layer))
  })

  it.effect("empty or missing stored refresh token: NotLoggedIn, zero hits", () => {
    const run = (rt: string | undefined) => {
      const { calls, layer } = setup({ records: [record("AT0", rt)] })
      return Effect.gen(function*() {
        const err = yield* Effect.flip(refresh("AT0"))
        expect(err._tag).toBe("NotLoggedIn")
        expect(yield* callCount(calls)).toBe(0)
      }).pipe(Effect.provide(layer))
    }
    return Effect.zipRight(run(""), run(undefined))
  })

  it.effect("a lock timeout passes through with no hit", () => {
    const api = fakeApi(() => Effect.succeed(grant("AT1")))
    const lock = Layer.succeed(FileLock, {
      lock: (path) => Effect.fail(new LockTimeout({ path, seconds: 30 })),
      isLocked: () => Effect.succeed(true)
    })
    const layer = RefreshCoordinatorLive.pipe(
      Layer.provideMerge(
        Layer.mergeAll(Layer.effect(KeyStore, makeMemory([record("AT0", "RT0")])), api.layer, lock, PathsTest)
      )
    )
    return Effect.gen(function*() {
      const err = yield* Effect.flip(refresh("AT0"))
      expect(err).toMatchObject({ _tag: "LockTimeout", path: `${LOCKS}/alice@olares.com.refresh.lock`, seconds: 30 })
      expect(yield* callCount(api.calls)).toBe(0)
    }).pipe(Effect.provide(layer))
  })

  it.live("the lost race with locks disabled: the loser keeps the winner's grant and never stamps invalidatedAt", () =>
    Effect.gen(function*() {
      // Two refreshers that do not exclude each other (two processes, one of them a tool that takes
      // none of our locks) over one store, against a server that rotates: each refresh token works
      // once. Both read RT0 before either exchange; the first exchange wins, the second gets 401.
      const ks = yield* makeMemory([record("AT0", "RT0")])
      const live = new Set(["RT0"])
      const arrived = yield* Ref.make(0)
      const both = yield* Effect.makeLatch(false)
      const serial = yield* Effect.makeSemaphore(1)
      const api = fakeApi((n) =>
        Effect.gen(function*() {
          if ((yield* Ref.updateAndGet(arrived, (k) => k + 1)) >= 2) yield* both.open
          yield* both.await
          return yield* serial.withPermits(1)(Effect.gen(function*() {
            const cs = yield* Ref.get(api.calls)
            const rt = cs[n - 1]!.refreshToken
            if (!live.delete(rt)) return yield* Effect.fail(new RefreshRejected({ status: 401 }))
            live.add(`RT${n}`)
            return grant(`AT${n}`, `RT${n}`)
          }))
        })
      )
      const noLocks = Layer.succeed(FileLock, { lock: () => Effect.void, isLocked: () => Effect.succeed(false) })
      // one coordinator per "process": no shared semaphore either
      const oneProcess = RefreshCoordinatorLive.pipe(
        Layer.provide(Layer.mergeAll(Layer.succeed(KeyStore, ks), api.layer, noLocks, PathsTest))
      )
      const [a, b] = yield* Effect.all(
        [Effect.provide(refresh("AT0"), oneProcess), Effect.provide(refresh("AT0"), oneProcess)],
        { concurrency: "unbounded" }
      )
      expect(yield* callCount(api.calls)).toBe(2)
      const rec = Option.getOrThrow(yield* ks.get(ID))
      // the winner's grant is stored and both callers use it; nobody is logged out
      expect(rec.invalidatedAt).toBeUndefined()
      expect(live.has(Redacted.value(rec.refreshToken!))).toBe(true)
      expect(Redacted.value(a)).toBe(Redacted.value(rec.accessToken))
      expect(Redacted.value(b)).toBe(Redacted.value(rec.accessToken))
    }))

  it.effect("rejected after someone rotated only the refresh token: one more exchange with the stored grant", () =>
    Effect.gen(function*() {
      const ks = yield* makeMemory([record("AT0", "RT0")])
      // the first exchange is overtaken: meanwhile another tool stored a new refresh token, same access token
      const api = fakeApi((n) =>
        n === 1
          ? Effect.zipRight(
            Effect.orDie(ks.set(record("AT0", "RT-other"))),
            Effect.fail(new RefreshRejected({ status: 401 }))
          )
          : Effect.succeed(grant("AT2", "RT2"))
      )
      const layer = RefreshCoordinatorLive.pipe(
        Layer.provideMerge(Layer.mergeAll(Layer.succeed(KeyStore, ks), api.layer, memoryLock().layer, PathsTest))
      )
      expect(Redacted.value(yield* Effect.provide(refresh("AT0"), layer))).toBe("AT2")
      expect((yield* Ref.get(api.calls)).map((c) => c.refreshToken)).toEqual(["RT0", "RT-other"])
      const rec = Option.getOrThrow(yield* ks.get(ID))
      expect(rec.invalidatedAt).toBeUndefined()
      expect(Redacted.value(rec.refreshToken!)).toBe("RT2")
    }))

  it.effect("a grant rotated away under every exchange: bounded to 3, TokenInvalidated, the record left unstamped", () =>
    Effect.gen(function*() {
      const ks = yield* makeMemory([record("AT0", "RT0")])
      const api = fakeApi((n) =>
        Effect.zipRight(
          Effect.orDie(ks.set(record("AT0", `RT-other-${n}`))),
          Effect.fail(new RefreshRejected({ status: 459 }))
        )
      )
      const layer = RefreshCoordinatorLive.pipe(
        Layer.provideMerge(Layer.mergeAll(Layer.succeed(KeyStore, ks), api.layer, memoryLock().layer, PathsTest))
      )
      const err = yield* Effect.flip(Effect.provide(refresh("AT0"), layer))
      expect(err._tag).toBe("TokenInvalidated")
      expect(yield* callCount(api.calls)).toBe(3)
      // what the store holds was never rejected: it is not stamped
      expect(Option.getOrThrow(yield* ks.get(ID)).invalidatedAt).toBeUndefined()
    }))

  it.effect("different olaresIds do not wait on each other's semaphore", () => {
    const bob = OlaresId.make("bob@olares.com")
    const gate = Ref.unsafeMake(0)
    const { calls, layer } = setup({
      records: [record("AT0", "RT0"), { ...record("B0", "BR0"), olaresId: bob }],
      answer: (n) => Effect.as(Ref.update(gate, (g) => g + 1), grant(`X${n}`))
    })
    return Effect.gen(function*() {
      const rc = yield* RefreshCoordinator
      const [a, b] = yield* Effect.all(
        [rc.refresh(TARGET, Redacted.make("AT0")), rc.refresh({ ...TARGET, olaresId: bob }, Redacted.make("B0"))],
        { concurrency: "unbounded" }
      )
      expect(new Set([Redacted.value(a), Redacted.value(b)])).toEqual(new Set(["X1", "X2"]))
      expect(yield* callCount(calls)).toBe(2)
    }).pipe(Effect.provide(layer))
  })
})

// ---------------------------------------------------------------------------------------------
// Model-based property: arbitrary rounds of concurrent callers against arbitrary stored states.
// ---------------------------------------------------------------------------------------------

/** The model of the stored record. */
interface ModelRecord {
  readonly at: string
  readonly rt: string
  readonly inv: number
}

type Mode = "rotate" | "keep" | "rejected" | "transient"

type Outcome =
  | { readonly ok: string }
  | { readonly err: "NotLoggedIn" }
  | { readonly err: "TokenInvalidated"; readonly at: number }
  | { readonly err: "TransportError" }

const toStored = (m: ModelRecord): StoredToken => record(m.at, m.rt, m.inv > 0 ? { invalidatedAt: m.inv } : {})

/**
 * The model of one concurrent round. Which fiber wins the semaphore is up to the scheduler, so a
 * caller that would just read the store may see the state before or after the round's one exchange:
 * each caller gets the set of outcomes some serialisation allows. The exchange count and the final
 * state are exact.
 */
const modelRound = (
  state: Option.Option<ModelRecord>,
  tokens: ReadonlyArray<string>,
  mode: Mode,
  now: number,
  nextToken: string
): { state: Option.Option<ModelRecord>; allowed: Array<Array<Outcome>>; calls: number } => {
  const decisions = tokens.map((t) => decide(Option.map(state, toStored), t))
  const refreshers = decisions.filter((d) => d === "refresh").length
  const rec = Option.getOrUndefined(state)
  let next = state
  let calls = 0
  let refreshOutcome: Outcome = { err: "NotLoggedIn" }
  if (refreshers > 0 && rec !== undefined && rec.rt !== "") {
    switch (mode) {
      case "rotate":
      case "keep":
        calls = 1
        next = Option.some({ at: nextToken, rt: mode === "rotate" ? `R-${nextToken}` : rec.rt, inv: 0 })
        refreshOutcome = { ok: nextToken }
        break
      case "rejected":
        calls = 1
        next = Option.some({ ...rec, inv: now })
        refreshOutcome = { err: "TokenInvalidated", at: now }
        break
      case "transient":
        calls = refreshers
        refreshOutcome = { err: "TransportError" }
    }
  }
  // What a reader sees if it runs after the exchange (only when the exchange changed the store).
  const after: Array<Outcome> = calls > 0 && mode !== "transient" ? [refreshOutcome] : []
  const allowed = decisions.map((d): Array<Outcome> => {
    switch (d) {
      case "not-logged-in":
        return [{ err: "NotLoggedIn" }]
      case "invalidated":
        return [{ err: "TokenInvalidated", at: rec!.inv }]
      case "use-stored":
        return [{ ok: rec!.at }, ...after]
      case "refresh":
        return [refreshOutcome]
    }
  })
  return { state: next, allowed, calls }
}

const arbRecord = fc.option(
  fc.record({
    at: fc.constantFrom("", "A", "B"),
    rt: fc.constantFrom("", "R", "R"),
    inv: fc.constantFrom(0, 0, 0, 1_000)
  }),
  { nil: undefined, freq: 5 }
)

const arbRound = fc.record({
  mode: fc.constantFrom<Mode>("rotate", "keep", "rejected", "transient"),
  // A caller holds one of the tokens known so far: index into [pool..., issued...].
  callers: fc.array(fc.record({ pick: fc.nat(20), yields: fc.nat(4) }), { minLength: 1, maxLength: 12 }),
  apiYields: fc.nat(4)
})

describe("RefreshCoordinatorLive (model-based)", () => {
  it.effect.prop(
    "any interleaving of callers yields the model's outcomes: at most one refresh per distinct stale token",
    { initial: arbRecord, rounds: fc.array(arbRound, { minLength: 1, maxLength: 4 }) },
    ({ initial, rounds }) =>
      Effect.gen(function*() {
        const mode = Ref.unsafeMake<Mode>("rotate")
        const apiYields = Ref.unsafeMake(0)
        const answer: Answer = (n) =>
          Effect.gen(function*() {
            const y = yield* Ref.get(apiYields)
            for (let i = 0; i < y; i++) yield* Effect.yieldNow()
            switch (yield* Ref.get(mode)) {
              case "rotate":
                return grant(`N${n}`, `R-N${n}`)
              case "keep":
                return grant(`N${n}`)
              case "rejected":
                return yield* Effect.fail(new RefreshRejected({ status: 401 }))
              case "transient":
                return yield* Effect.fail(new TransportError({ endpoint: "/api/refresh", detail: "reset" }))
            }
          })
        const { calls, layer } = setup({ records: initial === undefined ? [] : [toStored(initial)], answer })
        return yield* Effect.gen(function*() {
          let state = Option.fromNullable(initial)
          const known = ["", "A", "B", "C"]
          let expectedCalls = 0
          for (const round of rounds) {
            yield* TestClock.adjust("1 second")
            const now = yield* TestClock.currentTimeMillis
            yield* Ref.set(mode, round.mode)
            yield* Ref.set(apiYields, round.apiYields)
            const tokens = round.callers.map((c) => known[c.pick % known.length]!)
            // The fake API numbers tokens by call count, which is what the model predicts too.
            const predicted = modelRound(state, tokens, round.mode, now, `N${expectedCalls + 1}`)
            const before = expectedCalls
            const got = yield* Effect.forEach(
              round.callers,
              (c, i) =>
                Effect.gen(function*() {
                  for (let k = 0; k < c.yields; k++) yield* Effect.yieldNow()
                  return yield* Effect.either(refresh(tokens[i]!))
                }),
              { concurrency: "unbounded" }
            )
            const outcomes = got.map((e): Outcome =>
              Either.match(e, {
                onRight: (t) => ({ ok: Redacted.value(t) }),
                onLeft: (err) =>
                  err._tag === "TokenInvalidated"
                    ? { err: "TokenInvalidated", at: err.invalidatedAt }
                    : { err: err._tag as "NotLoggedIn" | "TransportError" }
              })
            )
            outcomes.forEach((o, i) => expect(predicted.allowed[i]).toContainEqual(o))
            expectedCalls += predicted.calls
            const cs = yield* Ref.get(calls)
            expect(cs.length).toBe(expectedCalls)
            if (round.mode !== "transient") {
              // The property itself: never two exchanges for the same stale stored token.
              const sent = cs.slice(before).map((c) => c.accessToken)
              expect(new Set(sent).size).toBe(sent.length)
              expect(sent.length).toBeLessThanOrEqual(1)
            }
            if (predicted.calls > 0 && (round.mode === "rotate" || round.mode === "keep")) {
              known.push(`N${expectedCalls}`)
            }
            state = predicted.state
            const disk = yield* stored
            expect(Option.map(disk, (r) => ({
              at: Redacted.value(r.accessToken),
              rt: r.refreshToken === undefined ? "" : Redacted.value(r.refreshToken),
              inv: r.invalidatedAt ?? 0
            }))).toEqual(state)
          }
        }).pipe(Effect.provide(layer))
      }),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect("interrupting the fiber that is exchanging lets the next waiter refresh; the rest share its token", () => {
    const { calls, layer } = setup({
      records: [record("AT0", "RT0")],
      answer: (n) => Effect.as(Effect.sleep("1 second"), grant(`AT${n}`))
    })
    return Effect.gen(function*() {
      const victim = yield* Effect.fork(refresh("AT0"))
      yield* TestClock.adjust("100 millis")
      const others = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 10 }), () => refresh("AT0"), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("100 millis")
      expect(yield* callCount(calls)).toBe(1)
      yield* Fiber.interrupt(victim)
      yield* TestClock.adjust("2 seconds")
      const tokens = yield* Fiber.join(others)
      expect(new Set(tokens.map(Redacted.value))).toEqual(new Set(["AT2"]))
      expect(yield* callCount(calls)).toBe(2)
    }).pipe(Effect.provide(layer))
  })
})
