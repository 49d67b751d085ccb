/**
 * `profile doctor`'s facts, gathered through ports: the token store, the paths (stat + access), each
 * profile's token and auth host, the locks (`LockInspector`) and the records no profile names
 * (`TokenRecords`). Nothing here decides what is a problem (diagnose.ts does).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Os from "node:os"
import { join } from "node:path"
import { canonicalOlaresId } from "../../domain/ConfigData.js"
import { decodeExpiry } from "../../domain/Jwt.js"
import { authUrl, OlaresId } from "../../domain/OlaresId.js"
import { dataLocksDir } from "../../domain/Paths.js"
import { type Profile, type ProfileConfig } from "../../domain/ProfileConfig.js"
import { cap, redactUrl, stripControls } from "../../domain/Scrub.js"
import type { AuthCheckJson, DoctorJson, DoctorProfileJson, LockCheckJson, PathCheckJson } from "../../schemas.js"
import { AppPaths } from "../../services/AppPaths.js"
import { KeyStore } from "../../services/KeyStore.js"
import { LockInspector } from "../../services/LockInspector.js"
import { ProfileRepo } from "../../services/ProfileRepo.js"
import { Reachability } from "../../services/Reachability.js"
import { TokenRecords } from "../../services/TokenRecords.js"
import { readLookups, rowsOf } from "../list/program.js"
import { withSpinner } from "../spinner.js"
import { type DoctorFacts, octal, PROBE_TIMEOUT_SECONDS } from "./diagnose.js"

const posix = process.platform !== "win32"

const currentUid = ():
  | number
  | undefined => (posix && typeof process.getuid === "function" ? process.getuid() : undefined)

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

/** The lock files of `dir` as the report lists them, and those that cannot be used, with their fix. */
const inspectLocks = (dir: string) =>
  Effect.map(Effect.flatMap(LockInspector, (l) => l.inspect(dir)), ({ locks, unusable }) => ({
    checks: locks.map(({ held, legacyDir, name, path }): LockCheckJson => ({ name, path, held, stale: legacyDir })),
    errors: unusable.map((u) => ({ path: u.path, message: u.message, fix: u.hint }))
  }))

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
/** Token records no configured profile names, with the olaresId stored inside when the record opens. */
const findOrphans = (cfg: ProfileConfig) =>
  Effect.gen(function*() {
    const ks = yield* KeyStore
    const strays = yield* Effect.flatMap(TokenRecords, (r) => r.unclaimed(cfg.profiles.map((p) => p.olaresId)))
    return yield* Effect.forEach(strays, ({ account, path }) =>
      ks.get(account).pipe(
        Effect.map((t) => ({
          path,
          olaresId: Option.isSome(t) && t.value.olaresId !== "" ? t.value.olaresId : undefined
        })),
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

/** Collects the facts; the probes run unless `offline` (the `Reachability` given loads the HTTP stack only then). */
export const gatherFacts = (opts: { readonly offline: boolean }) =>
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
    const cfg: ProfileConfig = Either.isRight(loaded) ? loaded.right : { profiles: [] }
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
      const results = yield* probeAll(cfg.profiles).pipe(
        withSpinner(`checking ${cfg.profiles.length === 1 ? "the auth host" : `${cfg.profiles.length} auth hosts`}...`)
      )
      auth = auth.map((a, i): AuthCheckJson => {
        const r = results[i]!
        return r._tag === "Answered"
          ? { ...a, checked: true, reachable: true, httpStatus: r.status, elapsedMs: r.elapsedMs }
          : { ...a, checked: true, reachable: false, errorKind: r.kind, error: r.detail, elapsedMs: r.elapsedMs }
      })
    }
    const profiles = rows.map((row, i): DoctorProfileJson => ({
      ...row,
      hasRefreshToken: hasRefresh[i] ?? null,
      auth: auth[i]!
    }))
    // The config home's locks (the Go CLI's), then those beside the records (shared by every home).
    const inspected = [yield* inspectLocks(paths.locksDir), yield* inspectLocks(dataLocksDir(paths.dataDir))]
    const locks = inspected.flatMap((i) => i.checks)
    const orphans = onDisk && Either.isRight(loaded) ? yield* findOrphans(cfg) : []
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
    return facts
  })
