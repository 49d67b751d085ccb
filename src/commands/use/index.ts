/** `profile use <name|olaresId|->` (command-line definition): switch the current profile (`-` swaps back, like `cd -`). */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import type { CommandHelp } from "../../help.js"
import { noInput, versionOptions } from "../options.js"
import { resolveVersionFlags } from "../profileRoot.js"
import { switchProfile } from "./program.js"

const key = Args.text({ name: "name|olaresId|-" }).pipe(
  Args.withDescription("the profile's alias or olaresId, or - for the previous profile")
)

/** `profile use <name|olaresId|->`, before the layers are provided (src/commands/wiring.ts). */
export const use = Command.make(
  "use",
  { key, ...versionOptions, noInput },
  ({ key, ...opts }) => Effect.zipRight(resolveVersionFlags(opts), switchProfile(key))
).pipe(
  Command.withDescription(
    "Switch the current profile. Every business verb uses the current profile."
  )
)

/** Help beyond the parser's: summary and examples. */
export const useHelp: CommandHelp = {
  summary: "Switch the current profile (- switches back)",
  examples: [
    { command: "olares-cli profile use alice@olares.com" },
    { comment: "by alias", command: "olares-cli profile use work" },
    { comment: "back to the previous profile, like cd -", command: "olares-cli profile use -" }
  ]
}
