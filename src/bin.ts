#!/usr/bin/env node
/**
 * Entry point, bundled as CommonJS (dist/bin.cjs: Node starts a CommonJS script measurably faster
 * than an ES module). It refuses secrets on argv before anything loads, then tries, in order:
 * 1. the quick path (src/quick.ts, bundled in): `profile list` / `profile use` in plain Node when
 *    everything on disk is plainly healthy;
 * 2. the fast path (src/fast.ts, dist/fast.cjs): the same two commands as Effect programs without
 *    @effect/cli, for everything the quick path declines (fixing modes, explaining errors, waiting
 *    for a lock, the macOS/Windows key stores);
 * 3. the full CLI (src/main.ts, dist/cli.js) for every other command line.
 * `OLARES_CLI_QUICK=0` skips the quick path (to compare it with the fast path, or to rule it out).
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import * as vm from "node:vm"
import type { FastCommand, runFast } from "./fast.js"
import { runQuick } from "./quick.js"

const argv = process.argv.slice(2)

if (argv.some((a) => a === "--password" || a.startsWith("--password="))) {
  process.stderr.write(
    "Error: there is no --password flag: a password on the command line is visible in `ps` and shell history\n" +
      "hint: run `olares-cli profile login --olares-id <id>` and type it at the prompt, or pipe it with --password-stdin\n"
  )
  process.exit(2)
}

/** Exact argv shapes the quick and fast paths serve; anything else (help, other flags) takes the full CLI. */
const matchFast = (a: ReadonlyArray<string>): FastCommand | undefined => {
  if (a[0] !== "profile") return undefined
  if (a[1] === "list") {
    const rest = a.slice(2)
    if (rest.length === 0) return { _tag: "list", output: "table" }
    const value = rest.length === 2 && (rest[0] === "-o" || rest[0] === "--output")
      ? rest[1]
      : rest.length === 1 && rest[0]!.startsWith("--output=")
      ? rest[0]!.slice("--output=".length)
      : undefined
    // `-o JSON` too: the reference reads the value in any case
    const format = value?.toLowerCase()
    return format === "json" || format === "table" ? { _tag: "list", output: format } : undefined
  }
  if (a[1] === "use" && a.length === 3) {
    const key = a[2]!
    return key === "-" || (key !== "" && !key.startsWith("-")) ? { _tag: "use", key } : undefined
  }
  return undefined
}

/**
 * Loads dist/fast.cjs through vm.Script with the V8 code cache made at install time (Node 20 has no
 * module compile cache). A cache from another Node version is rejected by V8 and simply not used.
 */
const loadFast = (): typeof runFast => {
  const file = join(__dirname, "fast.cjs")
  const cacheFile = join(__dirname, "fast.cache")
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, "utf8")}\n})`
  const script = new vm.Script(source, { filename: file, ...(cachedData !== undefined ? { cachedData } : {}) })
  const mod = { exports: {} as { runFast: typeof runFast } }
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, __dirname)
  if (process.env.OLARES_CLI_WRITE_CODE_CACHE === "1") {
    // temp + rename: a CLI starting meanwhile reads the old cache or the new one, never half of one
    process.once("beforeExit", () => {
      writeFileSync(`${cacheFile}.${process.pid}.tmp`, script.createCachedData())
      renameSync(`${cacheFile}.${process.pid}.tmp`, cacheFile)
    })
  }
  return mod.exports.runFast
}

/** With OLARES_CLI_DEBUG, says which path ran (the tests use it to prove the quick path serves). */
const trace = (path: string) => {
  if ((process.env.OLARES_CLI_DEBUG ?? "") !== "") process.stderr.write(`debug: served by the ${path} path\n`)
}

// A specifier esbuild leaves alone: dist/cli.js is the full CLI's own ES module bundle.
const FULL_CLI = "./cli.js"

// A platform-mounted credential is imported before any command (maybe exchanged over the network):
// only the full CLI does that, so neither shortcut serves such a container.
const mounted = (process.env.OLARES_CLI_CREDENTIALS_DIR ?? "").trim() !== ""
const fast = mounted ? undefined : matchFast(argv)
const quick = fast !== undefined && process.env.OLARES_CLI_QUICK !== "0" ? runQuick(fast) : undefined
if (quick !== undefined) {
  trace("quick")
  process.exitCode = quick
} else if (fast !== undefined) {
  trace("fast")
  loadFast()(fast).then((code) => (process.exitCode = code))
} else {
  trace("full")
  import(FULL_CLI).then((m: typeof import("./main.js")) => m.main(argv))
}
