/**
 * `config.json` on disk: tolerant reads (missing/empty = empty config), locked read-modify-write,
 * atomic replacement (temp + fsync + rename + directory fsync), 0600/0700 enforced.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { basename, dirname } from "node:path"
import { serializeConfig } from "../src/domain/ConfigData.js"
import { parseJson } from "../src/domain/Json.js"
import { configLockPath, safeHomedir } from "../src/domain/Paths.js"
import { parseConfig, ProfileConfig } from "../src/domain/ProfileConfig.js"
import { StorageError } from "../src/errors.js"
import { AppPaths } from "../src/services/AppPaths.js"
import { FileLock } from "../src/services/FileLock.js"
import { ProfileRepo } from "../src/services/ProfileRepo.js"
import { writeFileAtomicSync } from "./internal/AtomicFile.js"
import { storageError } from "./internal/Errno.js"
import { liveContext, type Verdict } from "./internal/PrivatePolicy.js"
import { checkDirSync, configTargetSync, ensureDirSync, readConfigSync } from "./internal/SafeFs.js"
import { guarded, logVerdict, sweepTemps } from "./internal/SafeFsEffect.js"

/** How long `update` waits for another writer holding `locks/config.lock`. */
const LOCK_TIMEOUT = "10 seconds"

const decodeIssues = Schema.decodeUnknownEither(ProfileConfig, { errors: "all" })

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s)

const pathText = (path: ReadonlyArray<PropertyKey>) =>
  path.reduce<string>(
    (acc, k) => (typeof k === "number" ? `${acc}[${k}]` : acc === "" ? String(k) : `${acc}.${String(k)}`),
    ""
  )

/** A one-line reason, without the schema's full type signatures, e.g. `profiles[0].olaresId is missing`. */
export const explainBadConfig = (text: string): string => {
  const parsed = parseJson(text)
  if (!parsed.ok) return parsed.reason
  const json = parsed.value
  const decoded = decodeIssues(json)
  if (Either.isRight(decoded)) return "not a valid config file"
  const issues = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
    // optional fields are `T | undefined`; the undefined branch's complaint is noise
    .filter((i) => !i.message.startsWith("Expected undefined,"))
    .map((i) => {
      const where = pathText(i.path)
      const what = i._tag === "Missing"
        ? "is missing"
        : i.message
          .replace(/^Expected ReadonlyArray<[\s\S]*>, actual/, "expected an array, actual")
          .replace(/^Expected (Struct \(Encoded side\)|\{[\s\S]*\}), actual/, "expected an object, actual")
          .replace(/^Expected/, "expected")
      return clip(`${where === "" ? "top level" : where}: ${what}`, 120)
    })
  const more = issues.length > 2 ? ` (+${issues.length - 2} more)` : ""
  return `not a valid config file: ${issues.slice(0, 2).join("; ")}${more}`
}

/** Maps a failed file operation on `path` to a `StorageError` whose hint says how to make it work. */
export const ioError = (path: string, what: string, e: unknown): StorageError =>
  storageError({ store: "config", what, path }, e)

/** Reads config.json from `AppPaths`, writes it under `FileLock`. */
export const makeProfileRepoFile = Effect.gen(function*() {
  const paths = yield* AppPaths
  const fileLock = yield* FileLock
  const file = paths.configFile
  const home = dirname(file)
  const lockPath = configLockPath(paths.locksDir)

  const badFileHint = `fix or move aside ${file} (e.g. mv ${file} ${file}.bad); ` +
    "`olares-cli profile list` works again once it is valid JSON or gone"

  const trust = liveContext(safeHomedir())

  /** Warns about what a check tightened or left alone (layers never print; the logger does). */
  const report = (path: string, what: string, v: Verdict) => logVerdict("config", path, what, v)

  /** The config home, if it exists: ours, not writable by others, nothing above it swappable. */
  const checkHome = guarded(
    () => checkDirSync(home, "config directory", trust),
    (e) => ioError(home, "cannot inspect", e)
  ).pipe(
    Effect.flatMap((r) => (r._tag === "ok" ? report(home, "config directory", r.verdict) : Effect.void))
  )

  /** config.json's text ("" when absent) and the file that really holds it (a symlink's target). */
  const readText = Effect.zipRight(
    checkHome,
    guarded(
      () => readConfigSync(file, trust),
      (e) => storageError({ store: "config", what: "cannot read", path: file, reading: true }, e)
    )
  ).pipe(
    Effect.tap((r) => (r === undefined ? Effect.void : report(r.file, "config file", r.verdict))),
    Effect.map((r) => (r === undefined ? "" : r.data.toString("utf8")))
  )

  const load = Effect.gen(function*() {
    const text = yield* readText
    const parsed = parseConfig(text)
    if (Either.isLeft(parsed)) {
      return yield* new StorageError({ path: file, detail: explainBadConfig(text), hint: badFileHint })
    }
    return parsed.right
  }).pipe(Effect.withSpan("ProfileRepo.load"))

  const ensureHome = guarded(
    () => ensureDirSync(home, "config directory", trust),
    (e) => ioError(file, `cannot create ${home}`, e)
  ).pipe(
    Effect.flatMap((v) => report(home, "config directory", v))
  )

  /** Replaces config.json atomically; through a trusted symlink, the target is replaced (the link stays). */
  const write = (text: string) =>
    guarded(
      () => writeFileAtomicSync(configTargetSync(file, trust).file, text),
      (e) => ioError(file, "cannot write", e)
    )

  const update = <A, E>(f: (config: ProfileConfig) => Effect.Effect<readonly [A, ProfileConfig], E>) =>
    Effect.scoped(
      Effect.gen(function*() {
        yield* ensureHome
        yield* fileLock.lock(lockPath, { timeout: LOCK_TIMEOUT })
        const current = yield* load
        const [a, next] = yield* f(current)
        const text = serializeConfig(next)
        if (text !== serializeConfig(current)) yield* write(text)
        yield* sweepTemps(home)
        return a
      })
    ).pipe(Effect.withSpan("ProfileRepo.update", { attributes: { file: basename(file) } }))

  return ProfileRepo.of({ path: file, load, update })
})

/** config.json in `AppPaths.home`, locked with `FileLock`. */
export const ProfileRepoFile: Layer.Layer<ProfileRepo, never, AppPaths | FileLock> = Layer.effect(
  ProfileRepo,
  makeProfileRepoFile
)
