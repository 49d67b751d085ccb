/** `profile whoami`: the active identity, its role and backend version (cached; `--refresh` re-reads). */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { displayName } from "../../domain/ConfigData.js"
import { localPart } from "../../domain/OlaresId.js"
import { showName, showVersion } from "../../domain/Scrub.js"
import type { CommandHelp } from "../../help.js"
import { renderJson, WhoamiJson } from "../../schemas.js"
import { HttpAuth } from "../../services/HttpAuth.js"
import { noInput, output, versionOptions } from "../options.js"
import { resolveVersionFlags, type VersionFlags } from "../profileRoot.js"
import { cacheServerFacts, readOsVersion, readUserInfo } from "../versionCache.js"
import { whoamiDoc, type WhoamiFacts, whoamiText } from "./view.js"

const refresh = Options.boolean("refresh").pipe(
  Options.withDescription(
    "re-read role (/api/backend/v1/user-info) and version (/api/olares-info) from the server and update the cache"
  )
)

const run = (opts: { readonly refresh: boolean; readonly output: "table" | "json" }, version: VersionFlags) =>
  Effect.gen(function*() {
    const authed = yield* Effect.flatMap(HttpAuth, (a) => a.current)
    const id = authed.olaresId
    // config.json's key for this profile: a Go-written bare `alice` stays `alice`
    const key = authed.profile.olaresId
    const nowSec = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    let profile = authed.profile
    const previousRole = profile.ownerRole
    let serverName: string | undefined
    let source: "cache" | "server" = "cache"
    const readRole = opts.refresh || previousRole === undefined || previousRole === ""
    const readVersion = opts.refresh || version.refreshVersion
    const info = readRole ? Option.some(yield* readUserInfo(authed)) : Option.none()
    // `--olares-version` takes the place of the read (validated already, no network)
    const osVersion = !readVersion
      ? Option.none<string>()
      : Option.isSome(version.olaresVersion)
      ? version.olaresVersion
      : Option.some(yield* readOsVersion(authed))
    if (Option.isSome(info)) {
      serverName = info.value.name
      source = "server"
    }
    if (Option.isSome(info) || Option.isSome(osVersion)) {
      const written = yield* cacheServerFacts(key, { userInfo: info, version: osVersion })
      profile = Option.getOrElse(written, () => profile)
    }
    const role = profile.ownerRole
    const changed = source === "server" && previousRole !== undefined && previousRole !== "" && role !== previousRole
    // Everything below may come from an old or hand-edited config.json: shown sanitised and capped.
    const facts: WhoamiFacts = {
      id,
      localPart: localPart(id),
      profileName: showName(displayName(profile)),
      serverName,
      role,
      source,
      refreshedAt: profile.whoamiRefreshedAt,
      nowSec,
      previousRole,
      changed,
      shownVersion: profile.backendVersion !== undefined && profile.backendVersion !== ""
        ? showVersion(profile.backendVersion)
        : undefined
    }
    yield* Console.log(
      opts.output === "json" ? yield* renderJson(WhoamiJson, whoamiDoc(facts)) : whoamiText(facts)
    )
  })

/** `profile whoami [--refresh] [-o table|json]`, before the layers are provided (src/commands/wiring.ts). */
export const whoami = Command.make(
  "whoami",
  { refresh, output, ...versionOptions, noInput },
  (opts) => Effect.flatMap(resolveVersionFlags(opts), (version) => run(opts, version))
).pipe(
  Command.withDescription(
    "Show the active identity: olaresId, role (Owner/Admin/User) and Olares version, from the cache; --refresh re-reads them."
  )
)

/** Help beyond the parser's: summary and examples. */
export const whoamiHelp: CommandHelp = {
  summary: "Show the active identity, its role and Olares version",
  examples: [
    { command: "olares-cli profile whoami" },
    { comment: "ask the server again, for a script", command: "olares-cli profile whoami --refresh -o json" },
    { comment: "re-read only the Olares version", command: "olares-cli profile whoami --refresh-version" }
  ]
}
