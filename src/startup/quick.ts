/**
 * The start-up quick path: `profile list`, `profile use` and `profile whoami` (from the cache) on the Linux file store, in plain
 * synchronous Node with no framework loaded, because loading Effect alone costs more than the whole
 * start-up budget (README, "Start-up"). It runs the same plain functions as the Effect programs
 * (ConfigData, TokenStatus, Blob, list/view, AtomicFile, Flock) and serves only the plainly healthy
 * case: the moment anything is off (a file mode to fix, a record that does not open, an invalid
 * config, a held lock, an unknown profile, another backend) it declines before writing anything,
 * and bin.ts runs the Effect program, which then does the fixing, waiting or explaining.
 */
import { sweepTempsSync, writeFileAtomicSync } from "../../layers/internal/AtomicFile.js"
import { selectBackend } from "../../layers/internal/Backend.js"
import { MASTER_KEY_BYTES, openBlob } from "../../layers/internal/Blob.js"
import { makeFlocker, requireKoffi } from "../../layers/internal/Flock.js"
import { liveContext, type Verdict } from "../../layers/internal/PrivatePolicy.js"
import { checkDirSync, readConfigSync, readPrivateSync } from "../../layers/internal/SafeFs.js"
import { profileRows, renderList, switchedLine } from "../commands/list/view.js"
import { whoamiDoc, whoamiText } from "../commands/whoami/view.js"
import { chooseCacheDir } from "../domain/CacheDir.js"
import {
  activeProfile,
  type ConfigData,
  decodeConfigStrict,
  displayName,
  serializeConfig,
  switchCurrent
} from "../domain/ConfigData.js"
import {
  configLockPath,
  CREDENTIALS_DIR_ENV,
  masterKeyPath,
  recordPath,
  resolvePaths,
  safeHomedir
} from "../domain/Paths.js"
import { showName, showVersion } from "../domain/Scrub.js"
import { decodeRecordStrict, recordStatus, type TokenStatus } from "../domain/TokenStatus.js"
import type { FastCommand } from "./route.js"

/** Thrown to leave the quick path; nothing has been changed when it is. */
class Decline extends Error {}

// A function declaration, so `if (...) decline()` narrows like a throw does.
function decline(): never {
  throw new Decline()
}

/** SafeFs's rules, looking only: anything it would refuse, tighten or warn about sends us to the Effect path. */
const ctx = liveContext(safeHomedir(), false)

const clean = <T extends { readonly verdict: Verdict }>(r: T | undefined): T | undefined =>
  r === undefined || r.verdict._tag === "ok" ? r : decline()

/** A private file's bytes (master key, record), when it is plainly healthy; `undefined` when absent. */
const readPrivate = (path: string) => clean(readPrivateSync(path, "file", ctx))?.data

/** Whether a directory exists, when it is plainly healthy (ours, private, nothing swappable above). */
const dirExists = (dir: string, what: string): boolean => {
  const r = checkDirSync(dir, what, ctx)
  if (r._tag === "ok" && r.verdict._tag !== "ok") decline()
  return r._tag === "ok"
}

type Paths = ReturnType<typeof resolvePaths>

/** The paths, when the file store is the backend KeyStoreLive would pick without a warning. */
const filePaths = (env: NodeJS.ProcessEnv): Paths => {
  if (process.platform === "win32") decline()
  // A platform-mounted credential is imported (maybe over the network) before any command: Effect's job.
  if ((env[CREDENTIALS_DIR_ENV] ?? "").trim() !== "") decline()
  const choice = selectBackend(env.OLARES_CLI_KEYSTORE ?? "", process.platform)
  if (choice.kind !== "file" || choice.ignored !== undefined) decline()
  const homedir = safeHomedir()
  const dirs = chooseCacheDir(
    {
      OLARES_CLI_HOME: env.OLARES_CLI_HOME,
      OLARES_CLI_CACHE_DIR: env.OLARES_CLI_CACHE_DIR,
      OLARES_CLI_DATA_DIR: env.OLARES_CLI_DATA_DIR,
      XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR
    },
    homedir
  )
  // an unwritable cache dir is warned about: the Effect path's job
  if (dirs.warning !== undefined) decline()
  return resolvePaths(dirs.env, homedir, process.platform)
}

/** config.json, decoded strictly, when ProfileRepoFile would read it without a word; missing = empty. */
const readConfig = (paths: Paths): ConfigData => {
  if (!dirExists(paths.home, "config directory")) return { profiles: [] }
  const file = clean(readConfigSync(paths.configFile, ctx))
  if (file === undefined) return { profiles: [] }
  if (file.viaSymlink) decline()
  return decodeConfigStrict(file.data.toString("utf8")) ?? decline()
}

/** Token statuses in config order, opening records exactly as KeyStoreFile would without a warning or error. */
const readStatuses = (paths: Paths, cfg: ConfigData, nowMs: number): Array<TokenStatus> => {
  let key: Buffer | undefined
  const masterKey = () => {
    if (key !== undefined) return key
    const file = readPrivate(masterKeyPath(paths.dataDir))
    if (file === undefined || file.length !== MASTER_KEY_BYTES) decline()
    return (key = file)
  }
  const storeThere = dirExists(paths.dataDir, "token store directory")
  return cfg.profiles.map((p) => {
    const managed = p.managed === true
    const blob = storeThere ? readPrivate(recordPath(paths.dataDir, p.olaresId)) : undefined
    if (blob === undefined) return managed ? "pending" : "never"
    const opened = openBlob(blob, masterKey())
    const record = opened.ok ? decodeRecordStrict(opened.text) : undefined
    return record === undefined ? decline() : recordStatus(record.accessToken, record.invalidatedAt, managed, nowMs)
  })
}

/** `profile list`: what to print. */
const list = (paths: Paths, output: "table" | "json", nowMs: number): string => {
  const cfg = readConfig(paths)
  return renderList(profileRows(cfg, readStatuses(paths, cfg, nowMs)), output)
}

/** `profile use`: switches under the config lock (the kernel's, as FileLockLive and the Go CLI); what to print. */
const use = (paths: Paths, key: string, nowMs: number): string => {
  if (!dirExists(paths.home, "config directory")) decline()
  // Required here, not at the top: `profile list` never locks and never loads the native module.
  // A lock file that cannot be opened (a symlink, a FIFO, ...) throws: FileLockLive explains it.
  const lock = makeFlocker(requireKoffi(require)).open(configLockPath(paths.locksDir), true)!
  let switched: { readonly name: string; readonly olaresId: string }
  try {
    // Held (by us or the Go CLI): the Effect path waits for it.
    if (!lock.tryLock()) decline()
    const cfg = readConfig(paths)
    const r = switchCurrent(cfg, key)
    if (r._tag !== "Switched") decline()
    const text = serializeConfig(r.config)
    // The commit point: after this write the quick path must not decline (`use -` is not idempotent).
    if (text !== serializeConfig(cfg)) writeFileAtomicSync(paths.configFile, text)
    switched = { name: displayName(r.profile), olaresId: r.profile.olaresId }
  } finally {
    // Closing the descriptor releases the lock; a signal that kills us meanwhile releases it too.
    lock.close()
  }
  sweepTempsSync(paths.home, nowMs)
  return switchedLine(switched.name, switched.olaresId)
}

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
/** An olaresId parseOlaresId accepts and returns unchanged (lower case, already `local@domain`). */
const PLAIN_ID = new RegExp(`^${LABEL}@${LABEL}(?:\\.${LABEL})*$`)
/** An auth URL override profileUrlProblem accepts: http(s), a host, maybe a port and a plain path. */
const PLAIN_OVERRIDE = /^https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~/-]*)?$/

/**
 * `profile whoami` from the cache: only when HttpAuth.current would hand out the current profile's
 * token without a word and whoami would read nothing from the server (a role cached, a live token,
 * a plain id and URLs, not platform-issued); what to print.
 */
const whoami = (paths: Paths, output: "table" | "json", nowMs: number): string => {
  const cfg = readConfig(paths)
  const p = activeProfile(cfg) ?? decline()
  if (p.managed === true || !PLAIN_ID.test(p.olaresId)) decline()
  // decodeConfigStrict has checked each field's type (ints are safe integers)
  const f = p as { localUrlPrefix?: string; authUrlOverride?: string; ownerRole?: string; whoamiRefreshedAt?: number }
  if (!/^[A-Za-z0-9.-]{0,253}$/.test(f.localUrlPrefix ?? "")) decline()
  const override = f.authUrlOverride ?? ""
  if (override !== "" && !(PLAIN_OVERRIDE.test(override) && URL.canParse(override))) decline()
  const role = f.ownerRole
  if (role === undefined || role === "") decline()
  const refreshedAt = f.whoamiRefreshedAt
  const nowSec = Math.floor(nowMs / 1000)
  // whoami -o json's schema takes integers: anything else is the Effect program's to report
  if (refreshedAt !== undefined && !(Number.isSafeInteger(refreshedAt) && Number.isSafeInteger(nowSec - refreshedAt))) {
    decline()
  }
  if (!dirExists(paths.dataDir, "token store directory")) decline()
  const blob = readPrivate(recordPath(paths.dataDir, p.olaresId)) ?? decline()
  const key = readPrivate(masterKeyPath(paths.dataDir))
  if (key === undefined || key.length !== MASTER_KEY_BYTES) decline()
  const opened = openBlob(blob, key)
  const record = opened.ok ? decodeRecordStrict(opened.text) : undefined
  // invalidated, expired (a refresh is due), unparseable: the Effect program explains or refreshes
  if (record === undefined || recordStatus(record.accessToken, record.invalidatedAt, false, nowMs) !== "logged-in") {
    decline()
  }
  const facts = {
    id: p.olaresId,
    localPart: p.olaresId.slice(0, p.olaresId.indexOf("@")),
    profileName: showName(displayName(p)),
    serverName: undefined,
    role,
    source: "cache" as const,
    refreshedAt,
    nowSec,
    previousRole: role,
    changed: false,
    shownVersion: p.backendVersion !== undefined && p.backendVersion !== "" ? showVersion(p.backendVersion) : undefined
  }
  return output === "json" ? JSON.stringify(whoamiDoc(facts), null, 2) : whoamiText(facts)
}

/**
 * Runs `cmd` (`list`, `use` or `whoami`) if it is plainly healthy: its exit code, or `undefined` when the quick path declined
 * (nothing was changed or printed) and the caller must run the Effect program instead.
 */
export const runQuick = (cmd: FastCommand, env: NodeJS.ProcessEnv = process.env): number | undefined => {
  // The one wall-clock read: there is no Effect runtime (and so no Clock) on this path; the logic
  // below takes the time as an argument like its Effect counterparts.
  if (cmd._tag !== "list" && cmd._tag !== "use" && cmd._tag !== "whoami") return undefined
  const nowMs = Date.now()
  let out: string
  try {
    const paths = filePaths(env)
    out = cmd._tag === "list"
      ? list(paths, cmd.output, nowMs)
      : cmd._tag === "use"
      ? use(paths, cmd.key, nowMs)
      : whoami(paths, cmd.output, nowMs)
  } catch {
    return undefined
  }
  // Printed only once nothing can decline any more, so the Effect program never prints it twice.
  process.stdout.write(`${out}\n`)
  return 0
}
