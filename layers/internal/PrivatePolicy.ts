/**
 * The private-file policy, in one place (plain functions, no Effect, so the start-up quick path
 * shares it): which modes the CLI's files and directories get, what is refused (another user's path,
 * one others can write, the wrong kind), what is tightened (our own real path that others can only
 * read: the group/other bits are dropped, the owner's stay) and what is only warned about (a path
 * reached through a symlink, the user's home). SafeFs applies it on disk; `profile doctor` and the
 * quick path read the same rules from here.
 */
import type { Stats } from "node:fs"
import { resolve } from "node:path"
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../../src/domain/Paths.js"

const posix = process.platform !== "win32"

/** A path the CLI will not use, why, and the exact command that makes it usable. */
export class Refused extends Error {
  constructor(readonly path: string, readonly detail: string, readonly fix: string) {
    super(`${path}: ${detail}`)
  }
}

/** What the trust rules are relative to. */
export interface TrustContext {
  /** Our uid; `undefined` where there are no uids (Windows: no checks). */
  readonly uid: number | undefined
  /** The user's home directory (never tightened: chmod-ing it could break other things). */
  readonly userHome: string
  /** Whether a "tighten" verdict is carried out (the quick path only looks, then declines). */
  readonly fix: boolean
}

/** The live context. */
export const liveContext = (userHome: string, fix = true): TrustContext => ({
  uid: posix && typeof process.getuid === "function" ? process.getuid() : undefined,
  userHome,
  fix
})

/** Shell-quotes a path for a printed fix when it needs it. */
export const sh = (s: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`)

/** A mode as `0755` (special bits kept: `02750`). */
export const modeText = (mode: number): string => `0${(mode & 0o7777).toString(8).padStart(3, "0")}`

/** The kind of path a check expects. */
export type Kind = "file" | "directory"

/** The mode a private path of this kind is created with (and the `chmod` a fix prints). */
export const wantMode = (kind: Kind): number => (kind === "directory" ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE)

/** Group or others may read, write or enter it: not private (what is tightened or warned about). */
export const isOpenToOthers = (mode: number): boolean => (mode & 0o077) !== 0

/** Group or others may write it: it may have been changed, so it is refused, never tightened. */
export const isWritableByOthers = (mode: number): boolean => (mode & 0o022) !== 0

/** A directory above ours that others can write without the sticky bit (unlike /tmp): they could swap ours. */
export const isSwappable = (mode: number): boolean => isWritableByOthers(mode) && (mode & 0o1000) === 0

/** What tightening leaves: the owner's own bits, nothing for group/others (access is only ever taken away). */
export const tightenedMode = (mode: number): number => mode & 0o700

/** What a path is, in words, for "is a FIFO, not a regular file". */
export const kindOf = (st: Stats): string =>
  st.isFile()
    ? "a regular file"
    : st.isDirectory()
    ? "a directory"
    : st.isSymbolicLink()
    ? "a symbolic link"
    : st.isFIFO()
    ? "a FIFO (named pipe)"
    : st.isSocket()
    ? "a socket"
    : st.isCharacterDevice() || st.isBlockDevice()
    ? "a device"
    : "not a regular file"

/** What a check decided about an existing path that is not refused. */
export type Verdict =
  | { readonly _tag: "ok" }
  /** Our own real path, only readable by others: drop the group/other bits, giving `want` (with a warning). */
  | { readonly _tag: "tighten"; readonly from: number; readonly want: number }
  /** Readable by others but not ours to chmod (a symlink target, the user's home): warn only. */
  | { readonly _tag: "warn"; readonly message: string }

const OK: Verdict = { _tag: "ok" }

/**
 * The rules for one path we use directly, from its stat (of the target when `viaSymlink`); throws
 * `Refused` for a path owned by another user, writable by group/others, or of the wrong kind.
 */
export const judge = (
  path: string,
  st: Stats,
  kind: Kind,
  what: string,
  ctx: TrustContext,
  viaSymlink = false
): Verdict => {
  const isKind = kind === "directory" ? st.isDirectory() : st.isFile()
  if (!isKind) {
    throw new Refused(
      path,
      `${what} is ${kindOf(st)}, not ${kind === "directory" ? "a directory" : "a regular file"}`,
      `mv ${sh(path)} ${sh(`${path}.bak`)}`
    )
  }
  if (ctx.uid === undefined) return OK
  const mode = st.mode & 0o7777
  const want = wantMode(kind)
  if (st.uid !== ctx.uid) {
    throw new Refused(
      path,
      `${what} is owned by uid ${st.uid}, not by you (uid ${ctx.uid}): another user could have planted or changed it`,
      kind === "directory"
        ? `point the CLI at a directory of your own (e.g. mkdir -m 700 -p ~/.olares-cli-private), or, if it is yours, check it and run: sudo chown -R "$(id -un)" ${
          sh(path)
        } && chmod ${want.toString(8)} ${sh(path)}`
        : `if it is yours, check its content and run: sudo chown "$(id -un)" ${sh(path)} && chmod ${want.toString(8)} ${
          sh(path)
        }; otherwise move it aside: sudo mv ${sh(path)} ${sh(`${path}.untrusted`)}`
    )
  }
  if (isWritableByOthers(mode)) {
    throw new Refused(
      path,
      `${what} is mode ${modeText(mode)}: other users can write it, so it may have been changed`,
      `check it, then run: chmod ${want.toString(8)} ${sh(path)}`
    )
  }
  if (!isOpenToOthers(mode)) return OK
  if (viaSymlink || (kind === "directory" && resolve(path) === resolve(ctx.userHome))) {
    return {
      _tag: "warn",
      message: `${what} ${path} is mode ${modeText(mode)}, readable by other users; leaving it as is` +
        (viaSymlink ? " (it is reached through a symbolic link)" : "") + `: run chmod ${want.toString(8)} ${sh(path)}`
    }
  }
  return { _tag: "tighten", from: mode, want: tightenedMode(mode) }
}

/**
 * Which store's words a verdict's warning uses. `data`: the token store (data dir, master key,
 * records): `fixed permissions of <path> from 0750 to 0700`. `config`: the config home and
 * config.json: `<what> <path> was mode 0750, open to other users; changed to 0700`, and a warn-only
 * verdict points at OLARES_CLI_HOME. Both are the same rule; only the wording differs, as it always has.
 */
export type WarningStyle = "data" | "config"

// The two wordings print modes slightly differently (unpadded; without the special bits), kept as they were.
const configMode = (mode: number) => `0${(mode & 0o7777).toString(8)}`
const dataMode = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, "0")}`

/** The warning line for a verdict (`undefined` for `ok`); layers log it, they never print. */
export const verdictWarning = (style: WarningStyle, path: string, what: string, v: Verdict): string | undefined => {
  if (v._tag === "ok") return undefined
  if (v._tag === "warn") {
    return style === "config"
      ? `${v.message} (or set OLARES_CLI_HOME to a private directory)`
      : v.message
  }
  return style === "config"
    ? `${what} ${path} was mode ${configMode(v.from)}, open to other users; changed to ${configMode(v.want)}`
    : `fixed permissions of ${path} from ${dataMode(v.from)} to ${dataMode(v.want)}`
}
