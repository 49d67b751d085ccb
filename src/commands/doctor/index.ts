/**
 * `profile doctor`: what is wrong with this machine's olares-cli set-up (token store, directories,
 * profiles, locks, auth hosts) and, for each problem, the exact command that fixes it. The facts
 * (facts.ts), the verdict (diagnose.ts, pure) and the human report (render.ts) live beside it.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import type { CommandHelp } from "../../help.js"
import { noInput, output, versionOptions } from "../options.js"
import { resolveVersionFlags } from "../profileRoot.js"
import { runDoctor } from "./program.js"

const offline = Options.boolean("offline").pipe(
  Options.withDescription("skip the auth-host checks: no network at all")
)

/** `profile doctor [--offline] [-o table|json]`, before the layers are provided (src/commands/wiring.ts does that). */
export const doctor = Command.make(
  "doctor",
  { output, offline, ...versionOptions, noInput },
  (opts) => Effect.zipRight(resolveVersionFlags(opts), runDoctor(opts))
).pipe(
  Command.withDescription(
    "Check this machine's set-up: the token store in use and why, the config and data directories " +
      "(permissions, writability), each profile's token state, lock files, and whether each auth host " +
      "answers (a plain HEAD, no credentials, 3 s timeout). Prints the exact command that fixes each " +
      "problem. Exit 0 when healthy (warnings allowed), 1 when a problem was found."
  )
)

/** Help beyond the parser's: summary and examples. */
export const doctorHelp: CommandHelp = {
  summary: "Check this machine's set-up and print the fix for each problem",
  examples: [
    { command: "olares-cli profile doctor" },
    { comment: "only the fixes, for a script", command: "olares-cli profile doctor -o json | jq '.problems[].fix'" },
    { comment: "no network at all", command: "olares-cli profile doctor --offline" }
  ]
}
