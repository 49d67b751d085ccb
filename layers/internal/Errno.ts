/**
 * The one errno -> `StorageError` mapper of every store (like @effect/platform-node's one errno
 * mapper for all its file operations): a failed `node:fs` call is sorted into a `Reason` by one
 * table, then worded by the store it happened in, because the fix differs: the token store is moved
 * with OLARES_CLI_DATA_DIR and shows `permission denied (EACCES)`; the config home and its lock
 * files are moved with OLARES_CLI_HOME and show the system's message.
 */
import { statSync } from "node:fs"
import * as NodePath from "node:path"
import { StorageError } from "../../src/errors.js"
import { NOT_REGULAR } from "./Flock.js"

/** The `code` of a failed `node:fs` call (or of anything carrying one). */
export const errnoCode = (e: unknown): string | undefined =>
  typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : undefined

/** The message of an error, or the thing itself as text. */
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** What went wrong, whatever the errno spelling. */
export type Reason =
  | "PermissionDenied"
  | "ReadOnly"
  | "NoSpace"
  | "NotADirectory"
  | "AlreadyExists"
  | "NameTooLong"
  | "SymbolicLink"
  | "NotRegular"
  | "NotFound"
  | "Unknown"

const REASONS: Record<string, Reason> = {
  EACCES: "PermissionDenied",
  EPERM: "PermissionDenied",
  EROFS: "ReadOnly",
  ENOSPC: "NoSpace",
  EDQUOT: "NoSpace",
  ENOTDIR: "NotADirectory",
  EEXIST: "AlreadyExists",
  ENAMETOOLONG: "NameTooLong",
  ELOOP: "SymbolicLink",
  EISDIR: "NotRegular",
  [NOT_REGULAR]: "NotRegular",
  ENOENT: "NotFound"
}

/** The one classification of an errno. */
export const reasonOf = (e: unknown): Reason => REASONS[errnoCode(e) ?? ""] ?? "Unknown"

const ERRNO_TEXT: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EISDIR: "is a directory",
  ENOTDIR: "a parent is not a directory",
  EDQUOT: "disk quota exceeded",
  ENOENT: "no such file or directory",
  ENAMETOOLONG: "file name too long",
  ELOOP: "a symbolic link is in the way"
}

/** `permission denied (EACCES)`, or the raw message for rarer errors. */
export const errnoText = (e: unknown): string => {
  const code = errnoCode(e)
  return code !== undefined && ERRNO_TEXT[code] !== undefined ? `${ERRNO_TEXT[code]} (${code})` : errorText(e)
}

const q = (p: string) => JSON.stringify(p)

/** The nearest existing ancestor of `path` when it is not a directory (what an ENOTDIR is about). */
const blockingFile = (path: string): string | undefined => {
  for (let p = NodePath.dirname(path); p !== NodePath.dirname(p); p = NodePath.dirname(p)) {
    try {
      return statSync(p).isDirectory() ? undefined : p
    } catch {
      // not there either: look further up
    }
  }
  return undefined
}

/** Which store failed, and what it was doing. */
export type Failure =
  /** The token store (records, master key, its directory) reading `path`. */
  | { readonly store: "data"; readonly op: "read"; readonly path: string }
  /** The token store writing `path` inside `dir`. */
  | { readonly store: "data"; readonly op: "write"; readonly path: string; readonly dir: string }
  /** The config home: `what` (`cannot write`, `cannot read`, ...) failed on `path`. */
  | { readonly store: "config"; readonly what: string; readonly path: string; readonly reading?: boolean }
  /** A lock file: `what` (`cannot open lock file`, `cannot lock`, ...) failed on `path`. */
  | { readonly store: "lock"; readonly what: string; readonly path: string }

const ownershipHint = (path: string, isDir: boolean) =>
  `sudo chown "$(id -un)" ${q(path)} && chmod ${isDir ? "700" : "600"} ${q(path)}`

const notADirectoryHint = (path: string) => {
  const file = blockingFile(path)
  const where = file === undefined ? "a parent of the token store" : q(file)
  return `${where} is not a directory: move it aside, or set OLARES_CLI_DATA_DIR to a writable absolute directory`
}

const homeWritableHint = (dir: string) => `make ${dir} writable, or set OLARES_CLI_HOME to a writable directory`

const homeNoSpaceHint = (dir: string) => `free some disk space on the file system holding ${dir} and retry`

/** The token store's fix: a read points at the file, a write at its directory. */
const dataHint = (f: Extract<Failure, { store: "data" }>, reason: Reason): string => {
  const dir = f.op === "write" ? f.dir : undefined
  switch (reason) {
    case "PermissionDenied":
      return dir === undefined ? ownershipHint(f.path, false) : ownershipHint(dir, true)
    case "NotADirectory":
      return notADirectoryHint(f.path)
    case "NoSpace":
      if (dir !== undefined) return `free some space on the disk holding ${q(dir)}, then retry`
  }
  return dir === undefined
    ? `check ${q(f.path)} (ls -l ${q(f.path)})`
    : `set OLARES_CLI_DATA_DIR to a writable absolute directory, or make ${q(dir)} writable`
}

const dataStore = (f: Extract<Failure, { store: "data" }>, reason: Reason, e: unknown): StorageError =>
  new StorageError({ path: f.path, detail: `cannot ${f.op}: ${errnoText(e)}`, hint: dataHint(f, reason) })

const configHome = (f: Extract<Failure, { store: "config" }>, reason: Reason, e: unknown): StorageError => {
  const dir = NodePath.dirname(f.path)
  if (f.reading === true && reason === "PermissionDenied") {
    return new StorageError({
      path: f.path,
      detail: `${f.what}: ${errorText(e)}`,
      hint: `make ${f.path} readable by you (chmod 600 ${f.path}), or set OLARES_CLI_HOME to another directory`
    })
  }
  const hint = reason === "PermissionDenied" || reason === "ReadOnly"
    ? homeWritableHint(dir)
    : reason === "NoSpace"
    ? homeNoSpaceHint(dir)
    : reason === "NotADirectory" || reason === "AlreadyExists"
    ? `${dir} must be a directory; move aside whatever is there, or set OLARES_CLI_HOME elsewhere`
    : `check ${f.path} and its directory, then retry`
  return new StorageError({ path: f.path, detail: `${f.what}: ${errorText(e)}`, hint })
}

const lockFile = (f: Extract<Failure, { store: "lock" }>, reason: Reason, e: unknown): StorageError => {
  const { path, what } = f
  const dir = NodePath.dirname(path)
  if (reason === "NotRegular") {
    return new StorageError({
      path,
      detail: `${what}: the lock file is not a regular file (a FIFO, directory or device was put in its place)`,
      hint: `move it aside while no olares-cli is running: mv ${q(path)} ${q(`${path}.bad`)} (it is recreated)`
    })
  }
  if (reason === "SymbolicLink") {
    return new StorageError({
      path,
      detail: `${what}: the lock file is a symbolic link, and lock files are never followed`,
      hint: `remove the link (rm ${q(path)}); it is recreated as a plain file`
    })
  }
  const hint = reason === "PermissionDenied" || reason === "ReadOnly"
    ? homeWritableHint(dir)
    : reason === "NoSpace"
    ? homeNoSpaceHint(dir)
    : `check that ${dir} is a writable directory`
  return new StorageError({ path, detail: `${what}: ${errorText(e)}`, hint })
}

/** Maps a failed file operation to a `StorageError` whose hint is the command or setting that fixes it. */
export const storageError = (failure: Failure, e: unknown): StorageError => {
  const reason = reasonOf(e)
  switch (failure.store) {
    case "data":
      return dataStore(failure, reason, e)
    case "config":
      return configHome(failure, reason, e)
    case "lock":
      return lockFile(failure, reason, e)
  }
}
