/** `profile list` (command-line definition): every profile with its locally computed token status and cached version. */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { modifyProfile } from "../domain/Config.js"
import { fetchOsVersion } from "../olaresInfo.js"
import { HttpAuth } from "../services/HttpAuth.js"
import { ProfileRepo } from "../services/ProfileRepo.js"
import { printList } from "./listProgram.js"
import { noInput, nowMs, output, withNetwork } from "./shared.js"
import { withSpinner } from "./spinner.js"

const refreshVersion = Options.boolean("refresh-version").pipe(
  Options.withDescription("re-read the current profile's Olares version from the server before listing")
)

/** Re-reads the current profile's version; failures are a warning, never fatal. */
const refreshCurrentVersion = withNetwork(
  Effect.gen(function*() {
    const authed = yield* Effect.flatMap(HttpAuth, (a) => a.current)
    const v = yield* fetchOsVersion(authed).pipe(withSpinner("reading the Olares version..."))
    const nowSec = Math.floor((yield* nowMs) / 1000)
    const repo = yield* ProfileRepo
    yield* repo.update((cfg) =>
      Effect.succeed([undefined, modifyProfile(cfg, authed.olaresId, (p) => ({ ...p, backendVersion: v, backendVersionRefreshedAt: nowSec }))] as const)
    )
  })
).pipe(Effect.catchAll((e) => Console.error(`warning: could not refresh backend version for the current profile: ${e.message}`)))

/** The command. */
export const list = Command.make("list", { output, refreshVersion, noInput }, (opts) =>
  Effect.gen(function*() {
    if (opts.refreshVersion) yield* refreshCurrentVersion
    yield* printList(opts.output)
  })).pipe(
    Command.withDescription(
      "List every profile: * marks the current one; STATUS is computed locally from the stored token (no network).\n\n" +
        "Examples:\n  olares-cli profile list\n  olares-cli profile list -o json\n  olares-cli profile list --refresh-version"
    )
  )
