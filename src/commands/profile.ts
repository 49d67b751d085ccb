/** The `profile` command group. */
import * as Command from "@effect/cli/Command"
import type { CommandHelp } from "../help.js"
import { profileRoot } from "./profileRoot.js"

/** `olares-cli profile` with its description; src/commands/wiring.ts attaches the verbs, each with its layers. */
export const profileGroup = profileRoot.pipe(
  Command.withDescription(
    "Manage profiles: one profile = one Olares instance + one identity, keyed by olaresId. " +
      "Every business verb rides the current profile's token; it is refreshed transparently. " +
      "--olares-version and --refresh-version are accepted here or after any verb."
  )
)

/** Help beyond the parser's: summary and examples. */
export const profileHelp: CommandHelp = {
  summary: "Manage profiles: log in, switch, list, remove, check the set-up",
  examples: [
    { command: "olares-cli profile login --olares-id alice@olares.com" },
    { command: "olares-cli profile list" },
    { command: "olares-cli profile use work" },
    {
      comment: "the version flags go before the verb or after it",
      command: "olares-cli profile --olares-version 1.12.6 whoami"
    }
  ]
}
