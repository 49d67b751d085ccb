/** `profile remove <name|olaresId>`: delete a profile and its stored token (this is "logout"). */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import type { CommandHelp } from "../../help.js"
import { noInput, versionOptions } from "../options.js"
import { resolveVersionFlags } from "../profileRoot.js"
import { removeProfileAndToken } from "./program.js"

const key = Args.text({ name: "name|olaresId" }).pipe(Args.withDescription("the profile's alias or olaresId"))
const yes = Options.boolean("yes").pipe(Options.withAlias("y"), Options.withDescription("do not ask for confirmation"))

/** `profile remove <name|olaresId> [--yes]`, before the layers are provided (src/commands/wiring.ts). */
export const remove = Command.make(
  "remove",
  { key, yes, ...versionOptions, noInput },
  ({ key, yes, ...opts }) => Effect.zipRight(resolveVersionFlags(opts), removeProfileAndToken(key, yes))
).pipe(
  Command.withDescription(
    "Delete a profile and its stored token in one step (this is the logout). Asks first on a terminal; " +
      "with --no-input it needs --yes. Removing the last profile also deletes the master key once no " +
      "token record (of any config home sharing the data dir) remains."
  )
)

/** Help beyond the parser's: summary and examples. */
export const removeHelp: CommandHelp = {
  summary: "Delete a profile and its stored token (this is the logout)",
  examples: [
    { command: "olares-cli profile remove alice@olares.com" },
    { comment: "without the question (needed with --no-input)", command: "olares-cli profile remove work --yes" }
  ]
}
