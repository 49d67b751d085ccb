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

/** What the token store holds for each profile, in config order (unreadable records are not errors here). */
export const readLookups = (cfg: Config) =>
  Effect.flatMap(KeyStore, (ks) =>
    Effect.forEach(cfg.profiles, (p) =>
      ks.get(p.olaresId).pipe(
        Effect.map(lookupOf),
        Effect.orElseSucceed((): StoreLookup => ({ _tag: "Unreadable", reason: "" }))
      )))

/** The rows for already-read lookups (pure, so callers that need the records too read them once). */
export const rowsOf = (cfg: Config, lookups: ReadonlyArray<StoreLookup>, now: number): Array<ProfileRow> => {
  const cur = Option.map(currentProfile(cfg), (p) => p.olaresId)
  return cfg.profiles.map((p, i): ProfileRow => ({
    current: Option.contains(cur, p.olaresId),
    name: displayName(p),
    olaresId: p.olaresId,
    status: tokenStatus(lookups[i] ?? { _tag: "Unreadable", reason: "" }, now),
    version: p.backendVersion !== undefined && p.backendVersion !== "" ? p.backendVersion : null
  }))
}

/** The rows, in config order, with statuses computed locally. */
export const listRows = (cfg: Config) =>
  Effect.zipWith(readLookups(cfg), nowMs, (lookups, now) => rowsOf(cfg, lookups, now))

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
