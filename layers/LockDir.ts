/**
 * The on-disk shape of FileLockLive's locks, as plain synchronous functions shared with the start-up
 * quick path (src/quick.ts): an empty `<path>` lock file (what the Go CLI flocks) and proper-lockfile's
 * lock, the directory `<path>.lock`, which exactly one process can create.
 */
import { closeSync, mkdirSync, openSync, rmdirSync } from "node:fs"
import { dirname } from "node:path"

/** Creates the lock file's directory (0700) and the empty lock file (0600); throws the raw errno error. */
export const ensureLockFileSync = (path: string): void => {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  closeSync(openSync(path, "a", 0o600))
}

/**
 * One attempt at proper-lockfile's lock on `path` (absolute, not realpath-ed), without waiting: a
 * release function, or `undefined` when the lock directory exists (held, or left by a dead holder;
 * waiting and stale takeover are FileLockLive's job). The holder must finish well within
 * proper-lockfile's stale bound (5 s), since nothing refreshes the directory's mtime.
 */
export const tryLockOnceSync = (path: string): (() => void) | undefined => {
  const dir = `${path}.lock`
  try {
    mkdirSync(dir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return undefined
    throw e
  }
  return () => rmdirSync(dir)
}
