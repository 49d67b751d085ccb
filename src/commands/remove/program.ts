/** `profile remove` without its command-line definition, so the fast tier can run it without @effect/cli. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { ambiguousKey } from "../../domain/Aliases.js"
import { displayName } from "../../domain/ConfigData.js"
import { parseOlaresId } from "../../domain/OlaresId.js"
import { refreshLockPaths } from "../../domain/Paths.js"
import { findByOlaresId, findProfile, type Profile, removeProfile } from "../../domain/ProfileConfig.js"
import { showName } from "../../domain/Scrub.js"
import { AmbiguousProfile, ManagedProfileRefused, NotATerminal, ProfileNotFound } from "../../errors.js"
import { AppPaths } from "../../services/AppPaths.js"
import { FileLock, lockAll } from "../../services/FileLock.js"
import { KeyStore } from "../../services/KeyStore.js"
import { ProfileRepo } from "../../services/ProfileRepo.js"
import { Prompt } from "../../services/Prompt.js"
import { hasRecord } from "../storedRecord.js"

/** The olaresId `key` names when a token record exists for it (readable or not) although no profile does. */
const strayRecord = (key: string) =>
  Effect.gen(function*() {
    const parsed = parseOlaresId(key)
    if (Either.isLeft(parsed)) return Option.none<string>()
    const id = parsed.right
    return (yield* hasRecord(id)) ? Option.some<string>(id) : Option.none<string>()
  })

/** Removes the profile `key` names (or a stray token record) and its token, asking first unless `yes`. */
export const removeProfileAndToken = (key: string, yes: boolean) =>
  Effect.gen(function*() {
    const repo = yield* ProfileRepo
    const ks = yield* KeyStore
    const prompt = yield* Prompt
    const locks = yield* FileLock
    const paths = yield* AppPaths
    /** Asks first on a terminal; `false` when the user said no. */
    const confirmed = (question: string) =>
      Effect.gen(function*() {
        // --no-input is a promise that nothing asks: a destructive command then needs explicit consent.
        // Without it and without a terminal, remove proceeds, as the reference CLI does for scripts.
        if (!yes && prompt.noInput) {
          return yield* Effect.fail(
            new NotATerminal({
              message: "profile remove asks for confirmation, and --no-input (or OLARES_CLI_NO_INPUT) forbids asking",
              hint: `olares-cli profile remove ${key} --yes`
            })
          )
        }
        if (!yes && prompt.interactive) {
          const ok = yield* prompt.confirm(question, { message: "confirmation needs a terminal", hint: "pass --yes" })
          if (!ok) yield* Console.log("aborted; nothing was removed.")
          return ok
        }
        return true
      })
    // The token also goes under that identity's refresh locks (this home's and the data dir's, in the
    // coordinator's order): a refresh in flight finishes (and writes) first and is then deleted; a
    // later one finds no record. Never the other way round. After the last profile, the store keeps
    // every other record (another config home may share the data dir) and the key they need.
    const removeToken = (id: string) =>
      Effect.scoped(
        Effect.zipRight(lockAll(locks, refreshLockPaths(paths, id), { timeout: "30 seconds" }), ks.remove(id))
      )
    const loaded = yield* repo.load
    // a key that is one profile's alias and another's olaresId (an old config) must never remove the wrong one
    const ambiguous = ambiguousKey(loaded.profiles, key)
    if (ambiguous !== undefined) return yield* Effect.fail(new AmbiguousProfile({ key, ...ambiguous }))
    // The platform's mount is the grant: nothing local to delete, and the next start would re-create it.
    const refuseManaged = (p: Profile) =>
      p.managed === true
        ? Effect.fail(new ManagedProfileRefused({ verb: "remove", olaresId: p.olaresId, appName: p.appName ?? "" }))
        : Effect.void
    const found = findProfile(loaded, key)
    if (Option.isNone(found)) {
      // A token record without a profile (a crash between login's two writes, a lost config.json)
      // would otherwise be unremovable: remove it by its olaresId.
      const stray = yield* strayRecord(key)
      if (Option.isNone(stray)) return yield* Effect.fail(new ProfileNotFound({ key }))
      const id = stray.value
      if (!(yield* confirmed(`remove the stray token record of ${id} (it has no profile)?`))) return
      const gone = yield* repo.update((cfg) =>
        Option.isSome(findByOlaresId(cfg, id))
          ? Effect.succeed([false, cfg] as const) // a login configured it meanwhile: not stray any more
          : Effect.as(removeToken(id), [true, cfg] as const)
      )
      return yield* gone
        ? Console.log(`removed stray token record for ${id} (it had no profile in config.json)`)
        : Effect.fail(new ProfileNotFound({ key }))
    }
    yield* refuseManaged(found.value)
    if (
      !(yield* confirmed(
        `remove profile ${showName(displayName(found.value))} (${showName(found.value.olaresId)}) and its stored token?`
      ))
    ) return
    // The token goes (and, after the last profile, the whole store) under the config lock, so a
    // concurrent login/import of the same or another identity cannot have its fresh token deleted.
    const { cleared, config, purged, removed } = yield* repo.update((cfg) =>
      Either.match(removeProfile(cfg, key), {
        onLeft: (e) => Effect.fail<ProfileNotFound | ManagedProfileRefused>(e),
        onRight: (r) =>
          Effect.gen(function*() {
            yield* refuseManaged(r.removed)
            const cleared = yield* Effect.either(removeToken(r.removed.olaresId))
            const purged = r.config.profiles.length === 0 ? yield* Effect.either(ks.purge) : undefined
            return [{ ...r, cleared, purged }, r.config] as const
          })
      })
    )
    if (Either.isLeft(cleared)) {
      yield* Console.log(`warning: failed to clear stored token for ${removed.olaresId}: ${cleared.left.message}`)
    }
    yield* Console.log(`removed profile ${showName(displayName(removed))} (${showName(removed.olaresId)})`)
    if (config.currentProfile !== undefined) {
      yield* Console.log(`current profile is now: ${showName(config.currentProfile)}`)
    } else if (config.profiles.length === 0) {
      yield* Console.log("no profiles remain.")
      if (purged !== undefined && Either.isRight(purged)) {
        yield* Console.log("cleaned up keychain storage for service \"olares-cli\".")
      } else if (purged !== undefined && Either.isLeft(purged)) {
        yield* Console.log(`warning: failed to purge keychain storage: ${purged.left.message}`)
      }
    }
  })
