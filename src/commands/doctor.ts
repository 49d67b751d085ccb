/**
 * `profile doctor`: what is wrong with this machine's olares-cli set-up (token store, directories,
 * profiles, locks, auth hosts) and, for each problem, the exact command that fixes it.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Console from "effect/Console"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import { basename, dirname, join } from "node:path"
import { recordPath } from "../../layers/Blob.js"
import { type Config, type Profile } from "../domain/Config.js"
import { canonicalOlaresId } from "../domain/ConfigData.js"
import { decodeExpiry } from "../domain/Jwt.js"
import { authUrl, dataLocksDir, OlaresId } from "../domain/OlaresId.js"
import { cap, redactUrl, showName, stripControls } from "../domain/Scrub.js"
import { ProblemsFound } from "../errors.js"
import type { CommandHelp } from "../help.js"
import {
  type AuthCheckJson,
  type DoctorJson,
  DoctorJson as DoctorJsonSchema,
  type DoctorProfileJson,
  type LockCheckJson,
  type PathCheckJson,
  type ProblemJson
} from "../schemas.js"
import { AppPaths } from "../services/AppPaths.js"
import { FileLock } from "../services/FileLock.js"
import { KeyStore } from "../services/KeyStore.js"
import { ProfileRepo } from "../services/ProfileRepo.js"
import { Reachability } from "../services/Reachability.js"
import { renderJson } from "../schemas.js"
import { VERSION } from "../version.js"
import { readLookups, rowsOf } from "./listProgram.js"
import { resolveVersionFlags } from "./profileRoot.js"
import { noInput, output, versionOptions } from "./shared.js"
import { withSpinner } from "./spinner.js"
import { paint } from "./style.js"
import { renderTable } from "./table.js"

const offline = Options.boolean("offline").pipe(
  Options.withDescription("skip the auth-host checks: no network at all")
)

/** How long one auth host may take to answer. */
export const PROBE_TIMEOUT_SECONDS = 3

// ---------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------

/** Quotes a word for a POSIX shell only when it needs it, so printed fixes paste as they are. */
export const shellQuote = (s: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`)

/** Permission bits as the 4-digit octal `chmod` takes, e.g. `0700`. */
export const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, "0")

const loginFix = (id: string) => `olares-cli profile login --olares-id ${shellQuote(id)}`

/** The login command that re-creates a profile with its alias and overrides. */
const reloginWithFlags = (p: Profile | undefined, id: string) => {
  const flags: Array<string> = []
  if (p?.name !== undefined && p.name !== "" && p.name !== id) flags.push("--name", shellQuote(showName(p.name)))
  // credentials inside an old override are never printed: the user re-types them if they need them
  if (p?.authUrlOverride !== undefined && p.authUrlOverride !== "") flags.push("--auth-url-override", shellQuote(redactUrl(p.authUrlOverride)))
  if (p?.localUrlPrefix !== undefined && p.localUrlPrefix !== "") flags.push("--local-url-prefix", shellQuote(p.localUrlPrefix))
  if (p?.insecureSkipVerify === true) flags.push("--insecure-skip-verify")
  return [loginFix(id), ...flags].join(" ")
}

/** Everything `diagnose` looks at: the report minus its verdict, plus what the report does not show. */
export interface DoctorFacts {
  readonly store: DoctorJson["store"]
  readonly paths: DoctorJson["paths"]
  readonly profiles: ReadonlyArray<DoctorProfileJson>
  readonly locks: ReadonlyArray<LockCheckJson>
  /** Lock files that cannot be used at all (a symlink, a FIFO, a directory), with their fix. */
  readonly lockErrors?: ReadonlyArray<{ readonly path: string; readonly message: string; readonly fix: string }>
  /** config.json could not be read. */
  readonly configError: { readonly message: string; readonly hint: string } | undefined
  /** The profiles as stored (for fixes that must keep their alias and overrides). */
  readonly configProfiles: ReadonlyArray<Profile>
  /** The user's home directory (a home that *is* it must not be chmod-ed). */
  readonly userHome: string
  /** Why each profile's access token is unparseable, by olaresId (named in `token_unparseable`). */
  readonly tokenReasons?: Readonly<Record<string, string>>
  /** Token records in the data dir that no profile of this config home names (`olaresId` when readable). */
  readonly orphans?: ReadonlyArray<{ readonly path: string; readonly olaresId: string | undefined }>
}

const pathProblems = (
  check: PathCheckJson | null,
  what: string,
  kind: "directory" | "file",
  envVar: string | undefined,
  userHome: string
): Array<ProblemJson> => {
  if (check === null || !check.exists) return []
  const p = shellQuote(check.path)
  if (check.kind !== kind) {
    return [{
      code: "path_wrong_kind",
      severity: "error",
      subject: check.path,
      message: `${what} ${check.path} should be a ${kind} but is ${check.kind === "other" ? "something else (or cannot be inspected)" : `a ${check.kind}`}`,
      fix: `mv ${p} ${shellQuote(`${check.path}.bak`)}`
    }]
  }
  const out: Array<ProblemJson> = []
  if (check.ownedByUser === false) {
    out.push({
      code: "path_foreign_owner",
      severity: "error",
      subject: check.path,
      message: `${what} ${check.path} is owned by another user, who could have planted or changed it: olares-cli refuses to use it`,
      fix: envVar !== undefined
        ? `mkdir -m 700 -p ~/.olares-cli && export ${envVar}=~/.olares-cli`
        : `check it, then: sudo chown ${kind === "directory" ? "-R " : ""}"$(id -un)" ${p}`
    })
  }
  if (check.mode !== null && (parseInt(check.mode, 8) & 0o077) !== 0) {
    const shared = kind === "directory" &&
      ((parseInt(check.mode, 8) & 0o1000) !== 0 || check.ownedByUser === false || check.path === userHome)
    out.push({
      code: "path_insecure",
      severity: "error",
      subject: check.path,
      message: `${what} ${check.path} is mode ${check.mode}: other users can ${kind === "file" ? "read it" : "look inside"}; it should be ${check.expectedMode}` +
        (shared && envVar !== undefined ? " (it is a shared or system directory, so point the CLI at a private one instead)" : ""),
      fix: shared && envVar !== undefined
        ? `mkdir -m 700 -p ~/.olares-cli && export ${envVar}=~/.olares-cli`
        : `chmod ${check.expectedMode.replace(/^0/, "")} ${p}`
    })
  }
  if (check.writable === false) {
    out.push({
      code: "path_not_writable",
      severity: "error",
      subject: check.path,
      message: `${what} ${check.path} is not writable by this user: login, import, use and refresh cannot save anything`,
      fix: check.ownedByUser === false
        ? `sudo chown ${kind === "directory" ? "-R " : ""}"$(id -un)" ${p}`
        : `chmod u+${kind === "directory" ? "rwx" : "rw"} ${p}`
    })
  }
  return out
}

const authProblem = (p: DoctorProfileJson, profile: Profile | undefined): Array<ProblemJson> => {
  const a = p.auth
  if (!a.checked || a.reachable !== false) return []
  const curl = `curl -sS -o /dev/null -w '%{http_code}\\n' --max-time 10 ${shellQuote(`${a.url}/`)}`
  const detail = a.error ?? "no answer"
  const base = { code: "auth_unreachable", severity: "error" as const, subject: p.olaresId }
  switch (a.errorKind) {
    case "tls":
      return [{
        ...base,
        message: `the TLS certificate of ${a.url} is not trusted (${detail}); trust the CA that signed it, ` +
          `or, for a development server you control, re-create the profile with --insecure-skip-verify: ` +
          `olares-cli profile remove ${shellQuote(p.olaresId)} --yes && ${reloginWithFlags(profile, p.olaresId)} --insecure-skip-verify`,
        fix: "export NODE_EXTRA_CA_CERTS=/path/to/the-ca.pem"
      }]
    case "dns":
      return [{
        ...base,
        message: `the auth host of ${p.olaresId} does not resolve (${detail}); check the olaresId, your DNS, ` +
          `or connect to the network (LAN/VPN) that serves ${new URL(a.url).host}`,
        fix: curl
      }]
    case "refused":
      return [{ ...base, message: `nothing listens at ${a.url} (${detail}); is the server up?`, fix: curl }]
    case "timeout":
      return [{ ...base, message: `${a.url} did not answer within ${PROBE_TIMEOUT_SECONDS}s (${detail})`, fix: curl }]
    default:
      return [{ ...base, message: `${a.url} is unreachable (${detail})`, fix: curl }]
  }
}

const tokenProblems = (p: DoctorProfileJson, profile: Profile | undefined, reason: string | undefined): Array<ProblemJson> => {
  const id = p.olaresId
  // A platform-issued profile renews from the mount (its records never hold a refresh token); only
  // a rejected grant or an unreadable record is a problem, and the fix is the application's.
  if (profile?.managed === true && p.status !== "unknown") {
    const app = profile.appName ?? ""
    return p.status !== "invalidated" ? [] : [{
      code: "token_invalidated",
      severity: "error",
      subject: id,
      message: `the server rejected the platform-issued credential of ${id}`,
      fix: app === "" ? "reinstall or repair the application that requested this platform-issued credential" : `reinstall or repair application ${JSON.stringify(app)}, which requested this platform-issued credential`
    }]
  }
  switch (p.status) {
    case "pending":
      return []
    case "never":
      return [{
        code: "token_missing",
        severity: "error",
        subject: id,
        message: `no token is stored for ${id} (never logged in, or the token was removed)`,
        fix: loginFix(id)
      }]
    case "invalidated":
      return [{
        code: "token_invalidated",
        severity: "error",
        subject: id,
        message: `the server revoked the refresh token of ${id}; only a new login helps`,
        fix: loginFix(id)
      }]
    case "unknown":
      return [{
        code: "token_unreadable",
        severity: "error",
        subject: id,
        message: `the stored token of ${id} cannot be read (a corrupt record, or one encrypted with another master key); ` +
          "remove the profile and log in again (the alias and overrides are repeated in the fix)",
        fix: `olares-cli profile remove ${shellQuote(id)} --yes && ${reloginWithFlags(profile, id)}`
      }]
    case "expired":
      return p.hasRefreshToken === false
        ? [{
          code: "token_expired_no_refresh",
          severity: "error",
          subject: id,
          message: `the access token of ${id} has expired and there is no refresh token to renew it`,
          fix: loginFix(id)
        }]
        : []
    case "logged-in (unparseable token)":
      return [{
        code: "token_unparseable",
        severity: "warning",
        subject: id,
        message: `the stored access token of ${id} cannot be read as a JWT with an expiry${reason === undefined ? "" : ` (${reason})`}, ` +
          "so its expiry cannot be checked locally (the server decides)",
        fix: loginFix(id)
      }]
    case "logged-in":
      return []
  }
}

/** Every problem in the facts, in report order, each with its fix. */
export const diagnose = (f: DoctorFacts): Array<ProblemJson> => {
  const out: Array<ProblemJson> = []
  if (f.store.backend === "memory") {
    out.push({
      code: "store_memory",
      severity: "warning",
      subject: "store",
      message: "tokens are kept in process memory only (OLARES_CLI_KEYSTORE=memory): every login is forgotten when the command exits",
      fix: "unset OLARES_CLI_KEYSTORE"
    })
  }
  out.push(...pathProblems(f.paths.home, "config home", "directory", "OLARES_CLI_HOME", f.userHome))
  out.push(...pathProblems(f.paths.configFile, "config file", "file", undefined, f.userHome))
  out.push(...pathProblems(f.paths.locksDir, "locks directory", "directory", undefined, f.userHome))
  out.push(...pathProblems(f.paths.dataDir, "token store directory", "directory", undefined, f.userHome))
  out.push(...pathProblems(f.paths.masterKey, "master key", "file", undefined, f.userHome))
  if (f.configError !== undefined) {
    out.push({
      code: "config_unreadable",
      severity: "error",
      subject: f.paths.configFile.path,
      message: f.configError.message,
      fix: f.configError.hint
    })
  } else if (f.profiles.length === 0) {
    out.push({
      code: "no_profiles",
      severity: "warning",
      subject: "config",
      message: "no profile is configured yet",
      fix: "olares-cli profile login --olares-id <id>"
    })
  }
  for (const p of f.profiles) {
    const profile = f.configProfiles.find((c) => c.olaresId === p.olaresId)
    out.push(...tokenProblems(p, profile, f.tokenReasons?.[p.olaresId]), ...authProblem(p, profile))
  }
  for (const o of f.orphans ?? []) {
    out.push({
      code: "token_orphan",
      severity: "warning",
      subject: o.path,
      message: o.olaresId === undefined
        ? `the token record ${o.path} belongs to no profile in config.json and cannot be read`
        : `the token record of ${o.olaresId} belongs to no profile in config.json (left by an interrupted login, ` +
          `a lost config.json, or another config home sharing this data dir); logging in replaces it, ` +
          `\`olares-cli profile remove ${shellQuote(o.olaresId)}\` deletes it`,
      fix: o.olaresId === undefined ? `rm ${shellQuote(o.path)}` : loginFix(o.olaresId)
    })
  }
  for (const l of f.locks) {
    if (!l.stale) continue
    out.push({
      code: "lock_stale",
      severity: "warning",
      subject: l.path,
      message: `${l.path}.lock is a lock directory left by an older olares-cli-ts (before it used the kernel's ` +
        "file lock, as the Go CLI does); nothing uses it any more, and the next lock of this file removes it " +
        "once it is older than 5 s",
      fix: `rm -rf ${shellQuote(`${l.path}.lock`)}`
    })
  }
  for (const e of f.lockErrors ?? []) {
    out.push({ code: "lock_unusable", severity: "error", subject: e.path, message: e.message, fix: e.fix })
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Gathering facts
// ---------------------------------------------------------------------------------------------

const posix = process.platform !== "win32"

const currentUid = (): number | undefined => (posix && typeof process.getuid === "function" ? process.getuid() : undefined)

/** stat + access of one path; a missing path is `exists: false`, never an error. */
const inspectPath = (fs: FileSystem.FileSystem, path: string, expectedMode: number): Effect.Effect<PathCheckJson> => {
  const missing: PathCheckJson = {
    path,
    exists: false,
    kind: null,
    mode: null,
    expectedMode: octal(expectedMode),
    writable: null,
    ownedByUser: null
  }
  return fs.stat(path).pipe(
    Effect.flatMap((info) =>
      Effect.map(
        fs.access(path, { writable: true }).pipe(Effect.as(true), Effect.orElseSucceed(() => false)),
        (writable): PathCheckJson => {
          const uid = currentUid()
          return {
            path,
            exists: true,
            kind: info.type === "Directory" ? "directory" : info.type === "File" ? "file" : "other",
            mode: posix ? octal(info.mode) : null,
            expectedMode: octal(expectedMode),
            writable,
            ownedByUser: uid !== undefined && Option.isSome(info.uid) ? info.uid.value === uid : null
          }
        }
      )
    ),
    Effect.catchAll((e) =>
      Effect.succeed(
        e._tag === "SystemError" && e.reason === "NotFound"
          ? missing
          : { ...missing, exists: true, kind: "other" as const, writable: false }
      )
    )
  )
}

/**
 * The lock files under `dir` and whether any process holds each right now (`FileLock.isLocked`: a
 * `LOCK_NB` probe, so the Go CLI's holds count too), plus `<file>.lock` directories older versions of
 * this CLI left, and lock files that cannot be used at all.
 */
const inspectLocks = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const locks = yield* FileLock
    const names = yield* fs.readDirectory(dir).pipe(Effect.orElseSucceed((): Array<string> => []))
    // lstat-like: a symlink named like a lock file is reported, never followed
    const types = yield* Effect.forEach(names, (name) =>
      Effect.tryPromise(() => Fs.lstat(join(dir, name))).pipe(
        Effect.map((st) => [name, st.isDirectory() ? "Directory" : "Other"] as const),
        Effect.orElseSucceed(() => [name, "Other"] as const)
      ))
    const legacyDirs = new Set(types.filter(([n, t]) => t === "Directory" && n.endsWith(".lock.lock")).map(([n]) => n))
    const bases = new Set<string>()
    for (const [name] of types) {
      if (legacyDirs.has(name)) bases.add(name.slice(0, -".lock".length))
      else if (name.endsWith(".lock")) bases.add(name)
    }
    const checks: Array<LockCheckJson> = []
    const errors: Array<{ path: string; message: string; fix: string }> = []
    for (const name of [...bases].sort()) {
      const path = join(dir, name)
      const held = yield* Effect.either(locks.isLocked(path))
      if (Either.isLeft(held)) errors.push({ path, message: held.left.message, fix: held.left.hint })
      checks.push({ name, path, held: Either.getOrElse(held, () => false), stale: legacyDirs.has(`${name}.lock`) })
    }
    return { checks, errors }
  })

// "No credential is sent": not even one an old config kept inside its override URL.
const withoutUserinfo = (url: string): string => {
  try {
    const u = new URL(url)
    if (u.username === "" && u.password === "") return url
    u.username = ""
    u.password = ""
    return u.toString().replace(/\/+$/, "")
  } catch {
    return url
  }
}
/**
 * `.enc` records in the data dir that no configured profile names, with the olaresId stored inside
 * when the record opens (a record's file name is the olaresId sanitised, so the stem reads it back).
 */
const findOrphans = (dataDir: string, cfg: Config) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const ks = yield* KeyStore
    const known = new Set(cfg.profiles.filter((p) => p.olaresId !== "").map((p) => recordPath(dataDir, p.olaresId)))
    const names = yield* fs.readDirectory(dataDir).pipe(Effect.orElseSucceed((): Array<string> => []))
    const strays = names.filter((n) => n.endsWith(".enc") && !n.startsWith(".")).map((n) => join(dataDir, n))
      .filter((p) => !known.has(p)).sort()
    return yield* Effect.forEach(strays, (path) =>
      ks.get(basename(path, ".enc")).pipe(
        Effect.map((t) => ({ path, olaresId: Option.isSome(t) && t.value.olaresId !== "" ? t.value.olaresId : undefined })),
        Effect.orElseSucceed(() => ({ path, olaresId: undefined }))
      ))
  })

/** Probes every profile's auth base with a plain HEAD (no credentials), concurrently. */
const probeAll = (profiles: ReadonlyArray<Profile>) =>
  Effect.gen(function*() {
    const reach = yield* Reachability
    return yield* Effect.forEach(
      profiles,
      (p) =>
        reach.probe(`${withoutUserinfo(authUrl(OlaresId.make(canonicalOlaresId(p.olaresId)), p))}/`, {
          insecureSkipVerify: p.insecureSkipVerify === true,
          timeout: `${PROBE_TIMEOUT_SECONDS} seconds`
        }),
      { concurrency: 8 }
    )
  })

/** Loads the HTTP stack only when doctor really probes. */
const withReachability = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(
    Effect.promise(() => import("../../layers/ReachabilityLive.js")),
    (m) => Effect.provide(effect, m.ReachabilityLive)
  )

const authCheck = (p: Profile): AuthCheckJson => ({
  // an old config may hold credentials in its override (https://user:pass@host): shown as https://***@host
  url: cap(stripControls(redactUrl(authUrl(OlaresId.make(canonicalOlaresId(p.olaresId)), p))), 512, "…"),
  source: p.authUrlOverride !== undefined && p.authUrlOverride !== "" ? "override" : "derived",
  insecureSkipVerify: p.insecureSkipVerify === true,
  checked: false,
  reachable: null,
  httpStatus: null,
  errorKind: null,
  error: null,
  elapsedMs: null
})

const safeHomedir = () => {
  try {
    return Os.homedir()
  } catch {
    return ""
  }
}

/** Collects the facts and derives the report. */
export const runDoctor = (opts: { readonly offline: boolean }) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* AppPaths
    const ks = yield* KeyStore
    const store = yield* ks.describe
    const onDisk = store.location.startsWith(paths.dataDir)
    const masterKeyFile = store.backend === "file"
      ? join(paths.dataDir, "master.key")
      : store.backend === "file-fallback"
      ? join(paths.dataDir, "master.key.file")
      : undefined
    const loaded = yield* Effect.either(Effect.flatMap(ProfileRepo, (r) => r.load))
    const cfg: Config = Either.isRight(loaded) ? loaded.right : { profiles: [] }
    // One read of each record serves both the status and the refresh-token check.
    const lookups = yield* readLookups(cfg)
    const rows = rowsOf(cfg, lookups, yield* Clock.currentTimeMillis)
    const hasRefresh = lookups.map((l) => (l._tag === "Found" ? l.token.refreshToken !== undefined : null))
    const tokenReasons: Record<string, string> = {}
    lookups.forEach((l, i) => {
      if (l._tag !== "Found") return
      const e = decodeExpiry(Redacted.value(l.token.accessToken))
      if (e._tag === "Unparseable") tokenReasons[rows[i]!.olaresId] = e.reason
    })
    // Inspected after every read: the repo and the token store tighten too-open modes themselves
    // (with a warning), and the report should show the state they left.
    const pathChecks: DoctorJson["paths"] = {
      home: yield* inspectPath(fs, paths.home, 0o700),
      configFile: yield* inspectPath(fs, paths.configFile, 0o600),
      locksDir: yield* inspectPath(fs, paths.locksDir, 0o700),
      dataDir: onDisk ? yield* inspectPath(fs, paths.dataDir, 0o700) : null,
      masterKey: onDisk && masterKeyFile !== undefined ? yield* inspectPath(fs, masterKeyFile, 0o600) : null
    }
    let auth = cfg.profiles.map(authCheck)
    if (!opts.offline && cfg.profiles.length > 0) {
      const results = yield* withReachability(probeAll(cfg.profiles)).pipe(
        withSpinner(`checking ${cfg.profiles.length === 1 ? "the auth host" : `${cfg.profiles.length} auth hosts`}...`)
      )
      auth = auth.map((a, i): AuthCheckJson => {
        const r = results[i]!
        return r._tag === "Answered"
          ? { ...a, checked: true, reachable: true, httpStatus: r.status, elapsedMs: r.elapsedMs }
          : { ...a, checked: true, reachable: false, errorKind: r.kind, error: r.detail, elapsedMs: r.elapsedMs }
      })
    }
    const profiles = rows.map((row, i): DoctorProfileJson => ({ ...row, hasRefreshToken: hasRefresh[i] ?? null, auth: auth[i]! }))
    // The config home's locks (the Go CLI's), then those beside the records (shared by every home).
    const inspected = [yield* inspectLocks(paths.locksDir), yield* inspectLocks(dataLocksDir(paths.dataDir))]
    const locks = inspected.flatMap((i) => i.checks)
    const orphans = onDisk && Either.isRight(loaded) ? yield* findOrphans(paths.dataDir, cfg) : []
    const facts: DoctorFacts = {
      store,
      paths: pathChecks,
      profiles,
      locks,
      lockErrors: inspected.flatMap((i) => i.errors),
      configError: Either.isLeft(loaded) ? { message: loaded.left.message, hint: loaded.left.recovery } : undefined,
      configProfiles: cfg.profiles,
      userHome: safeHomedir(),
      tokenReasons,
      orphans
    }
    // Problem texts quote config values (names, overrides): one last pass for whatever a hand edit left in them.
    const problems = diagnose(facts).map((p): ProblemJson => ({
      ...p,
      subject: cap(stripControls(p.subject), 512, "…"),
      message: cap(stripControls(p.message), 2048, "…"),
      fix: cap(stripControls(p.fix), 2048, "…")
    }))
    const doc: DoctorJson = {
      healthy: problems.every((p) => p.severity !== "error"),
      cliVersion: VERSION,
      store,
      paths: pathChecks,
      profiles,
      locks,
      problems
    }
    return doc
  })

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

const pathState = (c: PathCheckJson) =>
  !c.exists
    ? "missing (created when first needed)"
    : c.kind === "other"
    ? paint("31", "cannot inspect")
    : c.writable === false
    ? paint("31", "not writable")
    : c.mode !== null && (parseInt(c.mode, 8) & 0o077) !== 0
    ? paint("31", "too open")
    : paint("32", "ok")

const authState = (a: AuthCheckJson) =>
  !a.checked
    ? "not checked (--offline)"
    : a.reachable === true
    ? `answers (HTTP ${a.httpStatus} in ${a.elapsedMs} ms)`
    : paint("31", `unreachable: ${a.errorKind}`)

/** The human report. */
export const renderDoctor = (doc: DoctorJson): string => {
  const lines: Array<string> = []
  const section = (title: string) => lines.push("", paint("1", title))
  lines.push(paint("1", "token store"))
  lines.push(
    ...renderTable([["  backend", doc.store.backend], ["  location", doc.store.location], ["  why", doc.store.reason]]).split("\n")
  )
  section("paths")
  const pathRows: Array<[string, PathCheckJson | null]> = [
    ["config home", doc.paths.home],
    ["config.json", doc.paths.configFile],
    ["locks", doc.paths.locksDir],
    ["token store", doc.paths.dataDir],
    ["master key", doc.paths.masterKey]
  ]
  lines.push(
    ...renderTable(
      pathRows.flatMap(([label, c]) =>
        c === null ? [] : [[`  ${label}`, c.path, c.mode ?? "-", `want ${c.expectedMode}`, pathState(c)]]
      )
    ).split("\n")
  )
  section("profiles")
  if (doc.profiles.length === 0) lines.push("  none configured")
  else {
    lines.push(
      ...renderTable([
        ["    ", "NAME", "OLARES-ID", "STATUS", "AUTH URL", "AUTH HOST"],
        ...doc.profiles.map((p) => [
          p.current ? "  * " : "    ",
          p.name,
          p.olaresId,
          p.status === "expired" && p.hasRefreshToken === true ? "expired (renewed on next use)" : p.status,
          `${p.auth.url} (${p.auth.source})`,
          authState(p.auth)
        ])
      ]).split("\n")
    )
  }
  section("locks")
  if (doc.locks.length === 0) lines.push("  none")
  else {
    lines.push(
      ...renderTable(doc.locks.map((l) => [
        `  ${l.name}${dirname(l.path) === doc.paths.locksDir.path ? "" : " (beside the records)"}`,
        l.held
          ? "held by a running process (this CLI or the Go olares-cli): leave it alone"
          : l.stale
          ? paint("33", "free; an older olares-cli-ts left its lock directory")
          : "free"
      ])).split("\n")
    )
  }
  section("problems")
  if (doc.problems.length === 0) lines.push(`  ${paint("32", "none")}`)
  for (const p of doc.problems) {
    const mark = p.severity === "error" ? paint("31", "✗") : paint("33", "!")
    lines.push(`  ${mark} ${p.subject}: ${p.message}`, `      fix: ${p.fix}`)
  }
  const errors = doc.problems.filter((p) => p.severity === "error").length
  const warnings = doc.problems.length - errors
  lines.push(
    "",
    errors === 0 && warnings === 0
      ? paint("32", "no problems found")
      : `${errors} problem${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}` +
        (errors === 0 ? " (warnings do not fail the check)" : "")
  )
  return lines.join("\n")
}

/** The command. */
export const doctor = Command.make("doctor", { output, offline, ...versionOptions, noInput }, (opts) =>
  Effect.gen(function*() {
    yield* resolveVersionFlags(opts)
    const doc = yield* runDoctor(opts)
    yield* Console.log(opts.output === "json" ? yield* renderJson(DoctorJsonSchema, doc) : renderDoctor(doc))
    const errors = doc.problems.filter((p) => p.severity === "error").length
    if (errors > 0) return yield* Effect.fail(new ProblemsFound({ errors, warnings: doc.problems.length - errors }))
  })).pipe(
    Command.withDescription(
      "Check this machine's set-up: the token store in use and why, the config and data directories " +
        "(permissions, writability), each profile's token state, lock files, and whether each auth host " +
        "answers (a plain HEAD, no credentials, 3 s timeout). Prints the exact command that fixes each " +
        "problem. Exit 0 when healthy (warnings allowed), 1 when a problem was found."
    )
  )

/** Help beyond the parser's: summary and examples. */
export const doctorHelp: CommandHelp = {
  summary: "Check this machine's set-up and print the fix for each problem",
  examples: [
    { command: "olares-cli profile doctor" },
    { comment: "only the fixes, for a script", command: "olares-cli profile doctor -o json | jq '.problems[].fix'" },
    { comment: "no network at all", command: "olares-cli profile doctor --offline" }
  ]
}
