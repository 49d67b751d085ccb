/** `profile list` without its command-line definition, so the fast path can run it without @effect/cli. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import type { Config } from "../domain/Config.js"
import { lookupOf, type StoreLookup, tokenStatus } from "../domain/StoredToken.js"
import { KeyStore } from "../services/KeyStore.js"
import { ProfileRepo } from "../services/ProfileRepo.js"
import { nowMs } from "./clock.js"
import { type ProfileRow, profileRows, renderList } from "./listView.js"

export type { ProfileRow } from "./listView.js"

const unreadable: StoreLookup = { _tag: "Unreadable", reason: "" }

/**
 * What the token store holds for each profile, in config order (unreadable records are not errors
 * here). A hand-edited profile with an empty olaresId has no record to look up: `unknown`.
 */
export const readLookups = (cfg: Config) =>
  Effect.flatMap(KeyStore, (ks) =>
    Effect.forEach(cfg.profiles, (p) =>
      p.olaresId === ""
        ? Effect.succeed(unreadable)
        : ks.get(p.olaresId).pipe(Effect.map(lookupOf), Effect.orElseSucceed(() => unreadable))))

/** The rows for already-read lookups (pure, so callers that need the records too read them once). */
export const rowsOf = (cfg: Config, lookups: ReadonlyArray<StoreLookup>, now: number): Array<ProfileRow> =>
  profileRows(cfg, lookups.map((l, i) => tokenStatus(l, now, cfg.profiles[i]?.managed === true)))

/** The rows, in config order, with statuses computed locally. */
export const listRows = (cfg: Config) =>
  Effect.zipWith(readLookups(cfg), nowMs, (lookups, now) => rowsOf(cfg, lookups, now))

/** Reads config.json and the token store and prints the table (or the JSON document). */
export const printList = (output: "table" | "json") =>
  Effect.gen(function*() {
    const cfg = yield* Effect.flatMap(ProfileRepo, (r) => r.load)
    const rows = yield* listRows(cfg)
    yield* Console.log(renderList(rows, output))
  })
