#!/usr/bin/env node
/**
 * Entry point: refuses secrets on argv before anything loads, sends the two hottest commands to a
 * lean fast path, and runs everything else through the full @effect/cli program.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import * as vm from "node:vm"
import type { FastCommand, runFast } from "./fast.js"

const argv = process.argv.slice(2)

if (argv.some((a) => a === "--password" || a.startsWith("--password="))) {
  process.stderr.write(
    "Error: there is no --password flag: a password on the command line is visible in `ps` and shell history\n" +
      "hint: run `olares-cli profile login --olares-id <id>` and type it at the prompt, or pipe it with --password-stdin\n"
  )
  process.exit(2)
}

/** Exact argv shapes the fast path serves; anything else (help, other flags) takes the full CLI. */
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
    return value === "json" || value === "table" ? { _tag: "list", output: value } : undefined
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
  const file = fileURLToPath(new URL("./fast.cjs", import.meta.url))
  const cacheFile = `${file.slice(0, -".cjs".length)}.cache`
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, "utf8")}\n})`
  const script = new vm.Script(source, { filename: file, ...(cachedData !== undefined ? { cachedData } : {}) })
  const mod = { exports: {} as { runFast: typeof runFast } }
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, fileURLToPath(new URL(".", import.meta.url)))
  if (process.env.OLARES_CLI_WRITE_CODE_CACHE === "1") {
    process.once("beforeExit", () => writeFileSync(cacheFile, script.createCachedData()))
  }
  return mod.exports.runFast
}

const fast = matchFast(argv)
if (fast !== undefined) {
  process.exitCode = await loadFast()(fast)
} else {
  const { program } = await import("./Cli.js")
  const { runMain } = await import("@effect/platform-node/NodeRuntime")
  // runMain's SIGINT/SIGTERM handler unsubscribes itself when it fires; signal-exit (loaded with
  // proper-lockfile) then finds itself the only listener and re-raises the signal, killing the process
  // before the interruption has released its locks. Staying subscribed keeps the clean exit 130; a
  // second signal still exits at once.
  let signals = 0
  const onSignal = () => {
    if (++signals > 1) process.exit(130)
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
  runMain(program(argv), {
    disableErrorReporting: true,
    // the pretty logger would print every warning a second time, on stdout (breaking -o json)
    disablePrettyLogger: true,
    teardown: (exit, onExit) => onExit(exit._tag === "Success" ? (exit.value as number) : 130)
  })
}
