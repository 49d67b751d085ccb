/**
 * Where config.json, the locks and the token store live, as plain functions. No Effect
 * imports, so the start-up quick path (src/startup/quick.ts) shares it with AppPathsLive.
 */
import * as Os from "node:os"
import * as NodePath from "node:path"

/** Resolved locations: what `resolvePaths` computes and the `AppPaths` port serves. */
export interface AppPathsShape {
  /** Config home: `$OLARES_CLI_HOME`, else `$OLARES_CLI_CACHE_DIR/config`, else `~/.olares-cli` (0700); always absolute. */
  readonly home: string
  /** `<home>/config.json` (0600). */
  readonly configFile: string
  /** `<home>/locks` (0700): `config.lock`, `<id>.refresh.lock`. */
  readonly locksDir: string
  /**
   * Token-store directory: `$OLARES_CLI_DATA_DIR/olares-cli`, else
   * `$OLARES_CLI_CACHE_DIR/keychain/olares-cli`, else `~/.local/share/olares-cli` (on macOS
   * `~/Library/Application Support/olares-cli`). Relative values are refused, never ignored.
   */
  readonly dataDir: string
  /** Why `dataDir` is what it is (for `profile doctor`). */
  readonly dataDirSource: string
}

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

/** An environment that cannot place the CLI's files safely; `resolvePaths` throws it. */
export class PathsProblem extends Error {
  constructor(message: string, readonly hint: string) {
    super(message)
  }
}

/**
 * The paths from the environment, as a pure function. Every directory must be absolute: a relative
 * `OLARES_CLI_HOME`, `OLARES_CLI_CACHE_DIR` or `OLARES_CLI_DATA_DIR` would make the files float with
 * the working directory (a config.json in whatever directory the command runs in would choose where
 * tokens are sent), so it is a `PathsProblem`, not silently ignored. So is a home directory that is
 * needed but unresolvable (no HOME, no passwd entry): there is no shared fallback under the temp dir,
 * where another user could plant a symlink or a master key first.
 */
export const resolvePaths = (env: PathEnv, homedir: string, platform: NodeJS.Platform): AppPathsShape => {
  const P = pathFor(platform)
  const absolute = (name: string, v: string | undefined): string | undefined => {
    if (v === undefined) return undefined
    const cleaned = P.normalize(v)
    if (P.isAbsolute(cleaned)) return cleaned
    throw new PathsProblem(
      `${name}=${JSON.stringify(v)} is not an absolute path (a relative one would move with the working directory)`,
      `export ${name}=${
        v.startsWith("~") ? `"$HOME${v.slice(1)}"` : `"$PWD/${v}"`
      } (an absolute path), or unset ${name}`
    )
  }
  const explicitHome = absolute("OLARES_CLI_HOME", nonEmpty(env.OLARES_CLI_HOME))
  const cacheDir = absolute("OLARES_CLI_CACHE_DIR", nonEmpty(env.OLARES_CLI_CACHE_DIR))
  const dataEnv = absolute("OLARES_CLI_DATA_DIR", nonEmpty(env.OLARES_CLI_DATA_DIR))
  const userHome = () => {
    if (homedir !== "" && P.isAbsolute(homedir)) return homedir
    throw new PathsProblem(
      homedir === ""
        ? "cannot find your home directory (HOME is unset and there is no passwd entry for this user)"
        : `HOME=${JSON.stringify(homedir)} is not an absolute path`,
      "export HOME=/path/to/your/home, or set OLARES_CLI_HOME and OLARES_CLI_DATA_DIR to absolute private directories"
    )
  }
  const home = explicitHome ?? (cacheDir !== undefined ? P.join(cacheDir, "config") : P.join(userHome(), ".olares-cli"))
  const [dataDir, dataDirSource] = dataEnv !== undefined
    ? [P.join(dataEnv, SERVICE), "OLARES_CLI_DATA_DIR"]
    : cacheDir !== undefined
    ? [P.join(cacheDir, "keychain", SERVICE), "OLARES_CLI_CACHE_DIR"]
    : platform === "darwin"
    ? [P.join(userHome(), "Library", "Application Support", SERVICE), "default"]
    : [P.join(userHome(), ".local", "share", SERVICE), "default"]

  return {
    home,
    configFile: P.join(home, "config.json"),
    locksDir: P.join(home, "locks"),
    dataDir,
    dataDirSource
  }
}

/** `os.homedir()`, or empty when it cannot be resolved (`resolvePaths` then refuses to guess). */
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

/** Mode of every private file the CLI writes: config.json, the master key, the token records, lock files. */
export const PRIVATE_FILE_MODE = 0o600

/** Mode of every private directory the CLI creates: the config home, `locks/`, the data dir. */
export const PRIVATE_DIR_MODE = 0o700

/** `<dataDir>/<safe(account)>.enc`, the reference's token record file name. */
export const recordPath = (dataDir: string, account: string): string =>
  NodePath.join(dataDir, `${safeAccountFileName(account)}.enc`)

/** `<dataDir>/master.key`: the Linux store's 32-byte AES master key (macOS: `master.key.file` beside it). */
export const masterKeyPath = (dataDir: string): string => NodePath.join(dataDir, "master.key")

/** `<locksDir>/config.lock`: the lock every config.json read-modify-write takes (the Go CLI's too). */
export const configLockPath = (locksDir: string): string => NodePath.join(locksDir, "config.lock")

/**
 * Lock-file sanitising, like the reference's lockfile package: path separators, Windows-reserved
 * characters and control characters become `_`; `@` and `.` are kept; empty becomes `_`.
 */
export const safeLockName = (id: string): string => {
  if (id === "") return "_"

  return id.replace(/[/\\:*?"<>|\x00-\x1f]/g, "_")
}

/** `<locksDir>/<sanitized id>.refresh.lock`: the cross-process refresh lock of one identity. */
export const refreshLockPath = (locksDir: string, olaresId: string): string =>
  NodePath.join(locksDir, `${safeLockName(olaresId)}.refresh.lock`)

/** `<dataDir>/locks`: locks beside the token records, shared by every config home using that data dir. */
export const dataLocksDir = (dataDir: string): string => NodePath.join(dataDir, "locks")

/**
 * The refresh locks of one identity, in the order they are always taken (a fixed order, so two
 * takers cannot deadlock): the config home's (the Go CLI's lock) first, then the data dir's, which
 * serialises config homes that share one data dir. One path when both are the same file.
 */
export const refreshLockPaths = (
  paths: { readonly locksDir: string; readonly dataDir: string },
  olaresId: string
): ReadonlyArray<string> => {
  const home = refreshLockPath(paths.locksDir, olaresId)
  const data = refreshLockPath(dataLocksDir(paths.dataDir), olaresId)
  return home === data ? [home] : [home, data]
}
