/** Spawns the built CLI (dist/bin.cjs) in a temp home, capturing and leak-recording its output. */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { recordOutput } from "./leaks.js"

/** Path of the built CLI. */
export const BIN = resolve(import.meta.dirname, "../../dist/bin.cjs")

/** A throwaway home: config in `home`, token files in `data`. */
export interface TempHome {
  readonly root: string
  readonly home: string
  readonly data: string
  readonly env: Record<string, string>
  readonly cleanup: () => void
}

/** Creates a temp home whose env points the CLI at it (and nowhere else). */
export const makeTempHome = (): TempHome => homeAt(mkdtempSync(join(tmpdir(), "olares-home-")))

/** The home laid out under an existing `root` (config in `root/config`, tokens in `root/data`). */
export const homeAt = (root: string): TempHome => {
  const home = join(root, "config")
  const data = join(root, "data")
  return {
    root,
    home,
    data,
    env: { OLARES_CLI_HOME: home, OLARES_CLI_DATA_DIR: data, HOME: root, NO_COLOR: "1" },
    cleanup: () => rmSync(root, { recursive: true, force: true })
  }
}

/** What a CLI run produced. */
export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Options for one run. */
export interface RunOptions {
  readonly env?: Record<string, string | undefined>
  readonly input?: string
  readonly timeoutMs?: number
}

/** Runs `node dist/bin.cjs ...args` with the given env (merged over a clean PATH-only env). */
export const runCli = (args: ReadonlyArray<string>, opts: RunOptions = {}): Promise<CliResult> =>
  new Promise((resolvePromise, reject) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? "" }
    for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000)
    child.on("error", reject)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      const label = `olares-cli ${args.join(" ")}`
      recordOutput(label, stdout)
      recordOutput(label, stderr)
      resolvePromise({ code, signal, stdout, stderr })
    })
    if (opts.input !== undefined) child.stdin.end(opts.input)
    else child.stdin.end()
  })
