/**
 * Runs the built CLI inside a real pseudo-terminal: util-linux `script -qfec "<cmd>" /dev/null`
 * gives the child a pty for stdin, stdout and stderr, relays what we write on its stdin as
 * keystrokes, and relays everything the terminal shows (echo included) on its stdout.
 */
import { spawn, spawnSync } from "node:child_process"
import { BIN } from "./cli.js"
import { recordOutput } from "./leaks.js"

/** True when util-linux `script` can run here. */
export const hasScript = (): boolean => spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0

const shq = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`)

/** A CLI running on a pty. */
export interface PtyRun {
  /** Everything the terminal showed so far, `\r\n` normalised to `\n`. */
  readonly screen: () => string
  /** Resolves once the screen contains `text` (rejects after `ms` or if the CLI exits first). */
  readonly waitFor: (text: string, ms?: number) => Promise<void>
  /** Types keys, as a person would (`\r` is Enter, `\u0003` is Ctrl-C). */
  readonly type: (keys: string) => void
  /** The exit code and the final screen. */
  readonly exited: Promise<{ readonly code: number | null; readonly screen: string }>
}

/** Options of one pty run. */
export interface PtyOptions {
  /** Merged over PATH, SHELL=/bin/sh and TERM=xterm-256color; `undefined` removes a key. */
  readonly env?: Record<string, string | undefined>
  /** Rewrites the screen before it goes to the leak scan (only to drop what the user typed and saw echoed). */
  readonly redactForLeakScan?: (screen: string) => string
  readonly timeoutMs?: number
}

/** Starts `node dist/bin.cjs ...args` on a fresh pty. */
export const runInPty = (args: ReadonlyArray<string>, opts: PtyOptions = {}): PtyRun => {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", SHELL: "/bin/sh", TERM: "xterm-256color" }
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  const cmd = [process.execPath, BIN, ...args].map(shq).join(" ")
  const child = spawn("script", ["-qfec", cmd, "/dev/null"], { env, stdio: ["pipe", "pipe", "pipe"] })
  let raw = ""
  const listeners = new Set<() => void>()
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    raw += d
    for (const l of listeners) l()
  })
  child.stderr.setEncoding("utf8").on("data", (d: string) => (raw += d))
  const screen = () => raw.replace(/\r\n/g, "\n")
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000)
  let closed = false
  const exited = new Promise<{ code: number | null; screen: string }>((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer)
      closed = true
      const label = `pty: olares-cli ${args.join(" ")}`
      recordOutput(label, opts.redactForLeakScan ? opts.redactForLeakScan(screen()) : screen())
      for (const l of listeners) l()
      resolve({ code, screen: screen() })
    })
  )
  const waitFor = (text: string, ms = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (screen().includes(text)) {
          done()
          resolve()
        } else if (closed) {
          done()
          reject(new Error(`the CLI exited before showing ${JSON.stringify(text)}; screen:\n${screen()}`))
        }
      }
      const t = setTimeout(() => {
        done()
        reject(new Error(`no ${JSON.stringify(text)} within ${ms}ms; screen:\n${screen()}`))
      }, ms)
      const done = () => {
        clearTimeout(t)
        listeners.delete(check)
      }
      listeners.add(check)
      check()
    })
  return { screen, waitFor, type: (keys) => void child.stdin.write(keys), exited }
}
