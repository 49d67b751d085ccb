/**
 * The one crash-safe writer of every store (config.json, token records, master keys) and the cleanup
 * of what crashed writers leave, as plain synchronous functions (node:fs only) shared by the stores
 * and the start-up quick path (src/startup/quick.ts). A write is a temp file beside the target (O_EXCL, 0600),
 * fsynced, renamed over the target, then the directory fsynced so the rename survives a power cut. A
 * write is a handful of small syscalls, so blocking is cheaper than the thread pool.
 */
import {
  closeSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  linkSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync
} from "node:fs"
import { basename, dirname, join } from "node:path"
import { PRIVATE_FILE_MODE } from "../../src/domain/Paths.js"

/** Prefix of every temp file a store writes next to its target. */
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
  const name = `${TEMP_PREFIX}${process.pid.toString(16)}-${(counter++).toString(16)}-${
    Math.random().toString(16).slice(2, 10)
  }`
  return name.length >= length ? name : `${name}-${"0".repeat(length - name.length - 1)}`
}

const unlinkQuietly = (path: string): void => {
  try {
    unlinkSync(path)
  } catch {
    // already gone
  }
}

const closeQuietly = (fd: number): void => {
  try {
    closeSync(fd)
  } catch {
    // already closed
  }
}

/** Fsyncs a directory so a rename or link in it survives a power cut; best effort (some file systems refuse). */
export const fsyncDirSync = (dir: string): void => {
  if (!posix) return
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

/** An open temp file beside its target, to be renamed over it by `commitSync` or dropped by `abandonSync`. */
export interface TempFile {
  readonly tmp: string
  readonly fd: number
}

/**
 * Creates a fresh temp file (O_EXCL, 0600) beside `target`, its name padded to the target's length so
 * a name the file system refuses fails now, not at the rename. Throws the raw errno error.
 */
export const openTempSync = (target: string): TempFile => {
  const tmp = join(dirname(target), tempName(basename(target).length))
  const fd = openSync(tmp, "wx", PRIVATE_FILE_MODE)
  // the umask may have taken the owner's bits; group/other never get any
  if (posix) fchmodSync(fd, PRIVATE_FILE_MODE)
  return { tmp, fd }
}

/** Writes `capacity` zero bytes into the temp and syncs them, so a later commit of that size only overwrites blocks it owns. */
export const preallocateSync = (t: TempFile, capacity: number): void => {
  const zeros = Buffer.alloc(Math.min(capacity, 64 * 1024))
  for (let at = 0; at < capacity; at += zeros.length) {
    writeSync(t.fd, zeros, 0, Math.min(zeros.length, capacity - at), at)
  }
  fsyncSync(t.fd)
}

/** Whether the temp is still in its directory (a sweep or a purge may have removed it). */
export const stillLinkedSync = (t: TempFile): boolean => {
  try {
    return fstatSync(t.fd).nlink > 0
  } catch {
    return false
  }
}

/** Drops an unused temp (closed, removed). */
export const abandonSync = (t: TempFile): void => {
  closeQuietly(t.fd)
  unlinkQuietly(t.tmp)
}

/**
 * Writes `data` into the temp (over its own blocks), trims it, syncs it, renames it over `target` and
 * fsyncs the directory. Throws the raw errno error; the target is then untouched and the temp gone.
 */
export const commitSync = (t: TempFile, target: string, data: Uint8Array): void => {
  try {
    try {
      writeSync(t.fd, data, 0, data.length, 0)
      ftruncateSync(t.fd, data.length)
      fsyncSync(t.fd)
    } finally {
      closeQuietly(t.fd)
    }
    renameSync(t.tmp, target)
  } catch (e) {
    unlinkQuietly(t.tmp)
    throw e
  }
  fsyncDirSync(dirname(target))
}

/** Replaces `file` with `data` atomically (temp + fsync + rename + directory fsync). Throws the raw errno error. */
export const writeFileAtomicSync = (file: string, data: string | Uint8Array): void =>
  commitSync(openTempSync(file), file, typeof data === "string" ? Buffer.from(data, "utf8") : data)

/**
 * Publishes `data` at `file` only if nothing is there yet: written to a temp, then hard-linked into
 * place (a link, unlike a rename, refuses to replace what a concurrent writer just published, and a
 * reader never sees it half-written). `true` when ours was published, `false` when another was
 * already there. File systems without hard links fall back to a plain rename. Throws other errno errors.
 */
export const publishOnceSync = (file: string, data: Uint8Array): boolean => {
  const t = openTempSync(file)
  try {
    try {
      writeSync(t.fd, data, 0, data.length, 0)
      fsyncSync(t.fd)
    } finally {
      closeQuietly(t.fd)
    }
    try {
      linkSync(t.tmp, file)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === "EEXIST") return false
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS" && code !== "EOPNOTSUPP") throw e
      renameSync(t.tmp, file)
    }
  } finally {
    unlinkQuietly(t.tmp)
  }
  fsyncDirSync(dirname(file))
  return true
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
