/** `profile whoami`: the active identity, its role and backend version (cached; `--refresh` re-reads). */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { displayName } from "../domain/ConfigData.js"
import { localPart } from "../domain/OlaresId.js"
import { showName, showVersion } from "../domain/Scrub.js"
import type { CommandHelp } from "../help.js"
import { roleForDisplay, roleLabel } from "../olaresInfo.js"
import { renderJson, WhoamiJson } from "../schemas.js"
import { HttpAuth } from "../services/HttpAuth.js"
import { noInput, output, versionOptions } from "./options.js"
import { resolveVersionFlags, type VersionFlags } from "./profileRoot.js"
import { cacheServerFacts, readOsVersion, readUserInfo } from "./versionCache.js"

const refresh = Options.boolean("refresh").pipe(
  Options.withDescription(
    "re-read role (/api/backend/v1/user-info) and version (/api/olares-info) from the server and update the cache"
  )
)

const ago = (secs: number) =>
  secs < 60 ? `${secs}s ago` : secs < 3600 ? `${Math.floor(secs / 60)}m ago` : secs < 86400
    ? `${Math.floor(secs / 3600)}h ago`
    : `${Math.floor(secs / 86400)}d ago`

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
    const refreshedAt = profile.whoamiRefreshedAt
    // Everything below may come from an old or hand-edited config.json: shown sanitised and capped.
    const profileName = showName(displayName(profile))
    const shownVersion = profile.backendVersion !== undefined && profile.backendVersion !== ""
      ? showVersion(profile.backendVersion)
      : undefined
    const doc: WhoamiJson = {
      olaresId: id,
      profile: profileName,
      ...(serverName !== undefined && serverName !== "" ? { name: serverName } : {}),
      ...(role !== undefined && role !== "" ? { role: roleForDisplay(role), roleLabel: roleLabel(role) } : {}),
      source,
      ...(refreshedAt !== undefined ? { refreshedAt, refreshedAgoSecs: Math.max(0, nowSec - refreshedAt) } : {}),
      ...(changed && previousRole !== undefined ? { previousRole: roleForDisplay(previousRole), changed: true } : {}),
      ...(shownVersion !== undefined ? { backendVersion: shownVersion } : {})
    }
    if (opts.output === "json") return yield* Console.log(yield* renderJson(WhoamiJson, doc))
    const who = serverName !== undefined && serverName !== "" && serverName !== localPart(id)
      ? `${id} (name: ${serverName})`
      : id
    yield* Console.log(`${who} — ${roleLabel(role)}`)
    yield* Console.log(
      source === "server"
        ? "fetched just now from /api/backend/v1/user-info"
        : role === undefined || role === ""
        ? "no role cached yet"
        : refreshedAt === undefined
        ? "from cache (no refresh timestamp)"
        : `from cache, refreshed ${ago(Math.max(0, nowSec - refreshedAt))}`
    )
    if (changed) yield* Console.log(`role changed: ${roleLabel(previousRole)} -> ${roleLabel(role)}`)
    yield* Console.log(`profile: ${profileName}   version: ${shownVersion ?? "-"}`)
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
