/** `profile list` without its command-line definition, so the fast path can run it without @effect/cli. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type Config, currentProfile, displayName } from "../domain/Config.js"
import { lookupOf, type StoreLookup, tokenStatus, type TokenStatus } from "../domain/StoredToken.js"
import { KeyStore } from "../services/KeyStore.js"
import { ProfileRepo } from "../services/ProfileRepo.js"
import { nowMs } from "./clock.js"
import { paintStatus } from "./style.js"
import { renderTable } from "./table.js"

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
        Effect.map(lookupOf),
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

/** Reads config.json and the token store and prints the table (or the JSON document). */
export const printList = (output: "table" | "json") =>
  Effect.gen(function*() {
    const cfg = yield* Effect.flatMap(ProfileRepo, (r) => r.load)
    const rows = yield* listRows(cfg)
    if (output === "json") {
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
  })
