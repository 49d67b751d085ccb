/** `profile list` without its command-line definition, so the fast path can run it without @effect/cli. */
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import type { ProfileConfig } from "../../domain/ProfileConfig.js"
import { lookupOf, type StoreLookup, tokenStatus } from "../../domain/StoredToken.js"
import { KeyStore } from "../../services/KeyStore.js"
import { ProfileRepo } from "../../services/ProfileRepo.js"
import { type ProfileRow, profileRows, renderList } from "./view.js"

const unreadable: StoreLookup = { _tag: "Unreadable", reason: "" }

/**
 * What the token store holds for each profile, in config order (unreadable records are not errors
 * here). A hand-edited profile with an empty olaresId has no record to look up: `unknown`.
 */
export const readLookups = (cfg: ProfileConfig) =>
  Effect.flatMap(KeyStore, (ks) =>
    Effect.forEach(cfg.profiles, (p) =>
      p.olaresId === ""
        ? Effect.succeed(unreadable)
        : ks.get(p.olaresId).pipe(Effect.map(lookupOf), Effect.orElseSucceed(() => unreadable))))

/** The rows for already-read lookups (pure, so callers that need the records too read them once). */
export const rowsOf = (cfg: ProfileConfig, lookups: ReadonlyArray<StoreLookup>, now: number): Array<ProfileRow> =>
  profileRows(cfg, lookups.map((l, i) => tokenStatus(l, now, cfg.profiles[i]?.managed === true)))

/** The rows, in config order, with statuses computed locally. */
export const listRows = (cfg: ProfileConfig) =>
  Effect.zipWith(readLookups(cfg), Clock.currentTimeMillis, (lookups, now) => rowsOf(cfg, lookups, now))

/** Reads config.json and the token store and prints the table (or the JSON document). */
export const printList = (output: "table" | "json") =>
  Effect.gen(function*() {
    const cfg = yield* Effect.flatMap(ProfileRepo, (r) => r.load)
    const rows = yield* listRows(cfg)
    yield* Console.log(renderList(rows, output))
  })
