/** The `profile` command group. */
import * as Command from "@effect/cli/Command"
import type { CommandHelp } from "../help.js"
import { doctor } from "./doctor.js"
import { importCommand } from "./import.js"
import { list } from "./list.js"
import { login } from "./login.js"
import { profileRoot } from "./profileRoot.js"
import { remove } from "./remove.js"
import { use } from "./use.js"
import { whoami } from "./whoami.js"

/** `olares-cli profile ...`. */
export const profile = profileRoot.pipe(
  Command.withDescription(
    "Manage profiles: one profile = one Olares instance + one identity, keyed by olaresId. " +
      "Every business verb rides the current profile's token; it is refreshed transparently. " +
      "--olares-version and --refresh-version are accepted here or after any verb."
  ),
  Command.withSubcommands([login, importCommand, list, use, remove, whoami, doctor])
)

/** Help beyond the parser's: summary and examples. */
export const profileHelp: CommandHelp = {
  summary: "Manage profiles: log in, switch, list, remove, check the set-up",
  examples: [
    { command: "olares-cli profile login --olares-id alice@olares.com" },
    { command: "olares-cli profile list" },
    { command: "olares-cli profile use work" },
    { comment: "the version flags go before the verb or after it", command: "olares-cli profile --olares-version 1.12.6 whoami" }
  ]
}
