/**
 * Trust like ssh, as plain functions (node:fs only) shared by ProfileRepoFile, KeyStoreFile and the
 * start-up quick path (src/startup/quick.ts): a config home, config.json, data dir, master key or record that
 * another user owns or can write is refused (they could have planted or changed it); a directory on
 * the way to one that others can swap (group/other-writable without the sticky bit, or owned by
 * another user) is refused too. Files are opened with O_NOFOLLOW | O_NONBLOCK after an lstat, so a
 * symlink is never followed by accident and a FIFO or device is refused without blocking. Only our
 * own real files and directories (never through a symlink) have a too-open read mode tightened.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  type Stats,
  statSync
} from "node:fs"
import { dirname, isAbsolute, join, resolve } from "node:path"
import { PRIVATE_DIR_MODE } from "../../src/domain/Paths.js"
import { isSwappable, judge, modeText, Refused, sh, type TrustContext, type Verdict } from "./PrivatePolicy.js"

const posix = process.platform !== "win32"

/** Open flags for reading a file we must not follow, block on or adopt as a terminal. */
export const READ_FLAGS = constants.O_RDONLY |
  (posix ? constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY : 0)

/** Open flags for a directory we may fchmod (never through a symlink). */
const DIR_FLAGS = constants.O_RDONLY | (posix ? constants.O_NOFOLLOW | constants.O_DIRECTORY | constants.O_NONBLOCK : 0)

/**
 * The directories above `dir` (resolved), up to the user's home or `/`: each must be owned by root or
 * us and not writable by group/others unless sticky (like /tmp), or someone else could swap `dir`.
 */
export const checkAncestors = (dir: string, ctx: TrustContext): void => {
  if (ctx.uid === undefined) return
  const home = ctx.userHome === "" ? undefined : resolve(ctx.userHome)
  for (let p = dirname(dir);; p = dirname(p)) {
    let st: Stats
    try {
      st = statSync(p)
    } catch {
      return // unreadable or gone: the use of `dir` itself reports it
    }
    const foreign = st.uid !== 0 && st.uid !== ctx.uid
    const swappable = isSwappable(st.mode)
    if (foreign || swappable) {
      throw new Refused(
        dir,
        `the directory ${p} above it ${
          foreign ? `is owned by uid ${st.uid}` : `is mode ${modeText(st.mode)} (writable by others, no sticky bit)`
        }: another user could replace what is inside`,
        "keep olares-cli's files in a directory only you can change, e.g. export OLARES_CLI_HOME=~/.olares-cli OLARES_CLI_DATA_DIR=~/.local/share"
      )
    }
    if (p === home || p === dirname(p)) return
  }
}

/** lstat, `undefined` when the path does not exist. Throws other errno errors. */
export const lstatOrUndefined = (path: string): Stats | undefined => {
  try {
    return lstatSync(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw e
  }
}

/** Tightens an fd's mode; the verdict said it is our own real path. */
const tightenFd = (fd: number, v: Verdict, ctx: TrustContext) => {
  if (v._tag === "tighten" && posix && ctx.fix) fchmodSync(fd, v.want)
}

/** What opening a directory did, for the caller's warning. */
export type DirResult = { readonly _tag: "missing" } | { readonly _tag: "ok"; readonly verdict: Verdict }

/**
 * Checks an existing directory we use (the config home, the data dir): itself (a symlink is followed
 * and its target judged, never chmod-ed), then the directories above it. A too-open own directory is
 * tightened through an O_NOFOLLOW descriptor; the verdict says what happened, for a warning.
 */
export const checkDirSync = (dir: string, what: string, ctx: TrustContext): DirResult => {
  const l = lstatOrUndefined(dir)
  if (l === undefined) return { _tag: "missing" }
  if (l.isSymbolicLink()) {
    if (ctx.uid !== undefined && l.uid !== 0 && l.uid !== ctx.uid) {
      throw new Refused(
        dir,
        `${what} is a symbolic link owned by uid ${l.uid}, not by you (uid ${ctx.uid}): another user could have planted it`,
        `check where it points (ls -l ${sh(dir)}), then replace it with a directory of your own: sudo rm ${
          sh(dir)
        } && mkdir -m 700 ${sh(dir)}`
      )
    }
    const target = realpathSync(dir)
    const verdict = judge(dir, statSync(target), "directory", what, ctx, true)
    checkAncestors(target, ctx)
    return { _tag: "ok", verdict }
  }
  const verdict = judge(dir, l, "directory", what, ctx)
  checkAncestors(dir, ctx)
  if (verdict._tag === "tighten" && ctx.fix) {
    const fd = openSync(dir, DIR_FLAGS)
    try {
      const st = fstatSync(fd)
      if (st.ino === l.ino && st.dev === l.dev) tightenFd(fd, verdict, ctx)
    } finally {
      closeSync(fd)
    }
  }
  return { _tag: "ok", verdict }
}

/**
 * Creates `dir` and its missing parents (0700), one level at a time, then checks it. Node's own
 * `mkdir -p` loops forever where mkdir answers ENOENT under an existing parent (/proc, sysfs); here
 * that is an error. Throws `Refused` or the raw errno error.
 */
export const ensureDirSync = (dir: string, what: string, ctx: TrustContext): Verdict => {
  const missing: Array<string> = []
  let p = dir
  while (lstatOrUndefined(p) === undefined) {
    missing.unshift(p)
    const up = dirname(p)
    if (up === p) break
    p = up
  }
  if (missing.length > 0) {
    // Never create inside a directory someone else can swap.
    const existing = dirname(missing[0]!)
    if (existing !== missing[0]) {
      const st = statSync(existing)
      if (!st.isDirectory()) {
        const e = new Error(`ENOTDIR: not a directory, mkdir '${missing[0]}'`) as NodeJS.ErrnoException
        e.code = "ENOTDIR"
        throw e
      }
      checkAncestors(join(existing, "x"), ctx)
    }
    for (const m of missing) {
      try {
        mkdirSync(m, PRIVATE_DIR_MODE)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      }
    }
  }
  const r = checkDirSync(dir, what, ctx)
  if (r._tag === "missing") {
    const e = new Error(`ENOENT: created but not there, mkdir '${dir}'`) as NodeJS.ErrnoException
    e.code = "ENOENT"
    throw e
  }
  return r.verdict
}

/** A file read through one descriptor: its bytes and the verdict on it. */
export interface ReadResult {
  readonly data: Buffer
  readonly verdict: Verdict
}

/**
 * Reads a private file we do not follow (master key, record): `undefined` when absent; a symlink, a
 * FIFO, a device or a file another user owns or can write is `Refused` without opening or blocking.
 * A too-open own file is tightened through the descriptor it was read from.
 */
export const readPrivateSync = (path: string, what: string, ctx: TrustContext): ReadResult | undefined =>
  replaced(() => readPrivateOnce(path, what, ctx))

/** Thrown when the file lstat judged was replaced before it was opened (an atomic writer's rename). */
class Replaced extends Error {}

/** Runs a lstat-then-open read again when a concurrent atomic write replaced the file in between. */
const replaced = <A>(read: () => A): A => {
  for (let attempt = 0;; attempt++) {
    try {
      return read()
    } catch (e) {
      if (!(e instanceof Replaced) || attempt >= 4) {
        throw e instanceof Replaced
          ? new Refused(e.message, "kept changing while it was being opened", "run the command again")
          : e
      }
    }
  }
}

const readPrivateOnce = (path: string, what: string, ctx: TrustContext): ReadResult | undefined => {
  const l = lstatOrUndefined(path)
  if (l === undefined) return undefined
  if (l.isSymbolicLink()) {
    throw new Refused(
      path,
      `${what} is a symbolic link (to ${safeReadlink(path)}); olares-cli does not follow links in its token store`,
      `replace it with the file itself: cp --remove-destination "$(readlink -f ${sh(path)})" ${sh(path)}`
    )
  }
  judge(path, l, "file", what, ctx)
  return readOpened(path, l, what, ctx)
}

const safeReadlink = (path: string): string => {
  try {
    return JSON.stringify(realpathSync(path))
  } catch {
    return "a missing target"
  }
}

/** Opens (no follow, no block), checks it is the file lstat saw, judges it, tightens it, reads it. */
const readOpened = (path: string, l: Stats, what: string, ctx: TrustContext, viaSymlink = false): ReadResult => {
  let fd: number
  try {
    fd = openSync(path, READ_FLAGS)
  } catch (e) {
    // gone, or replaced by a link, since the lstat: look again
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ELOOP") throw new Replaced(path)
    throw e
  }
  try {
    const st = fstatSync(fd)
    if (st.ino !== l.ino || st.dev !== l.dev) throw new Replaced(path)
    const verdict = judge(path, st, "file", what, ctx, viaSymlink)
    tightenFd(fd, verdict, ctx)
    return { data: readFileSync(fd), verdict }
  } finally {
    closeSync(fd)
  }
}

/** Where config.json really is: itself, or the regular file a symlink (e.g. into a dotfiles repo) points at. */
export interface ConfigTarget {
  /** The file to read and to replace atomically (`path` itself unless it is a symlink). */
  readonly file: string
  readonly viaSymlink: boolean
}

/**
 * Resolves config.json: a symlink is followed to its final target, which must be a regular file of
 * ours (not writable by others) in a directory nobody else can swap; writes then go *through* the
 * link (temp + rename next to the target), so a dotfiles-managed config.json keeps working.
 */
export const configTargetSync = (path: string, ctx: TrustContext): ConfigTarget => {
  const l = lstatOrUndefined(path)
  if (l === undefined || !l.isSymbolicLink()) return { file: path, viaSymlink: false }
  let target: string
  try {
    target = realpathSync(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Refused(
        path,
        "config file is a symbolic link to a missing file",
        `create the target, or remove the link: rm ${sh(path)}`
      )
    }
    throw e
  }
  if (!isAbsolute(target)) target = resolve(dirname(path), target)
  const dirTarget = dirname(target)
  const dl = statSync(dirTarget)
  if (ctx.uid !== undefined && ((dl.uid !== 0 && dl.uid !== ctx.uid) || isSwappable(dl.mode))) {
    throw new Refused(
      path,
      `config file is a symbolic link into ${dirTarget}, which another user can change`,
      `replace the link with a copy: cp --remove-destination ${sh(target)} ${sh(path)}`
    )
  }
  checkAncestors(target, ctx)
  return { file: target, viaSymlink: true }
}

/** Reads config.json (through a trusted symlink): `undefined` when absent; FIFOs, devices and foreign files refused. */
export const readConfigSync = (path: string, ctx: TrustContext): (ReadResult & ConfigTarget) | undefined =>
  replaced(() => {
    const t = configTargetSync(path, ctx)
    const l = lstatOrUndefined(t.file)
    if (l === undefined) return undefined
    judge(t.file === path ? path : `${path} -> ${t.file}`, l, "file", "config file", ctx, t.viaSymlink)
    return { ...t, ...readOpened(t.file, l, "config file", ctx, t.viaSymlink) }
  })
