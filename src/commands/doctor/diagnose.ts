/**
 * `profile doctor`'s verdict as pure functions: every problem the gathered facts show, in report
 * order, each with the exact command that fixes it, and the report built from them.
 */
import type { Profile } from "../../domain/ProfileConfig.js"
import { cap, redactUrl, showName, stripControls } from "../../domain/Scrub.js"
import type { DoctorJson, DoctorProfileJson, LockCheckJson, PathCheckJson, ProblemJson } from "../../schemas.js"
import { VERSION } from "../../version.js"

/** How long one auth host may take to answer. */
export const PROBE_TIMEOUT_SECONDS = 3

/** Quotes a word for a POSIX shell only when it needs it, so printed fixes paste as they are. */
export const shellQuote = (
  s: string
): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`)

/** Permission bits as the 4-digit octal `chmod` takes, e.g. `0700`. */
export const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, "0")

const loginFix = (id: string) => `olares-cli profile login --olares-id ${shellQuote(id)}`

/** The login command that re-creates a profile with its alias and overrides. */
const reloginWithFlags = (p: Profile | undefined, id: string) => {
  const flags: Array<string> = []
  if (p?.name !== undefined && p.name !== "" && p.name !== id) flags.push("--name", shellQuote(showName(p.name)))
  // credentials inside an old override are never printed: the user re-types them if they need them
  if (p?.authUrlOverride !== undefined && p.authUrlOverride !== "") {
    flags.push("--auth-url-override", shellQuote(redactUrl(p.authUrlOverride)))
  }
  if (p?.localUrlPrefix !== undefined && p.localUrlPrefix !== "") {
    flags.push("--local-url-prefix", shellQuote(p.localUrlPrefix))
  }
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
      message: `${what} ${check.path} should be a ${kind} but is ${
        check.kind === "other" ? "something else (or cannot be inspected)" : `a ${check.kind}`
      }`,
      fix: `mv ${p} ${shellQuote(`${check.path}.bak`)}`
    }]
  }
  const out: Array<ProblemJson> = []
  if (check.ownedByUser === false) {
    out.push({
      code: "path_foreign_owner",
      severity: "error",
      subject: check.path,
      message:
        `${what} ${check.path} is owned by another user, who could have planted or changed it: olares-cli refuses to use it`,
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
      message:
        `${what} ${check.path} is mode ${check.mode}: other users can ${
          kind === "file" ? "read it" : "look inside"
        }; it should be ${check.expectedMode}` +
        (shared && envVar !== undefined
          ? " (it is a shared or system directory, so point the CLI at a private one instead)"
          : ""),
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
      message:
        `${what} ${check.path} is not writable by this user: login, import, use and refresh cannot save anything`,
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
          `olares-cli profile remove ${shellQuote(p.olaresId)} --yes && ${
            reloginWithFlags(profile, p.olaresId)
          } --insecure-skip-verify`,
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

const tokenProblems = (
  p: DoctorProfileJson,
  profile: Profile | undefined,
  reason: string | undefined
): Array<ProblemJson> => {
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
      fix: app === ""
        ? "reinstall or repair the application that requested this platform-issued credential"
        : `reinstall or repair application ${JSON.stringify(app)}, which requested this platform-issued credential`
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
        message:
          `the stored token of ${id} cannot be read (a corrupt record, or one encrypted with another master key); ` +
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
        message:
          `the stored access token of ${id} cannot be read as a JWT with an expiry${
            reason === undefined ? "" : ` (${reason})`
          }, ` +
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
      message:
        "tokens are kept in process memory only (OLARES_CLI_KEYSTORE=memory): every login is forgotten when the command exits",
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

/** Problem texts quote config values (names, overrides): one last pass for whatever a hand edit left in them. */
const scrub = (p: ProblemJson): ProblemJson => ({
  ...p,
  subject: cap(stripControls(p.subject), 512, "…"),
  message: cap(stripControls(p.message), 2048, "…"),
  fix: cap(stripControls(p.fix), 2048, "…")
})

/** The report: the facts it shows, every problem (scrubbed), healthy when none is an error. */
export const report = (f: DoctorFacts): DoctorJson => {
  const problems = diagnose(f).map(scrub)
  return {
    healthy: problems.every((p) => p.severity !== "error"),
    cliVersion: VERSION,
    store: f.store,
    paths: f.paths,
    profiles: f.profiles,
    locks: f.locks,
    problems
  }
}
