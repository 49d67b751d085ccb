#!/usr/bin/env node
/**
 * Entry point (dist/bin.cjs, framework-free CommonJS: it starts fastest). The route (src/startup/
 * route.ts) picks the tier: a secret on argv is refused before anything loads; `profile list` /
 * `profile use` try the quick tier (plain Node) and fall back to the fast tier, `profile whoami` tries
 * the quick tier and falls back to the full CLI; `profile remove
 * --yes` and `profile doctor --offline` run the fast tier; everything else runs the full CLI. The
 * Effect tiers (dist/fast.cjs, dist/cli.cjs) load the same way, with a V8 code cache.
 * `OLARES_CLI_QUICK=0` skips the quick tier, `OLARES_CLI_FAST=0` both shortcut tiers (to compare a
 * tier with the next one, or to rule it out).
 */
import { join } from "node:path"
import type * as Main from "./main.js"
import { loadCached } from "./startup/codeCache.js"
import type * as Fast from "./startup/fast.js"
import { runQuick } from "./startup/quick.js"
import { parseRoute } from "./startup/route.js"

/** With OLARES_CLI_DEBUG, says which tier ran (the tests use it to prove the quick tier serves). */
const trace = (path: string) => {
  if ((process.env.OLARES_CLI_DEBUG ?? "") !== "") process.stderr.write(`debug: served by the ${path} path\n`)
}

const argv = process.argv.slice(2)
const parsed = parseRoute(argv)
// OLARES_CLI_FAST=0 runs the full CLI for every command line (the differential tests compare with it)
const route = parsed._tag === "Fast" && process.env.OLARES_CLI_FAST === "0" ? { _tag: "Full" as const, argv } : parsed
const quick = route._tag === "Fast" && process.env.OLARES_CLI_QUICK !== "0" ? runQuick(route.command) : undefined
if (route._tag === "Refuse") {
  process.stderr.write(route.message)
  process.exit(route.exitCode)
} else if (quick !== undefined) {
  trace("quick")
  process.exitCode = quick
} else if (route._tag === "Fast" && route.command._tag !== "whoami") {
  trace("fast")
  const command = route.command
  loadCached<typeof Fast>(join(__dirname, "fast.cjs")).runFast(command).then((code) => (process.exitCode = code))
} else {
  trace("full")
  loadCached<typeof Main>(join(__dirname, "cli.cjs")).main(argv)
}
