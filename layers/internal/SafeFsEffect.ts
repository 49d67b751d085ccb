/**
 * SafeFs and AtomicFile inside Effect: a refusal becomes a StorageError carrying its fix, a verdict
 * becomes a logged warning (layers never print), the temp sweep reads Effect's Clock. The token
 * store's private-file operations (its directory, master key and records) are here because the
 * file store and the macOS master-key source both use them.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as NodePath from "node:path"
import { safeHomedir } from "../../src/domain/Paths.js"
import { StorageError } from "../../src/errors.js"
import { sweepTempsSync } from "./AtomicFile.js"
import { storageError } from "./Errno.js"
import {
  liveContext,
  Refused,
  type TrustContext,
  type Verdict,
  verdictWarning,
  type WarningStyle
} from "./PrivatePolicy.js"
import { checkDirSync, ensureDirSync, readPrivateSync } from "./SafeFs.js"

/** Runs a SafeFs call: `Refused` becomes a StorageError whose hint is the refusal's fix; other errors go to `onError`. */
export const guarded = <A>(
  f: () => A,
  onError: (e: NodeJS.ErrnoException) => StorageError
): Effect.Effect<A, StorageError> =>
  Effect.try({
    try: f,
    catch: (e) =>
      e instanceof Refused
        ? new StorageError({ path: e.path, detail: e.detail, hint: e.fix })
        : onError(e as NodeJS.ErrnoException)
  })

/** Logs what a policy check tightened (or could only warn about), in the store's words. */
export const logVerdict = (style: WarningStyle, path: string, what: string, v: Verdict): Effect.Effect<void> => {
  const line = verdictWarning(style, path, what, v)
  return line === undefined ? Effect.void : Effect.logWarning(line)
}

/** Removes the temp files crashed writers left in `dir` (only old ones: a live writer may own a young one). */
export const sweepTemps = (dir: string): Effect.Effect<void> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => sweepTempsSync(dir, now)))

/** The trust context of this process (uid, home), read when used so tests can move HOME. */
export const trust = (): TrustContext => liveContext(safeHomedir())

const STORE_DIR = "token store directory"

/**
 * Creates the token store's `dir` (0700, parents too, one level at a time) or checks an existing one:
 * refused when another user owns or can write it (or can swap a directory above it); a too-open mode
 * of our own real directory is tightened with a warning.
 */
export const ensurePrivateDir = (dir: string): Effect.Effect<void, StorageError> =>
  guarded(
    () => ensureDirSync(dir, STORE_DIR, trust()),
    (e) => storageError({ store: "data", op: "write", path: dir, dir: NodePath.dirname(dir) }, e)
  ).pipe(Effect.flatMap((v) => logVerdict("data", dir, STORE_DIR, v)))

/** Checks the token store's directory if it exists (`false` when it does not). */
export const checkStoreDir = (dir: string): Effect.Effect<boolean, StorageError> =>
  guarded(() => checkDirSync(dir, STORE_DIR, trust()), (e) => storageError({ store: "data", op: "read", path: dir }, e))
    .pipe(
      Effect.flatMap((
        r
      ) => (r._tag === "missing"
        ? Effect.succeed(false)
        : Effect.as(logVerdict("data", dir, STORE_DIR, r.verdict), true))
      )
    )

/**
 * Reads a private file of the token store without following a symlink or blocking on a FIFO; `None`
 * when it does not exist. Another user's file, a group/other-writable one, a link, FIFO or device is
 * refused; a too-open mode of our own file is tightened (through the descriptor read) with a warning.
 */
export const readPrivateFile = (path: string): Effect.Effect<Option.Option<Buffer>, StorageError> => {
  const what = NodePath.basename(path)
  return guarded(
    () => readPrivateSync(path, what, trust()),
    (e) => storageError({ store: "data", op: "read", path }, e)
  ).pipe(
    Effect.flatMap((r) =>
      r === undefined
        ? Effect.succeed(Option.none<Buffer>())
        : Effect.as(logVerdict("data", path, what, r.verdict), Option.some(r.data))
    )
  )
}
