/**
 * Spec section 4 as plain functions: where config.json, the locks and the token store live. No Effect
 * imports, so the start-up quick path (src/quick.ts) shares it with AppPathsLive.
 */
import * as Os from "node:os"
import * as NodePath from "node:path"
import type { AppPathsShape } from "../services/AppPaths.js"

/** The environment variables that move the CLI's files. */
export const PATH_ENV_VARS = ["OLARES_CLI_HOME", "OLARES_CLI_CACHE_DIR", "OLARES_CLI_DATA_DIR"] as const

/** The directory of a platform-mounted `credential.json` (Olares application containers; see ManagedCredential.ts). */
export const CREDENTIALS_DIR_ENV = "OLARES_CLI_CREDENTIALS_DIR"

/** The subset of the environment `resolvePaths` reads. */
export type PathEnv = Partial<Record<(typeof PATH_ENV_VARS)[number], string | undefined>>

/** The reference's service name: last segment of the token-store directory. */
const SERVICE = "olares-cli"

const pathFor = (platform: NodeJS.Platform) => (platform === "win32" ? NodePath.win32 : NodePath.posix)

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === "" ? undefined : v)

/**
 * Spec section 4 as a pure function. Environment values that are relative after normalisation are
 * ignored for the token store (like Go's `filepath.Clean` + `IsAbs`), so a relative value can never
 * make the store float with the working directory. An empty `homedir` (unresolvable) falls back to
 * the temp dir, as the reference does for its keychain directory.
 */
export const resolvePaths = (
  env: PathEnv,
  homedir: string,
  platform: NodeJS.Platform,
  tmpdir: string = Os.tmpdir()
): AppPathsShape => {
  const P = pathFor(platform)
  const userHome = homedir === "" ? P.join(tmpdir, SERVICE) : homedir
  const explicitHome = nonEmpty(env.OLARES_CLI_HOME)
  const cacheDir = nonEmpty(env.OLARES_CLI_CACHE_DIR)
  const home = explicitHome ?? (cacheDir !== undefined ? P.join(cacheDir, "config") : P.join(userHome, ".olares-cli"))

  const absolute = (v: string | undefined): string | undefined => {
    if (v === undefined) return undefined
    const cleaned = P.normalize(v)
    return P.isAbsolute(cleaned) ? cleaned : undefined
  }
  const dataEnv = absolute(nonEmpty(env.OLARES_CLI_DATA_DIR))
  const cacheEnv = absolute(cacheDir)
  const [dataDir, dataDirSource] = dataEnv !== undefined
    ? [P.join(dataEnv, SERVICE), "OLARES_CLI_DATA_DIR"]
    : cacheEnv !== undefined
    ? [P.join(cacheEnv, "keychain", SERVICE), "OLARES_CLI_CACHE_DIR"]
    : homedir === ""
    ? [P.join(tmpdir, SERVICE, "keychain", SERVICE), "temp-dir fallback (home directory unresolvable)"]
    : platform === "darwin"
    ? [P.join(homedir, "Library", "Application Support", SERVICE), "default"]
    : [P.join(homedir, ".local", "share", SERVICE), "default"]

  return {
    home,
    configFile: P.join(home, "config.json"),
    locksDir: P.join(home, "locks"),
    dataDir,
    dataDirSource
  }
}

/** `os.homedir()`, or empty when it cannot be resolved (`resolvePaths` then falls back to the temp dir). */
export const safeHomedir = (): string => {
  try {
    return Os.homedir()
  } catch {
    return ""
  }
}

/**
 * The reference's token-store file name for an account: every character outside `[a-zA-Z0-9._-]`
 * becomes one `_`. Go's regexp works on runes, so an astral character (an emoji, two UTF-16 units)
 * is one `_` too: the `u` flag makes the class match whole code points.
 */
export const safeAccountFileName = (account: string): string => account.replace(/[^a-zA-Z0-9._-]/gu, "_")
