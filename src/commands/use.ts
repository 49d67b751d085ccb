/** `profile use <name|olaresId|->`: switch the current profile (`-` swaps back, like `cd -`). */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { displayName, setCurrent } from "../domain/Config.js"
import { ProfileRepo } from "../services/ProfileRepo.js"

const key = Args.text({ name: "name|olaresId|-" }).pipe(
  Args.withDescription("the profile's alias or olaresId, or - for the previous profile")
)

/** The command. */
export const use = Command.make("use", { key }, ({ key }) =>
  Effect.gen(function*() {
    const repo = yield* ProfileRepo
    const profile = yield* repo.update((cfg) =>
      Either.match(setCurrent(cfg, key), {
        onLeft: Effect.fail,
        onRight: ({ config, profile }) => Effect.succeed([profile, config] as const)
      })
    )
    yield* Console.log(`switched to profile ${displayName(profile)} (${profile.olaresId})`)
  })).pipe(
    Command.withDescription(
      "Switch the current profile. Every business verb uses the current profile.\n\n" +
        "Examples:\n  olares-cli profile use alice@olares.com\n  olares-cli profile use work\n  olares-cli profile use -"
    )
  )
