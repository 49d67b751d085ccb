/** `profile use` without its command-line definition, so the fast path can run it without @effect/cli. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { displayName } from "../../domain/ConfigData.js"
import { setCurrent } from "../../domain/ProfileConfig.js"
import { ProfileRepo } from "../../services/ProfileRepo.js"
import { switchedLine } from "../list/view.js"

/** Switches the current profile under the config lock and prints the confirmation. */
export const switchProfile = (key: string) =>
  Effect.gen(function*() {
    const repo = yield* ProfileRepo
    const profile = yield* repo.update((cfg) =>
      Either.match(setCurrent(cfg, key), {
        onLeft: Effect.fail,
        onRight: ({ config, profile }) => Effect.succeed([profile, config] as const)
      })
    )
    yield* Console.log(switchedLine(displayName(profile), profile.olaresId))
  })
