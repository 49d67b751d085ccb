/**
 * Crash-safe replacement of config.json and the cleanup of what crashed writers leave, as plain
 * synchronous functions (node:fs only) shared by ProfileRepoFile and the start-up quick path
 * (src/startup/quick.ts). A write is a handful of small syscalls, so blocking is cheaper than the thread pool.
 */
import { closeSync, fchmodSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"

/** Prefix of the temp files `writeFileAtomicSync` creates next to the target. */
export const TEMP_PREFIX = ".tmp-"

/** Leftover temp files younger than this may belong to a writer still running (e.g. the Go CLI). */
export const TEMP_GRACE_MS = 10_000

const posix = process.platform !== "win32"

let counter = 0

/**
 * A temp name no live process shares (pid + counter), randomised against leftovers of a dead one,
 * padded to `length` characters: a temp as long as the name it is renamed to proves that name fits.
 */
export const tempName = (length = 0): string => {
  const name = `${TEMP_PREFIX}${process.pid.toString(16)}-${(counter++).toString(16)}-${Math.random().toString(16).slice(2, 10)}`
  return name.length >= length ? name : `${name}-${"0".repeat(length - name.length - 1)}`
}

/**
 * Writes `text` to a fresh temp file (O_EXCL, 0600) beside `file`, fsyncs it, renames it over `file`,
 * then fsyncs the directory so the rename survives a power cut. Throws the raw errno error; the
 * target is then untouched and the temp file gone.
 */
export const writeFileAtomicSync = (file: string, text: string): void => {
  const dir = dirname(file)
  const tmp = join(dir, tempName())
  const fd = openSync(tmp, "wx", 0o600)
  try {
    try {
      writeFileSync(fd, text, "utf8")
      fsyncSync(fd)
      if (posix) fchmodSync(fd, 0o600)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
  } catch (e) {
    try {
      unlinkSync(tmp)
    } catch {
      // already gone
    }
    throw e
  }
  if (posix) {
    // Some file systems refuse to fsync a directory, which is fine.
    try {
      const d = openSync(dir, "r")
      try {
        fsyncSync(d)
      } finally {
        closeSync(d)
      }
    } catch {
      // best effort
    }
  }
}

/** Removes `.tmp-*` files that crashed writers left in `dir` (only old ones: a live writer may own a young one). */
export const sweepTempsSync = (dir: string, nowMs: number): void => {
  let names: Array<string>
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX)) continue
    const p = join(dir, name)
    try {
      const s = statSync(p)
      if (s.isFile() && nowMs - s.mtimeMs > TEMP_GRACE_MS) unlinkSync(p)
    } catch {
      // raced with another sweeper
    }
  }
}
