/** ProfileRepoFile against real temp homes, in-process and across real (and SIGKILLed) processes. */
import { afterAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Ref from "effect/Ref"
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { serializeConfig } from "../../src/domain/ConfigData.js"
import { emptyConfig, parseConfig, type ProfileConfig, upsertProfile } from "../../src/domain/ProfileConfig.js"
import { StorageError } from "../../src/errors.js"
import { ProfileRepo } from "../../src/services/ProfileRepo.js"
import { generation, removeWorkerBundle, repoLayer, spawnWorker } from "../support/repo-worker.js"
import { letOthersReach, REPO_PARTS } from "../support/tmp.js"

afterAll(removeWorkerBundle)

/** A temp root removed with the test's scope; the config home is `<root>/home` (not created yet). */
const tempRoot = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "olares-repo-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const mode = (p: string) => statSync(p).mode & 0o777

/** Runs `body` with a ProfileRepo over a fresh home, handing it the home path. */
const withRepo = <A, E>(body: (home: string, repo: typeof ProfileRepo.Service) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const home = join(yield* tempRoot, "home")
    return yield* Effect.flatMap(ProfileRepo, (repo) => body(home, repo)).pipe(Effect.provide(repoLayer(home)))
  })

/** Logs captured in memory instead of printed. */
const captureLogs = Effect.gen(function*() {
  const lines = yield* Ref.make<ReadonlyArray<string>>([])
  const logger = Logger.make(({ message }) => {
    Effect.runSync(Ref.update(lines, (ls) => [...ls, Array.isArray(message) ? message.join(" ") : String(message)]))
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
})

const add = (id: string, extra: Record<string, unknown> = {}) => (cfg: ProfileConfig) =>
  Effect.succeed([undefined, upsertProfile(cfg, { olaresId: id, ...extra })] as const)

/** A config.json as the Go CLI writes it, with fields we do not model. */
const GO_FILE = `{
  "currentProfile": "work",
  "previousProfile": "bob@olares.com",
  "profiles": [
    {
      "name": "work",
      "olaresId": "alice@olares.com",
      "ownerRole": "owner",
      "whoamiRefreshedAt": 1767225600,
      "clusterContext": {
        "username": "alice",
        "globalrole": "platform-admin",
        "email": "alice@example.com",
        "workspaces": [
          "ws1"
        ],
        "systemNamespaces": [],
        "grantedClusters": [
          "c1"
        ],
        "clusterRole": "admin"
      },
      "clusterContextRefreshedAt": 1767225601,
      "backendVersion": "1.12.6",
      "backendVersionRefreshedAt": 1767225602,
      "location": "eu"
    },
    {
      "olaresId": "bob@olares.com",
      "insecureSkipVerify": true
    }
  ],
  "futureTopLevel": {
    "x": [
      1,
      2
    ]
  }
}`

describe("ProfileRepoFile.load", () => {
  it.scopedLive("a missing home, a missing file, an empty file and a blank file are the empty config", () =>
    withRepo((home, repo) =>
      Effect.gen(function*() {
        expect(repo.path).toBe(join(home, "config.json"))
        expect(yield* repo.load).toEqual(emptyConfig)
        mkdirSync(home, { mode: 0o700 })
        expect(yield* repo.load).toEqual(emptyConfig)
        writeFileSync(repo.path, "", { mode: 0o600 })
        expect(yield* repo.load).toEqual(emptyConfig)
        writeFileSync(repo.path, " \n\t\n", { mode: 0o600 })
        expect(yield* repo.load).toEqual(emptyConfig)
        // reading never creates anything
        rmSync(home, { recursive: true })
        yield* repo.load
        expect(existsSync(home)).toBe(false)
      })
    ))

  it.scopedLive("reads a Go-written file, keeping fields it does not model", () =>
    withRepo((home, repo) =>
      Effect.gen(function*() {
        mkdirSync(home, { mode: 0o700 })
        writeFileSync(repo.path, GO_FILE, { mode: 0o600 })
        const cfg = yield* repo.load
        expect(cfg.currentProfile).toBe("work")
        expect(cfg.profiles.map((p) => p.olaresId)).toEqual(["alice@olares.com", "bob@olares.com"])
        expect(cfg.profiles[0]!["location"]).toBe("eu")
        expect(cfg["futureTopLevel"]).toEqual({ x: [1, 2] })
        expect(serializeConfig(cfg)).toBe(GO_FILE)
      })
    ))

  const bad: ReadonlyArray<readonly [string, string, RegExp]> = [
    ["truncated JSON", `{"profiles": [{"olaresId": "a@b.c"`, /^not valid JSON \(/],
    ["not JSON at all", "hello", /^not valid JSON \(/],
    ["a top-level array", "[]", /^not a valid config file: top level: expected an object, actual \[\]$/],
    [
      "a missing olaresId",
      `{"profiles":[{"name":"x"}]}`,
      /^not a valid config file: profiles\[0\]\.olaresId: is missing$/
    ],
    ["a wrong type", `{"profiles":[{"olaresId":42}]}`, /profiles\[0\]\.olaresId: expected string, actual 42/],
    ["profiles not an array", `{"profiles":{}}`, /profiles: expected an array, actual \{\}/],
    [
      "a fractional timestamp",
      `{"profiles":[{"olaresId":"a@b.c","whoamiRefreshedAt":1.5}]}`,
      /whoamiRefreshedAt: expected an integer/
    ]
  ]
  for (const [what, text, detail] of bad) {
    it.scopedLive(`${what} fails StorageError naming the file, a short reason and the fix`, () =>
      withRepo((home, repo) =>
        Effect.gen(function*() {
          mkdirSync(home, { mode: 0o700 })
          writeFileSync(repo.path, text, { mode: 0o600 })
          const err = yield* Effect.flip(repo.load)
          expect(err).toBeInstanceOf(StorageError)
          expect(err.path).toBe(repo.path)
          expect(err.detail).toMatch(detail)
          expect(err.detail.length).toBeLessThan(300)
          expect(err.message).toBe(`${repo.path}: ${err.detail}`)
          expect(err.recovery).toContain(`move aside ${repo.path}`)
          expect(err.recovery).toContain("olares-cli profile list")
          // update refuses to overwrite what it cannot read
          const err2 = yield* Effect.flip(repo.update(add("new@olares.com")))
          expect(err2._tag).toBe("StorageError")
          expect(readFileSync(repo.path, "utf8")).toBe(text)
        })
      ))
  }

  it.scopedLive("a directory where config.json should be is a StorageError", () =>
    withRepo((home, repo) =>
      Effect.gen(function*() {
        mkdirSync(repo.path, { recursive: true })
        const err = yield* Effect.flip(repo.load)
        expect(err._tag).toBe("StorageError")
        expect(err.path).toBe(repo.path)
        expect(err.recovery).toContain(repo.path)
        void home
      })
    ))

  it.scopedLive("too-open modes on the home and the file are tightened, with a warning", () =>
    Effect.gen(function*() {
      const home = join(yield* tempRoot, "home")
      mkdirSync(home)
      chmodSync(home, 0o755)
      writeFileSync(join(home, "config.json"), GO_FILE)
      chmodSync(join(home, "config.json"), 0o644)
      const { layer, lines } = yield* captureLogs
      const cfg = yield* Effect.flatMap(ProfileRepo, (r) => r.load).pipe(
        Effect.provide(Layer.merge(repoLayer(home), layer))
      )
      expect(cfg.profiles).toHaveLength(2)
      expect(mode(home)).toBe(0o700)
      expect(mode(join(home, "config.json"))).toBe(0o600)
      const logged = yield* Ref.get(lines)
      expect(logged).toHaveLength(2)
      expect(logged[0]).toMatch(/was mode 0755.*changed to 0700/)
      expect(logged[1]).toMatch(/was mode 0644.*changed to 0600/)
    }))

  it.scopedLive.skipIf(process.platform === "win32")(
    "a shared (sticky, world-writable) home is refused, not chmod-ed, nothing written",
    () =>
      Effect.gen(function*() {
        const home = join(yield* tempRoot, "shared")
        mkdirSync(home)
        chmodSync(home, 0o1777)
        const err = yield* Effect.flip(Effect.flatMap(ProfileRepo, (r) => r.update(add("a@olares.com")))).pipe(
          Effect.provide(repoLayer(home))
        )
        expect(err._tag).toBe("StorageError")
        expect(err.message).toMatch(/mode 01777: other users can write it/)
        expect(statSync(home).mode & 0o7777).toBe(0o1777)
        expect(readdirSync(home)).toEqual([])
      })
  )
})

describe("ProfileRepoFile.update", () => {
  it.scopedLive("creates home 0700, locks 0700, config.json 0600 in the reference format", () =>
    withRepo((home, repo) =>
      Effect.gen(function*() {
        const out = yield* repo.update((cfg) => {
          const next = upsertProfile(cfg, { olaresId: "a@olares.com", name: "" })
          return Effect.succeed(["done", { ...next, currentProfile: "a@olares.com" }] as const)
        })
        expect(out).toBe("done")
        expect(mode(home)).toBe(0o700)
        expect(mode(join(home, "locks"))).toBe(0o700)
        expect(mode(join(home, "locks", "config.lock"))).toBe(0o600)
        expect(mode(repo.path)).toBe(0o600)
        expect(readFileSync(repo.path, "utf8")).toBe(
          "{\n  \"currentProfile\": \"a@olares.com\",\n  \"profiles\": [\n" +
            "    {\n      \"olaresId\": \"a@olares.com\"\n    }\n  ]\n}"
        )
        expect(readdirSync(home).sort()).toEqual(["config.json", "locks"])
        expect(existsSync(join(home, "locks", "config.lock.lock"))).toBe(false)
      })
    ))

  it.scopedLive("keeps every field the Go CLI wrote through a read-modify-write", () =>
    withRepo((home, repo) =>
      Effect.gen(function*() {
        mkdirSync(home, { mode: 0o700 })
        writeFileSync(repo.path, GO_FILE, { mode: 0o600 })
        yield* repo.update(add("carol@olares.com"))
        const after = JSON.parse(readFileSync(repo.path, "utf8"))
        const before = JSON.parse(GO_FILE)
        expect(after).toEqual({ ...before, profiles: [...before.profiles, { olaresId: "carol@olares.com" }] })
      })
    ))

  it.scopedLive("does not rewrite the file when nothing changed", () =>
    withRepo((home, repo) =>
      Effect.gen(function*() {
        mkdirSync(home, { mode: 0o700 })
        // different whitespace than we would write: still left alone when the content is the same
        writeFileSync(repo.path, JSON.stringify(JSON.parse(GO_FILE)), { mode: 0o600 })
        const ino = statSync(repo.path).ino
        const n = yield* repo.update((cfg) => Effect.succeed([cfg.profiles.length, cfg] as const))
        expect(n).toBe(2)
        expect(statSync(repo.path).ino).toBe(ino)
        expect(readFileSync(repo.path, "utf8")).toBe(JSON.stringify(JSON.parse(GO_FILE)))
      })
    ))

  it.scopedLive("a failing edit writes nothing and releases the lock", () =>
    withRepo((home, repo) =>
      Effect.gen(function*() {
        yield* repo.update(add("a@olares.com"))
        const before = readFileSync(repo.path, "utf8")
        const err = yield* Effect.flip(repo.update(() => Effect.fail("nope" as const)))
        expect(err).toBe("nope")
        expect(readFileSync(repo.path, "utf8")).toBe(before)
        expect(existsSync(join(home, "locks", "config.lock.lock"))).toBe(false)
        yield* repo.update(add("b@olares.com")).pipe(Effect.timeout("2 seconds"))
        expect((yield* repo.load).profiles).toHaveLength(2)
      })
    ))

  it.scopedLive("concurrent updates from many fibers all land", () =>
    withRepo((_home, repo) =>
      Effect.gen(function*() {
        yield* Effect.all(
          Array.from({ length: 30 }, (_, i) => repo.update(add(`u${i}@olares.com`))),
          { concurrency: "unbounded" }
        )
        const ids = (yield* repo.load).profiles.map((p) => p.olaresId).sort()
        expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => `u${i}@olares.com`).sort())
      })
    ))

  it.scopedLive("leftover .tmp-* files are ignored by load and old ones are swept by the next update", () =>
    withRepo((home, repo) =>
      Effect.gen(function*() {
        yield* repo.update(add("a@olares.com"))
        const old = join(home, ".tmp-123456")
        const young = join(home, ".tmp-abcdef")
        writeFileSync(old, "{\"profiles\": [{\"olaresId\": \"torn")
        writeFileSync(young, "{")
        const past = new Date(Date.now() - 60_000)
        utimesSync(old, past, past)
        expect((yield* repo.load).profiles.map((p) => p.olaresId)).toEqual(["a@olares.com"])
        yield* repo.update(add("b@olares.com"))
        expect(existsSync(old)).toBe(false)
        // a young one may belong to a writer that is still running
        expect(existsSync(young)).toBe(true)
        expect((yield* repo.load).profiles).toHaveLength(2)
      })
    ))

  it.scopedLive("a home that cannot be created is a StorageError pointing at OLARES_CLI_HOME", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      writeFileSync(join(root, "file"), "")
      const home = join(root, "file", "home")
      const err = yield* Effect.flip(Effect.flatMap(ProfileRepo, (r) => r.update(add("a@olares.com")))).pipe(
        Effect.provide(repoLayer(home))
      )
      expect(err).toBeInstanceOf(StorageError)
      expect(err._tag === "StorageError" && err.recovery).toContain("OLARES_CLI_HOME")
    }))

  const isRoot = process.getuid?.() === 0
  it.scopedLive.skipIf(process.platform === "win32")(
    "a home that is not writable is a StorageError with a hint",
    () =>
      Effect.gen(function*() {
        const root = yield* tempRoot
        const home = join(root, "home")
        mkdirSync(home)
        writeFileSync(join(home, "config.json"), GO_FILE)
        chmodSync(root, 0o755)
        chmodSync(home, 0o555)
        chmodSync(join(home, "config.json"), 0o444)
        if (isRoot) {
          // the worker's own files (another user's would be refused before any write is tried)
          chownSync(home, 65534, 65534)
          chownSync(join(home, "config.json"), 65534, 65534)
          // root writes anywhere: run the real thing as an unprivileged user instead
          const undo = letOthersReach(...REPO_PARTS)
          const w = spawnWorker(["update", home, "x@olares.com"], { uid: 65534, gid: 65534 })
          const res = yield* Effect.promise(() => w.exited).pipe(Effect.ensuring(Effect.sync(undo)))
          expect(res.code).toBe(1)
          const err = JSON.parse(res.stderr.trim().split("\n").at(-1)!)
          expect(err._tag).toBe("StorageError")
          expect(err.recovery).toMatch(/writable.*OLARES_CLI_HOME/)
        } else {
          const err = yield* Effect.flip(Effect.flatMap(ProfileRepo, (r) => r.update(add("x@olares.com")))).pipe(
            Effect.provide(repoLayer(home))
          )
          expect(err._tag).toBe("StorageError")
          expect(err._tag === "StorageError" && err.recovery).toMatch(/writable.*OLARES_CLI_HOME/)
        }
        expect(readFileSync(join(home, "config.json"), "utf8")).toBe(GO_FILE)
        chmodSync(home, 0o700)
      }),
    30_000
  )
})

describe("ProfileRepoFile across processes", () => {
  it.scopedLive("20 processes each adding a profile end with all 20", () =>
    Effect.gen(function*() {
      const home = join(yield* tempRoot, "home")
      const ids = Array.from({ length: 20 }, (_, i) => `proc${i}@olares.com`)
      const workers = ids.map((id) => spawnWorker(["update", home, id]))
      yield* Effect.addFinalizer(() => Effect.sync(() => workers.forEach((w) => w.child.kill("SIGKILL"))))
      const results = yield* Effect.promise(() => Promise.all(workers.map((w) => w.exited)))
      for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0, stdout: "ok\n" })
      const cfg = parseConfig(readFileSync(join(home, "config.json"), "utf8"))
      expect(Either.isRight(cfg)).toBe(true)
      const got = Either.getOrThrow(cfg).profiles.map((p) => p.olaresId).sort()
      expect(got).toEqual([...ids].sort())
      expect(mode(join(home, "config.json"))).toBe(0o600)
      expect(readdirSync(home).filter((n) => n.startsWith(".tmp-"))).toEqual([])
    }), 60_000)

  it.scopedLive(
    "SIGKILLing writers at random moments never leaves a torn or rolled-back config.json",
    () =>
      Effect.gen(function*() {
        const home = join(yield* tempRoot, "home")
        const file = join(home, "config.json")
        const PROFILES = 120
        const PAD = 4_000 // ~0.5 MB per generation
        const ROUNDS = 20
        let lastGen = 0
        let kills = 0
        /** Parses the file and checks it is one whole generation; returns that generation. */
        const checkWhole = () => {
          const parsed = parseConfig(readFileSync(file, "utf8"))
          if (Either.isLeft(parsed)) throw new Error(`config.json does not parse: ${parsed.left.slice(0, 200)}`)
          const cfg = parsed.right
          const gen = Number(cfg.profiles[0]?.["gen"])
          expect(cfg).toEqual(generation(gen, PROFILES, PAD))
          return gen
        }
        for (let round = 0; round < ROUNDS; round++) {
          const w = spawnWorker(["churn", home, String(PROFILES), String(PAD)])
          yield* Effect.addFinalizer(() => Effect.sync(() => w.child.kill("SIGKILL")))
          yield* Effect.promise(() => w.waitFor("writing"))
          yield* Effect.promise(() => sleep(Math.floor(Math.random() * 250)))
          w.child.kill("SIGKILL")
          const r = yield* Effect.promise(() => w.exited)
          expect(r.signal).toBe("SIGKILL")
          kills++
          const gen = checkWhole()
          expect(gen).toBeGreaterThanOrEqual(lastGen)
          lastGen = gen
          expect(mode(file)).toBe(0o600)
          // the dead writer's lock would only go stale after ~5 s (tested in file-lock.test.ts)
          rmSync(join(home, "locks", "config.lock.lock"), { recursive: true, force: true })
        }
        expect(kills).toBe(ROUNDS)
        expect(lastGen).toBeGreaterThanOrEqual(ROUNDS)
        // whatever temp files the kills left behind do not disturb reads, and the next update sweeps them
        const temps = readdirSync(home).filter((n) => n.startsWith(".tmp-"))
        const past = new Date(Date.now() - 60_000)
        for (const t of temps) utimesSync(join(home, t), past, past)
        yield* Effect.gen(function*() {
          const repo = yield* ProfileRepo
          const cfg = yield* repo.load
          expect(Number(cfg.profiles[0]?.["gen"])).toBe(lastGen)
          yield* repo.update((c) => Effect.succeed([undefined, { ...c, currentProfile: "p1@olares.com" }] as const))
        }).pipe(Effect.provide(repoLayer(home)))
        expect(readdirSync(home).filter((n) => n.startsWith(".tmp-"))).toEqual([])
      }),
    60_000
  )
})
