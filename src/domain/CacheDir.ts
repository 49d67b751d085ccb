/**
 * `OLARES_CLI_CACHE_DIR` (set by the platform in Olares application containers) holds config.json
 * and the token store, unless it cannot be written. The reference then falls back to a directory
 * under the system temp dir; a shared, predictable path there lets another local user pre-create
 * it (a symlink, a planted master key), so this CLI falls back only to places nobody else can have
 * made: `$XDG_RUNTIME_DIR/olares-cli` when that is a private directory of this user, else the usual
 * per-user defaults under the home directory; with neither it keeps the cache dir, whose write then
 * fails naming the path. Plain functions, shared by AppPathsLive and the quick path.
 */
import * as Fs from "node:fs"
import * as NodePath from "node:path"
import type { PathEnv } from "./Paths.js"

/** What decides the cache dir fallback. */
export interface CacheEnv extends PathEnv {
  readonly XDG_RUNTIME_DIR?: string | undefined
}

/** Why `dir` cannot hold our files (`undefined`: it can), judged by the nearest existing ancestor when it does not exist yet. */
export const unwritableReason = (dir: string): string | undefined => {
  let probe = NodePath.resolve(dir)
  for (;;) {
    let st: Fs.Stats
    try {
      st = Fs.statSync(probe)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      const parent = NodePath.dirname(probe)
      if (code === "ENOENT" && parent !== probe) {
        probe = parent
        continue
      }
      return `${probe}: ${code ?? String(e)}`
    }
    if (!st.isDirectory()) return `${probe} is not a directory`
    try {
      Fs.accessSync(probe, Fs.constants.W_OK | Fs.constants.X_OK)
      return undefined
    } catch (e) {
      return `${probe}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`
    }
  }
}

/** `$XDG_RUNTIME_DIR` when it is an absolute directory of this user that nobody else may enter (what logind makes). */
const privateRuntimeDir = (raw: string | undefined, uid: number | undefined): string | undefined => {
  if (raw === undefined || raw === "" || !NodePath.isAbsolute(raw) || uid === undefined) return undefined
  try {
    const st = Fs.lstatSync(raw)
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 && unwritableReason(raw) === undefined
      ? raw
      : undefined
  } catch {
    return undefined
  }
}

/** The environment to resolve paths with, and the warning to print when the cache dir was replaced. */
export interface CacheDirChoice {
  readonly env: PathEnv
  readonly warning?: string
}

/** Applies the fallback: `env` unchanged unless `OLARES_CLI_CACHE_DIR` is set, needed, and not writable. */
export const chooseCacheDir = (
  env: CacheEnv,
  homedir: string,
  uid: number | undefined = process.getuid?.()
): CacheDirChoice => {
  const { XDG_RUNTIME_DIR, ...pathEnv } = env
  const cache = env.OLARES_CLI_CACHE_DIR
  const needed = (env.OLARES_CLI_HOME ?? "") === "" || (env.OLARES_CLI_DATA_DIR ?? "") === ""
  if (cache === undefined || cache === "" || !needed) return { env: pathEnv }
  const reason = unwritableReason(cache)
  if (reason === undefined) return { env: pathEnv }
  const runtime = privateRuntimeDir(XDG_RUNTIME_DIR, uid)
  if (runtime !== undefined) {
    const base = NodePath.join(runtime, "olares-cli")
    return {
      env: { ...pathEnv, OLARES_CLI_CACHE_DIR: base },
      warning: `OLARES_CLI_CACHE_DIR ${cache} is not writable (${reason}); using ${base} instead`
    }
  }
  if (homedir === "") return { env: pathEnv }
  const { OLARES_CLI_CACHE_DIR: _dropped, ...defaults } = pathEnv
  return {
    env: defaults,
    warning:
      `OLARES_CLI_CACHE_DIR ${cache} is not writable (${reason}); using the per-user defaults under ${homedir} instead`
  }
}
