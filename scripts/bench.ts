/**
 * `npm run bench`: what single-flight refresh and the authenticated transport cost, each measured
 * against a baseline in the same run, printed as one markdown table.
 *
 * - start-up: every command the start-up tiers serve (`profile list` / `use` / `whoami` / `remove`
 *   / `doctor --offline`, `api` GET, `--help`) vs a hand-written plain Node script doing the same
 *   (scripts/plain-*.cjs), wall time, CPU time and peak memory;
 * - refresh storm: 32 concurrent `olares-cli api` processes on one stale profile (one refresh) vs the
 *   same 32 processes on a fresh profile (no refresh);
 * - transport: 1,000 GETs through HttpAuth (file key store, seeded profile) vs the same GETs through
 *   the bare @effect/platform client with the three auth headers set by hand.
 *
 * The loopback server runs in its own process (test/support/dev-server.ts) so the in-process
 * section measures the client, not the server. Each section is one function returning table rows;
 * add a section by writing another and listing it in `SECTIONS`.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { resolve } from "node:path"
import { performance } from "node:perf_hooks"
import type { Readable } from "node:stream"
import { AppPathsLive } from "../layers/AppPathsLive.js"
import { FileLockLive } from "../layers/FileLockLive.js"
import { KeyStoreFile } from "../layers/KeyStoreFile.js"
import { NetworkLive } from "../layers/NetworkLive.js"
import { ProfileRepoFile } from "../layers/ProfileRepoFile.js"
import { HttpAuth } from "../src/services/HttpAuth.js"
import { HttpClients } from "../src/services/HttpClients.js"
import { KeyStore } from "../src/services/KeyStore.js"
import { makeTempHome, runCli, type TempHome } from "../test/support/cli.js"
import { seedProfile } from "../test/support/seed.js"

const ROOT = resolve(import.meta.dirname, "..")
const ID = "alice@olares.com"

/** One line of the result table: a measurement next to its baseline. */
interface Row {
  readonly section: string
  readonly measured: string
  readonly measuredMs: ReadonlyArray<number>
  readonly baseline: string
  readonly baselineMs: ReadonlyArray<number>
  readonly note: string
}

// ---------------------------------------------------------------------------------------------
// The loopback server, in a child process, driven through its admin API
// ---------------------------------------------------------------------------------------------

interface Grant {
  readonly accessToken: string
  readonly refreshToken: string
  readonly sessionId: string
}

interface Server {
  readonly url: string
  readonly grant: (ttlSeconds: number) => Promise<Grant>
  readonly hits: (path: string) => Promise<number>
  readonly stop: () => void
}

const startServer = async (): Promise<Server> => {
  const child = spawn(process.execPath, ["--import", "tsx", "test/support/dev-server.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", PORT: "0" },
    stdio: ["ignore", "pipe", "inherit"]
  })
  const url = await new Promise<string>((ok, fail) => {
    let out = ""
    const timer = setTimeout(() => fail(new Error("the test server did not start within 20 s")), 20_000)
    child.on("exit", (code) => fail(new Error(`the test server exited early (${code})`)))
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d
      const m = /listening on (http\S+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        ok(m[1]!)
      }
    })
  })
  child.stdout.resume()
  const admin = async (path: string, body?: unknown) => {
    const res = await fetch(
      `${url}/__admin/${path}`,
      body === undefined ? {} : {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body)
      }
    )
    if (!res.ok) throw new Error(`admin ${path}: HTTP ${res.status}`)
    return res.json() as Promise<Record<string, unknown>>
  }
  return {
    url,
    grant: async (ttlSeconds) => (await admin("grants", { username: "alice", ttlSeconds })) as unknown as Grant,
    hits: async (path) => ((await admin("stats")).hits as Record<string, number>)[path] ?? 0,
    stop: () => {
      child.kill("SIGTERM")
    }
  }
}

/** A temp home whose current profile is alice on `server`, with a fresh grant (negative TTL = stale). */
const seededHome = async (server: Server, ttlSeconds: number, homes: Array<TempHome>): Promise<TempHome> => {
  const home = makeTempHome()
  homes.push(home)
  const g = await server.grant(ttlSeconds)
  await seedProfile(home, {
    olaresId: ID,
    accessToken: g.accessToken,
    refreshToken: g.refreshToken,
    sessionId: g.sessionId,
    authUrlOverride: server.url
  })
  return home
}

// ---------------------------------------------------------------------------------------------
// Statistics and output
// ---------------------------------------------------------------------------------------------

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1))

const spread = (xs: ReadonlyArray<number>) => `${ms(median(xs))} (${ms(Math.min(...xs))}-${ms(Math.max(...xs))})`

const table = (rows: ReadonlyArray<Row>): string => {
  const lines = [
    "| section | measured | median ms (min-max) | baseline | median ms (min-max) | ratio | notes |",
    "|---|---|---:|---|---:|---:|---|"
  ]
  for (const r of rows) {
    const ratio = median(r.measuredMs) / median(r.baselineMs)
    lines.push(
      `| ${r.section} | ${r.measured} | ${spread(r.measuredMs)} | ${r.baseline} | ${spread(r.baselineMs)} | ${
        ratio.toFixed(2)
      }x | ${r.note} |`
    )
  }
  return lines.join("\n")
}

const timed = async (f: () => Promise<void>): Promise<number> => {
  const t0 = performance.now()
  await f()
  return performance.now() - t0
}

// ---------------------------------------------------------------------------------------------
// Section: the refresh storm (processes)
// ---------------------------------------------------------------------------------------------

const STORM_PROCESSES = 32
const STORM_REPS = 3

const concurrently = async (home: TempHome, args: ReadonlyArray<string>) => {
  const results = await Promise.all(
    Array.from({ length: STORM_PROCESSES }, () => runCli(args, { env: home.env, timeoutMs: 90_000 }))
  )
  const bad = results.filter((r) => r.code !== 0)
  if (bad.length > 0) {
    throw new Error(`olares-cli ${args.join(" ")}: ${bad.length} of ${results.length} failed: ${bad[0]!.stderr}`)
  }
}

const refreshStorm = async (server: Server, homes: Array<TempHome>): Promise<ReadonlyArray<Row>> => {
  const apiMs: Array<number> = []
  const freshMs: Array<number> = []
  const refreshes: Array<number> = []
  // rep 0 warms the file cache and the server; it is not counted
  for (let rep = 0; rep <= STORM_REPS; rep++) {
    const stale = await seededHome(server, -60, homes)
    const before = await server.hits("/api/refresh")
    const a = await timed(() => concurrently(stale, ["api", "/api/echo/x"]))
    const refreshed = (await server.hits("/api/refresh")) - before
    // The same command on a fresh profile: the difference is what single-flight refresh costs.
    const fresh = await seededHome(server, 3600, homes)
    const f = await timed(() => concurrently(fresh, ["api", "/api/echo/x"]))
    if (rep === 0) continue
    apiMs.push(a)
    freshMs.push(f)
    refreshes.push(refreshed)
  }
  return [{
    section: `refresh storm, ${STORM_PROCESSES} processes`,
    measured: "`api /api/echo/x`, stale profile",
    measuredMs: apiMs,
    baseline: "same, fresh profile (no refresh)",
    baselineMs: freshMs,
    note: `/api/refresh calls per storm: ${refreshes.join(", ")}; ${STORM_REPS} reps`
  }]
}

// ---------------------------------------------------------------------------------------------
// Section: the authenticated transport (in process)
// ---------------------------------------------------------------------------------------------

const REQUESTS = 1000
const CONCURRENCY = 16
const TRANSPORT_REPS = 7

const transport = async (server: Server, homes: Array<TempHome>): Promise<ReadonlyArray<Row>> => {
  const home = await seededHome(server, 3600, homes)
  const url = `${server.url}/api/echo/x`
  const local = Layer.mergeAll(ProfileRepoFile, KeyStoreFile).pipe(
    Layer.provideMerge(FileLockLive),
    Layer.provideMerge(AppPathsLive)
  )
  const live = NetworkLive.pipe(Layer.provideMerge(local))

  const program = Effect.gen(function*() {
    const authed = yield* Effect.flatMap(HttpAuth, (a) => a.current)
    const bare = (yield* HttpClients).get(false)
    // The access token HttpAuth sends, read once from the same store.
    const stored = yield* Effect.flatMap(KeyStore, (s) => s.get(ID))
    const token = Option.match(stored, { onNone: () => "", onSome: (t) => Redacted.value(t.accessToken) })

    const byHand = HttpClientRequest.get(url).pipe(
      HttpClientRequest.setHeaders({
        "x-authorization": token,
        cookie: `auth_token=${token}`,
        "x-unauth-error": "Non-Redirect"
      })
    )
    const viaAuth = HttpClientRequest.get(url)

    const one = <E>(client: HttpClient.HttpClient.With<E>, request: HttpClientRequest.HttpClientRequest) =>
      Effect.flatMap(
        client.execute(request),
        (res) =>
          Effect.flatMap(
            res.arrayBuffer,
            () => res.status === 200 ? Effect.void : Effect.dieMessage(`${request.url}: HTTP ${res.status}`)
          )
      )

    const batch = (run: Effect.Effect<void, unknown>) =>
      Effect.forEach(Array.from({ length: REQUESTS }), () => run, { concurrency: CONCURRENCY, discard: true }).pipe(
        Effect.orDie,
        Effect.timed,
        Effect.map(([d]) => Duration.toMillis(d))
      )

    const authMs: Array<number> = []
    const bareMs: Array<number> = []
    // rep 0 warms up connections and the JIT; alternate the order so neither side always goes first
    for (let rep = 0; rep <= TRANSPORT_REPS; rep++) {
      const [first, second] = rep % 2 === 0
        ? [one(authed.client, viaAuth), one(bare, byHand)]
        : [one(bare, byHand), one(authed.client, viaAuth)]
      const t1 = yield* batch(first)
      const t2 = yield* batch(second)
      if (rep === 0) continue
      authMs.push(rep % 2 === 0 ? t1 : t2)
      bareMs.push(rep % 2 === 0 ? t2 : t1)
    }
    return { authMs, bareMs }
  })

  const before = await server.hits("/api/refresh")
  const { authMs, bareMs } = await Effect.runPromise(
    program.pipe(
      Effect.provide(live),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(home.env))))
    )
  )
  const refreshed = (await server.hits("/api/refresh")) - before
  const rps = (REQUESTS / median(authMs)) * 1000
  return [{
    section: `${REQUESTS.toLocaleString("en")} GETs, concurrency ${CONCURRENCY}`,
    measured: "HttpAuth client (file key store)",
    measuredMs: authMs,
    baseline: "bare HttpClient, headers by hand",
    baselineMs: bareMs,
    note: `${rps.toFixed(0)} req/s via HttpAuth; refreshes: ${refreshed}; ${TRANSPORT_REPS} reps`
  }]
}

// ---------------------------------------------------------------------------------------------
// Section: start-up of the hottest offline commands (processes)
// ---------------------------------------------------------------------------------------------

const STARTUP_RUNS = 21

/** One process run: wall, CPU time and peak memory (the last two reported by scripts/rusage.cjs). */
interface Run {
  readonly wallMs: number
  readonly cpuMs: number
  readonly maxRssKb: number
}

/** Runs one process to exit; fails on a non-zero exit. */
const runOnce = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<Run>((done, fail) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, ["-r", resolve(ROOT, "scripts/rusage.cjs"), ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "ignore", "pipe", "pipe"]
    })
    let usage = ""
    let stderr = ""
    const [, , err, fd3] = child.stdio as unknown as [unknown, unknown, Readable, Readable]
    err.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    fd3.setEncoding("utf8").on("data", (d: string) => (usage += d))
    child.on("error", fail)
    child.on("close", (code) => {
      const wallMs = performance.now() - t0
      if (code !== 0) return fail(new Error(`${args.join(" ")} exited ${code}: ${stderr}`))
      const u = JSON.parse(usage) as { cpuMs: number; maxRssKb: number }
      done({ wallMs, cpuMs: u.cpuMs, maxRssKb: u.maxRssKb })
    })
  })

/** One benchmarked command next to its plain baseline; `prepare` (untimed) runs before each run of either. */
interface Pair {
  readonly measured: string
  readonly args: ReadonlyArray<string>
  readonly env?: Record<string, string>
  readonly baseline: string
  readonly baselineArgs: ReadonlyArray<string>
  readonly target: string
  readonly prepare?: () => Record<string, string>
}

/** The median of the per-run ratios (run i of the command against run i of its baseline). */
const pairedRatio = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => median(a.map((x, i) => x / b[i]!))

/**
 * Every command the start-up tiers serve against a minimal hand-written Node script doing the same
 * (scripts/plain-*.cjs: read config.json, decrypt the record, print or request the same), over 3
 * profiles. Runs are interleaved round-robin so load changes hit every variant alike; wall time
 * is the table's ratio, CPU time and peak memory (paired, per run) are in the notes.
 */
const startup = async (server: Server, homes: Array<TempHome>): Promise<ReadonlyArray<Row>> => {
  const home = makeTempHome()
  homes.push(home)
  for (const id of ["alice@olares.com", "bob@olares.com", "carol@olares.com"]) {
    const g = await server.grant(3600)
    await seedProfile(home, {
      olaresId: id,
      accessToken: g.accessToken,
      refreshToken: g.refreshToken,
      authUrlOverride: server.url
    })
  }
  // whoami from the cache: a role and a version already read
  const cfgFile = resolve(home.home, "config.json")
  const cfg = JSON.parse(readFileSync(cfgFile, "utf8")) as { profiles: Array<Record<string, unknown>> }
  for (const p of cfg.profiles) {
    Object.assign(p, { ownerRole: "owner", whoamiRefreshedAt: 1_700_000_000, backendVersion: "1.12.0" })
  }
  writeFileSync(cfgFile, JSON.stringify(cfg, null, 2))
  // `remove` runs in a fresh copy of the home each time
  const scratch = () => {
    const copy = makeTempHome()
    homes.push(copy)
    rmSync(copy.root, { recursive: true, force: true })
    cpSync(home.root, copy.root, { recursive: true })
    return copy.env
  }
  const helpFile = resolve(home.root, "help.txt")
  writeFileSync(helpFile, (await runCli(["--help"], { env: home.env })).stdout)
  // BENCH_BIN=<another build>/dist/bin.cjs compares another build with the same baselines
  const bin = process.env.BENCH_BIN ?? resolve(ROOT, "dist/bin.cjs")
  const plain = (name: string) => resolve(ROOT, `scripts/plain-${name}.cjs`)
  const pairs: ReadonlyArray<Pair> = [
    {
      measured: "`profile list`, 3 profiles",
      args: [bin, "profile", "list"],
      baseline: "plain script, same table",
      baselineArgs: [plain("list")],
      target: "<= 1.5x"
    },
    {
      measured: "`profile use -`",
      args: [bin, "profile", "use", "-"],
      baseline: "plain script, same table",
      baselineArgs: [plain("list")],
      target: "<= 1.5x; writes config.json under the kernel lock"
    },
    {
      measured: "`profile list`, quick tier off",
      args: [bin, "profile", "list"],
      env: { OLARES_CLI_QUICK: "0" },
      baseline: "plain script, same table",
      baselineArgs: [plain("list")],
      target: "the Effect fast tier"
    },
    {
      measured: "`profile whoami` (cached)",
      args: [bin, "profile", "whoami"],
      baseline: "plain script: decrypt, print",
      baselineArgs: [plain("whoami")],
      target: "<= 2x"
    },
    {
      measured: "`profile whoami` (cached), full CLI",
      args: [bin, "profile", "whoami"],
      env: { OLARES_CLI_FAST: "0" },
      baseline: "plain script: decrypt, print",
      baselineArgs: [plain("whoami")],
      target: "the full CLI, for comparison"
    },
    {
      measured: "`api /api/echo/x` (GET)",
      args: [bin, "api", "/api/echo/x"],
      baseline: "plain `node:http` script: decrypt, one GET",
      baselineArgs: [plain("api"), "/api/echo/x"],
      target: "<= 2x"
    },
    {
      measured: "`profile remove alice@olares.com --yes`",
      args: [bin, "profile", "remove", "alice@olares.com", "--yes"],
      baseline: "plain script: delete, rewrite config",
      baselineArgs: [plain("remove"), "alice@olares.com"],
      target: "<= 3x",
      prepare: scratch
    },
    {
      measured: "`profile doctor --offline`",
      args: [bin, "profile", "doctor", "--offline"],
      baseline: "plain script: stat, decrypt all",
      baselineArgs: [plain("doctor")],
      target: "<= 3x"
    },
    {
      measured: "`profile remove ... --yes`, full CLI",
      args: [bin, "profile", "remove", "alice@olares.com", "--yes"],
      env: { OLARES_CLI_FAST: "0" },
      baseline: "plain script: delete, rewrite config",
      baselineArgs: [plain("remove"), "alice@olares.com"],
      target: "the full CLI, for comparison",
      prepare: scratch
    },
    {
      measured: "`profile doctor --offline`, full CLI",
      args: [bin, "profile", "doctor", "--offline"],
      env: { OLARES_CLI_FAST: "0" },
      baseline: "plain script: stat, decrypt all",
      baselineArgs: [plain("doctor")],
      target: "the full CLI, for comparison"
    },
    {
      measured: "`--help`",
      args: [bin, "--help"],
      baseline: "plain script printing the same screen",
      baselineArgs: [plain("help"), helpFile],
      target: "<= 3x"
    }
  ]
  const runs = pairs.map(() => ({ cli: [] as Array<Run>, plain: [] as Array<Run> }))
  for (let i = 0; i <= STARTUP_RUNS; i++) {
    for (const [k, p] of pairs.entries()) {
      const envA = { ...home.env, ...p.prepare?.(), ...p.env }
      const a = await runOnce(p.args, envA)
      const b = await runOnce(p.baselineArgs, { ...home.env, ...p.prepare?.() })
      // run 0 warms the page cache
      if (i > 0) {
        runs[k]!.cli.push(a)
        runs[k]!.plain.push(b)
      }
    }
  }
  const nodeRuns: Array<Run> = []
  for (let i = 0; i <= STARTUP_RUNS; i++) {
    const r = await runOnce(["-e", "0"], {})
    if (i > 0) nodeRuns.push(r)
  }
  return [
    ...pairs.map((p, k): Row => {
      const { cli, plain } = runs[k]!
      const cpu = pairedRatio(cli.map((r) => r.cpuMs), plain.map((r) => r.cpuMs))
      const rss = pairedRatio(cli.map((r) => r.maxRssKb), plain.map((r) => r.maxRssKb))
      return {
        section: "start-up",
        measured: p.measured,
        measuredMs: cli.map((r) => r.wallMs),
        baseline: p.baseline,
        baselineMs: plain.map((r) => r.wallMs),
        note: `CPU ${cpu.toFixed(2)}x (${ms(median(cli.map((r) => r.cpuMs)))} ms), peak memory ${
          rss.toFixed(2)
        }x; target ${p.target}`
      }
    }),
    {
      section: "start-up",
      measured: "plain script, same table",
      measuredMs: runs[0]!.plain.map((r) => r.wallMs),
      baseline: "`node -e 0`",
      baselineMs: nodeRuns.map((r) => r.wallMs),
      note: `${STARTUP_RUNS} interleaved runs each`
    }
  ]
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

/** The sections, in print order. A section gets the running server and a list to register temp homes in. */
const SECTIONS: ReadonlyArray<{
  readonly name: string
  readonly run: (server: Server, homes: Array<TempHome>) => Promise<ReadonlyArray<Row>>
}> = [
  { name: "start-up", run: startup },
  { name: "refresh storm", run: refreshStorm },
  { name: "transport overhead", run: transport }
]

const main = async () => {
  const started = performance.now()
  const server = await startServer()
  const homes: Array<TempHome> = []
  const rows: Array<Row> = []
  try {
    // BENCH_SECTIONS=start-up runs only the named sections (comma-separated)
    const only = (process.env.BENCH_SECTIONS ?? "").split(",").filter((x) => x !== "")
    for (const s of SECTIONS.filter((x) => only.length === 0 || only.includes(x.name))) {
      process.stderr.write(`bench: ${s.name}...\n`)
      const t = performance.now()
      rows.push(...(await s.run(server, homes)))
      process.stderr.write(`bench: ${s.name} done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`)
    }
  } finally {
    server.stop()
    for (const h of homes) h.cleanup()
  }
  console.log(table(rows))
  console.log(
    `\nnode ${process.version}, ${process.platform}/${process.arch}, total ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`
  )
}

await main()
