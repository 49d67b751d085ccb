/** `profile list` (command-line definition): every profile with its locally computed token status and cached version. */
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { currentProfile } from "../../domain/ProfileConfig.js"
import { NoProfile } from "../../errors.js"
import type { CommandHelp } from "../../help.js"
import { HttpAuth } from "../../services/HttpAuth.js"
import { ProfileRepo } from "../../services/ProfileRepo.js"
import { noInput, output, versionOptions } from "../options.js"
import { resolveVersionFlags } from "../profileRoot.js"
import { cacheBackendVersion, readOsVersion } from "../versionCache.js"
import { printList } from "./program.js"

/** `--olares-version` stands in for detection: cached for the current profile, no network. */
const cacheOverride = (version: string) =>
  Effect.gen(function*() {
    const cfg = yield* Effect.flatMap(ProfileRepo, (r) => r.load)
    const profile = yield* Option.match(currentProfile(cfg), {
      onNone: () => Effect.fail(new NoProfile()),
      onSome: Effect.succeed
    })
    yield* cacheBackendVersion(profile.olaresId, version)
  })

/** Re-reads the current profile's version from the server. */
const fetchCurrentVersion = Effect.gen(function*() {
  const authed = yield* Effect.flatMap(HttpAuth, (a) => a.current)
  const v = yield* readOsVersion(authed)
  yield* cacheBackendVersion(authed.profile.olaresId, v)
})

/** Refreshes the current profile's version; failures are a warning, never fatal. */
const refreshCurrentVersion = (override: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isSome(override)) return yield* cacheOverride(override.value)
    return yield* fetchCurrentVersion
  }).pipe(
    Effect.catchAll((e) =>
      Console.error(`warning: could not refresh backend version for the current profile: ${e.message}`)
    )
  )

/** `profile list [-o table|json] [--refresh-version]`, before the layers are provided (src/commands/wiring.ts). */
export const list = Command.make("list", { output, ...versionOptions, noInput }, (opts) =>
  Effect.gen(function*() {
    const version = yield* resolveVersionFlags(opts)
    if (version.refreshVersion) yield* refreshCurrentVersion(version.olaresVersion)
    yield* printList(opts.output)
  })).pipe(
    Command.withDescription(
      "List every profile: * marks the current one; STATUS is computed locally from the stored token " +
        "(no network): logged-in, expired, invalidated, never, pending, unknown."
    )
  )

/** Help beyond the parser's: summary and examples. */
export const listHelp: CommandHelp = {
  summary: "List profiles with their token status (no network)",
  examples: [
    { command: "olares-cli profile list" },
    { comment: "for scripts: a stable JSON schema", command: "olares-cli profile list -o json" },
    {
      comment: "re-read the current profile's Olares version first",
      command: "olares-cli profile list --refresh-version"
    }
  ]
}
