/**
 * The on-disk shape of FileLockLive's locks, as plain synchronous functions shared with the start-up
 * quick path (src/quick.ts): an empty `<path>` lock file (what the Go CLI flocks) and proper-lockfile's
 * lock, the directory `<path>.lock`, which exactly one process can create.
 */
import { closeSync, mkdirSync, openSync, rmdirSync, statSync } from "node:fs"
import { dirname } from "node:path"

/** Creates the lock file's directory (0700) and the empty lock file (0600); throws the raw errno error. */
export const ensureLockFileSync = (path: string): void => {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  closeSync(openSync(path, "a", 0o600))
}

/**
 * One attempt at proper-lockfile's lock on `path` (absolute, not realpath-ed), without waiting: a
 * release function, or `undefined` when the lock directory exists (held, or left by a dead holder;
 * waiting and stale takeover are FileLockLive's job). Nothing refreshes the directory's mtime, so a
 * holder stalled past proper-lockfile's stale bound (5 s) can be taken over; the release then leaves
 * the new holder's directory alone (it is another directory: another inode or mtime).
 */
export const tryLockOnceSync = (path: string): (() => void) | undefined => {
  const dir = `${path}.lock`
  try {
    mkdirSync(dir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return undefined
    throw e
  }
  const mine = statSync(dir)
  return () => {
    let now
    try {
      now = statSync(dir)
    } catch {
      return // taken over and released already
    }
    if (now.ino === mine.ino && now.mtimeMs === mine.mtimeMs) rmdirSync(dir)
  }
}
