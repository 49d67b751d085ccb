/** `profile list`: every profile with its locally computed token status and cached version. */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type Config, currentProfile, displayName, modifyProfile } from "../domain/Config.js"
import { type StoreLookup, tokenStatus, type TokenStatus } from "../domain/StoredToken.js"
import { HttpAuth } from "../services/HttpAuth.js"
import { KeyStore } from "../services/KeyStore.js"
import { ProfileRepo } from "../services/ProfileRepo.js"
import { fetchOsVersion } from "../olaresInfo.js"
import { output, withNetwork, nowMs } from "./shared.js"
import { renderTable } from "./table.js"
import { paintStatus } from "./style.js"

const refreshVersion = Options.boolean("refresh-version").pipe(
  Options.withDescription("re-read the current profile's Olares version from the server before listing")
)

/** One row of `profile list -o json` (stable schema, documented in the README). */
export interface ProfileRow {
  readonly current: boolean
  readonly name: string
  readonly olaresId: string
  readonly status: TokenStatus
  readonly version: string | null
}

/** The rows, in config order, with statuses computed locally. */
export const listRows = (cfg: Config) =>
  Effect.gen(function*() {
    const ks = yield* KeyStore
    const now = yield* nowMs
    const cur = Option.map(currentProfile(cfg), (p) => p.olaresId)
    return yield* Effect.forEach(cfg.profiles, (p) =>
      ks.get(p.olaresId).pipe(
        Effect.map((o): StoreLookup => Option.match(o, { onNone: () => ({ _tag: "Missing" }), onSome: (token) => ({ _tag: "Found", token }) })),
        Effect.orElseSucceed((): StoreLookup => ({ _tag: "Unreadable", reason: "" })),
        Effect.map((lookup): ProfileRow => ({
          current: Option.contains(cur, p.olaresId),
          name: displayName(p),
          olaresId: p.olaresId,
          status: tokenStatus(lookup, now),
          version: p.backendVersion !== undefined && p.backendVersion !== "" ? p.backendVersion : null
        }))
      ))
  })

/** Re-reads the current profile's version; failures are a warning, never fatal. */
const refreshCurrentVersion = withNetwork(
  Effect.gen(function*() {
    const authed = yield* Effect.flatMap(HttpAuth, (a) => a.current)
    const v = yield* fetchOsVersion(authed)
    const nowSec = Math.floor((yield* nowMs) / 1000)
    const repo = yield* ProfileRepo
    yield* repo.update((cfg) =>
      Effect.succeed([undefined, modifyProfile(cfg, authed.olaresId, (p) => ({ ...p, backendVersion: v, backendVersionRefreshedAt: nowSec }))] as const)
    )
  })
).pipe(Effect.catchAll((e) => Console.error(`warning: could not refresh backend version for the current profile: ${e.message}`)))

/** The command. */
export const list = Command.make("list", { output, refreshVersion }, (opts) =>
  Effect.gen(function*() {
    if (opts.refreshVersion) yield* refreshCurrentVersion
    const cfg = yield* Effect.flatMap(ProfileRepo, (r) => r.load)
    const rows = yield* listRows(cfg)
    if (opts.output === "json") {
      return yield* Console.log(JSON.stringify({ profiles: rows }, null, 2))
    }
    if (rows.length === 0) {
      yield* Console.log("no profiles configured.")
      return yield* Console.log(
        "run `olares-cli profile login --olares-id <id>` or `olares-cli profile import --olares-id <id> --refresh-token <tok>` to add one."
      )
    }
    const table = renderTable(
      [
        ["  ", "NAME", "OLARES-ID", "STATUS", "VERSION"],
        ...rows.map((r) => [r.current ? "*" : " ", r.name, r.olaresId, r.status, r.version ?? "-"])
      ],
      (row, col, cell) => (row > 0 && col === 3 ? paintStatus(rows[row - 1]!.status, cell) : cell)
    )
    yield* Console.log(table)
  })).pipe(
    Command.withDescription(
      "List every profile: * marks the current one; STATUS is computed locally from the stored token (no network).\n\n" +
        "Examples:\n  olares-cli profile list\n  olares-cli profile list -o json\n  olares-cli profile list --refresh-version"
    )
  )
