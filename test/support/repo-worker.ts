/**
 * A child process for the lock / config tests: builds the real layers against a temp home and does
 * one operation, so concurrency and crash safety are exercised across real processes. Run directly
 * with `node --import tsx test/support/repo-worker.ts <mode> ...`; tests use `spawnWorker`.
 *
 *   update <home> <olaresId>               upsert one profile (exit 0, prints "ok")
 *   hold <lockPath>                        take the lock, print "locked", then wait to be killed
 *   churn <home> <profiles> <padBytes>     rewrite config.json forever, generation after generation
 *   mac-set <dir> <olaresId>               store a record with the macOS store while the Keychain is
 *                                          locked (so the master key goes to master.key.file)
 *
 * Typed failures are printed to stderr as one JSON line `{_tag, message, recovery}`, exit code 1.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { type ChildProcess, spawn } from "node:child_process"
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { FileLockLive } from "../../layers/FileLockLive.js"
import { makeMacKeyStore } from "../../layers/KeyStoreKeyring.js"
import { ProfileRepoFile } from "../../layers/ProfileRepoFile.js"
import { upsertProfile } from "../../src/domain/ProfileConfig.js"
import { AppPaths } from "../../src/services/AppPaths.js"
import { FileLock } from "../../src/services/FileLock.js"
import { ProfileRepo } from "../../src/services/ProfileRepo.js"

/** AppPaths for a temp home, without reading the environment. */
export const testPaths = (home: string) =>
  Layer.succeed(AppPaths, {
    home,
    configFile: join(home, "config.json"),
    locksDir: join(home, "locks"),
    dataDir: join(home, "data"),
    dataDirSource: "test"
  })

/** ProfileRepoFile + FileLockLive over a temp home. */
export const repoLayer = (home: string) =>
  ProfileRepoFile.pipe(Layer.provideMerge(FileLockLive), Layer.provide(testPaths(home)))

/** One generation of the churn writer: every profile carries the same `gen` and a fixed-size pad. */
export const generation = (gen: number, profiles: number, padBytes: number) => ({
  currentProfile: "p0@olares.com",
  profiles: Array.from({ length: profiles }, (_, i) => ({
    olaresId: `p${i}@olares.com`,
    gen,
    pad: String(gen % 10).repeat(padBytes)
  }))
})

/** This script's absolute path. */
export const WORKER = import.meta.filename

/** A running worker and what it printed. */
export interface Worker {
  readonly child: ChildProcess
  /** Resolves once a stdout line equals `line`; rejects if the worker exits first or after `ms`. */
  readonly waitFor: (line: string, ms?: number) => Promise<void>
  /** Resolves when the worker is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
}

let bundled: string | undefined

/**
 * This script bundled once per test process with esbuild (as scripts/build.mjs bundles the CLI): a
 * child then starts in ~0.2 s instead of ~1 s of tsx compiling, which matters with 20 of them on 2 cores.
 */
const workerBundle = (): string => {
  if (bundled !== undefined) return bundled
  const dir = mkdtempSync(join(tmpdir(), "olares-worker-"))
  chmodSync(dir, 0o755) // readable by the unprivileged user some tests run it as
  const out = join(dir, "repo-worker.mjs")
  // native modules stay external (koffi, @napi-rs/keyring): they resolve through this link
  symlinkSync(resolve(import.meta.dirname, "../../node_modules"), join(dir, "node_modules"))
  // required here, not imported at the top, so the bundle does not swallow esbuild itself
  const esbuild = createRequire(import.meta.url)("esbuild") as typeof import("esbuild")
  esbuild.buildSync({
    entryPoints: [WORKER],
    outfile: out,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: ["@napi-rs/keyring", "koffi"],
    banner: {
      js: "import { createRequire as __workerCreateRequire } from \"node:module\";" +
        "const require = __workerCreateRequire(import.meta.url);"
    },
    logLevel: "warning"
  })
  return (bundled = out)
}

/** Removes the bundle (call from `afterAll`: vitest's forks do not always get to run exit hooks). */
export const removeWorkerBundle = (): void => {
  if (bundled !== undefined) rmSync(dirname(bundled), { recursive: true, force: true })
  bundled = undefined
}

/** Starts the worker with `...args` (optionally as another user, when we are root). */
export const spawnWorker = (args: ReadonlyArray<string>, opts: { uid?: number; gid?: number } = {}): Worker =>
  spawnWatched(process.execPath, [workerBundle(), ...args], opts)

/** Starts any program whose stdout lines a test waits for (the worker, the Go lock program). */
export const spawnWatched = (
  command: string,
  args: ReadonlyArray<string>,
  opts: { uid?: number; gid?: number; stdin?: boolean } = {}
): Worker => {
  const { stdin, ...ids } = opts
  const child = spawn(command, args, {
    // a piped stdin lets a test say "go" to a program waiting on it
    stdio: [stdin === true ? "pipe" : "ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
    ...ids
  })
  let stdout = ""
  let stderr = ""
  const waiters: Array<() => void> = []
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    stdout += d
    for (const w of waiters) w()
  })
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  )
  const name = [command, ...args].join(" ")
  const waitFor = (line: string, ms = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (stdout.split("\n").includes(line)) {
          clearTimeout(timer)
          resolve()
        }
      }
      const timer = setTimeout(
        () => reject(new Error(`${name}: no "${line}" in ${ms}ms; stderr: ${stderr}`)),
        ms
      )
      waiters.push(check)
      void exited.then(() => {
        clearTimeout(timer)
        if (!stdout.split("\n").includes(line)) reject(new Error(`${name} exited; stderr: ${stderr}`))
      })
      check()
    })
  return { child, waitFor, exited }
}

const say = (line: string) => Effect.sync(() => process.stdout.write(line + "\n"))

const main = (argv: ReadonlyArray<string>) => {
  const [mode, a = "", b = "", c = ""] = argv
  switch (mode) {
    case "update":
      return Effect.gen(function*() {
        const repo = yield* ProfileRepo
        yield* repo.update((cfg) => Effect.succeed([undefined, upsertProfile(cfg, { olaresId: b, name: `n-${b}` })]))
        yield* say("ok")
      }).pipe(Effect.provide(repoLayer(a)))
    case "hold":
      return Effect.gen(function*() {
        const lock = yield* FileLock
        yield* lock.lock(a, { timeout: "30 seconds" })
        yield* say("locked")
        return yield* Effect.never
      }).pipe(Effect.scoped, Effect.provide(FileLockLive))
    case "churn":
      return Effect.gen(function*() {
        const repo = yield* ProfileRepo
        const profiles = Number(b)
        const pad = Number(c)
        // Each run continues from the generation on disk, so a reader can check nothing rolls back.
        for (let first = true;; first = false) {
          yield* repo.update((cfg) => {
            const last = Number(cfg.profiles[0]?.["gen"] ?? 0)
            return Effect.succeed([undefined, generation(last + 1, profiles, pad)] as const)
          })
          if (first) yield* say("writing")
        }
      }).pipe(Effect.provide(repoLayer(a)))
    case "mac-set": {
      const locked = () => Promise.reject(new Error("User interaction is not allowed."))
      const keyring = Effect.succeed({
        entry: () => ({ getPassword: locked, setPassword: locked, deleteCredential: locked }),
        accounts: locked
      })
      return makeMacKeyStore({ dir: a, keyring }).set({ olaresId: b, accessToken: Redacted.make(`access-${b}`) }).pipe(
        Effect.zipRight(say("ok"))
      )
    }
    default:
      return Effect.dieMessage(`unknown mode ${mode}`)
  }
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  Effect.runPromiseExit(main(process.argv.slice(2)) as Effect.Effect<unknown, unknown>).then((exit) => {
    if (exit._tag === "Failure") {
      // Typed failures go out as one JSON line so the parent can assert on tag, message and hint.
      const failure = Cause.failureOption(exit.cause)
      const e = failure._tag === "Some" ? failure.value as Record<string, unknown> : undefined
      process.stderr.write(
        (e === undefined
          ? Cause.pretty(exit.cause)
          : JSON.stringify({ _tag: e._tag, message: e.message, recovery: e.recovery })) + "\n"
      )
      process.exitCode = 1
    }
  })
}
