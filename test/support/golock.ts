/**
 * The Go lock program (test/support/golock/main.go): the Go olares-cli's locking discipline on the
 * same library (gofrs/flock), built once per test run in GOPATH mode from Debian's packaged source
 * (`golang-go`, `golang-github-gofrs-flock-dev`; .ci/run installs both). A missing `go` fails the
 * tests that need it, loudly: these tests are what proves both CLIs exclude each other.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, renameSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { spawnWatched, type Worker } from "./repo-worker.js"

const SOURCE = resolve(import.meta.dirname, "golock", "main.go")

/** Where Debian installs Go library sources (GOPATH mode). */
const GOPATH = "/usr/share/gocode"

let built: string | undefined

/** The program's path, built on first use into this run's directory (global-setup makes it). */
export const goLockBinary = (): string => {
  if (built !== undefined) return built
  const dir = process.env.OLARES_GOLOCK_DIR ?? mkdtempSync(join(tmpdir(), "olares-golock-"))
  mkdirSync(dir, { recursive: true })
  const out = join(dir, "golock")
  if (!existsSync(out)) {
    // Another test file of this run may build at the same time: build aside, then rename.
    const tmp = `${out}.${process.pid}.tmp`
    const r = spawnSync("go", ["build", "-o", tmp, SOURCE], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? tmpdir(),
        GO111MODULE: "off",
        GOPATH,
        GOCACHE: join(tmpdir(), "olares-gocache"),
        GOFLAGS: ""
      }
    })
    if (r.error !== undefined || r.status !== 0) {
      throw new Error(
        `cannot build the Go lock program (${r.error?.message ?? r.stderr.trim()}): install Go and gofrs/flock ` +
          "(apt-get install golang-go golang-github-gofrs-flock-dev; .ci/run does this)"
      )
    }
    renameSync(tmp, out)
  }
  return (built = out)
}

/** Starts `golock ...args`; its stdout lines can be waited for. */
export const spawnGo = (args: ReadonlyArray<string>, opts: { stdin?: boolean } = {}): Worker =>
  spawnWatched(goLockBinary(), args, opts)

/** Runs `golock ...args` to the end: its exit code and stdout. */
export const runGo = async (
  args: ReadonlyArray<string>
): Promise<{ code: number | null; stdout: string; stderr: string }> => spawnGo(args).exited

/**
 * Starts a shell that opens `path` on fd 9, locks it exclusively with util-linux `flock(1)`, prints
 * "locked" and runs `script` (`exec` it to keep the lock for its lifetime). The lock belongs to the
 * shell's open file, so it is held by exactly one process: killing it frees the lock.
 */
export const spawnFlock = (path: string, script: string, opts: { stdin?: boolean } = {}): Worker =>
  spawnWatched("sh", ["-c", `exec 9>>"$0" && flock -x 9 && echo locked && ${script}`, path], opts)

/** Whether some process holds the kernel lock on `path` now, asked through util-linux `flock(1) -n`. */
export const flockBusy = (path: string): boolean => {
  const r = spawnSync("flock", ["-n", "-E", "75", path, "true"], { encoding: "utf8" })
  if (r.error !== undefined) throw new Error(`flock(1) is missing (apt-get install util-linux): ${r.error.message}`)
  if (r.status !== 0 && r.status !== 75) throw new Error(`flock(1) failed: ${r.stderr}`)
  return r.status === 75
}
