/** The `profile` command group. */
import * as Command from "@effect/cli/Command"
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
