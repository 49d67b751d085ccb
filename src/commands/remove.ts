/** `profile remove <name|olaresId>`: delete a profile and its stored token (this is "logout"). */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { displayName, findByOlaresId, findProfile, removeProfile } from "../domain/Config.js"
import { parseOlaresId, refreshLockPath } from "../domain/OlaresId.js"
import { NotATerminal, ProfileNotFound } from "../errors.js"
import { AppPaths } from "../services/AppPaths.js"
import { FileLock } from "../services/FileLock.js"
import { KeyStore } from "../services/KeyStore.js"
import { ProfileRepo } from "../services/ProfileRepo.js"
import { Prompt } from "../services/Prompt.js"
import { hasRecord } from "./credentials.js"
import { noInput } from "./shared.js"

const key = Args.text({ name: "name|olaresId" }).pipe(Args.withDescription("the profile's alias or olaresId"))
const yes = Options.boolean("yes").pipe(Options.withAlias("y"), Options.withDescription("do not ask for confirmation"))

/** The olaresId `key` names when a token record exists for it (readable or not) although no profile does. */
const strayRecord = (key: string) =>
  Effect.gen(function*() {
    const parsed = parseOlaresId(key)
    if (Either.isLeft(parsed)) return Option.none<string>()
    const id = parsed.right
    return (yield* hasRecord(id)) ? Option.some<string>(id) : Option.none<string>()
  })

/** The command. */
export const remove = Command.make("remove", { key, yes, noInput }, ({ key, yes }) =>
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
    const removeToken = (id: string) =>
      Effect.scoped(Effect.zipRight(locks.lock(refreshLockPath(paths.locksDir, id), { timeout: "30 seconds" }), ks.remove(id)))
    const found = findProfile(yield* repo.load, key)
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
    if (!(yield* confirmed(`remove profile ${displayName(found.value)} (${found.value.olaresId}) and its stored token?`))) return
    // The token goes (and, after the last profile, the whole store) under the config lock, so a
    // concurrent login/import of the same or another identity cannot have its fresh token deleted.
    // The token also goes under that identity's refresh lock: a refresh in flight finishes (and
    // writes) first and is then deleted; a later one finds no record. Never the other way round.
    const { config, removed, cleared, purged } = yield* repo.update((cfg) =>
      Either.match(removeProfile(cfg, key), {
        onLeft: Effect.fail,
        onRight: (r) =>
          Effect.gen(function*() {
            const cleared = yield* Effect.either(removeToken(r.removed.olaresId))
            const purged = r.config.profiles.length === 0 ? yield* Effect.either(ks.purge) : undefined
            return [{ ...r, cleared, purged }, r.config] as const
          })
      })
    )
    if (Either.isLeft(cleared)) {
      yield* Console.log(`warning: failed to clear stored token for ${removed.olaresId}: ${cleared.left.message}`)
    }
    yield* Console.log(`removed profile ${displayName(removed)} (${removed.olaresId})`)
    if (config.currentProfile !== undefined) {
      yield* Console.log(`current profile is now: ${config.currentProfile}`)
    } else if (config.profiles.length === 0) {
      yield* Console.log("no profiles remain.")
      if (purged !== undefined && Either.isRight(purged)) {
        yield* Console.log("cleaned up keychain storage for service \"olares-cli\".")
      } else if (purged !== undefined && Either.isLeft(purged)) {
        yield* Console.log(`warning: failed to purge keychain storage: ${purged.left.message}`)
      }
    }
  })).pipe(
    Command.withDescription(
      "Delete a profile and its stored token in one step (this is the logout). Asks first on a terminal; " +
        "with --no-input it needs --yes. Removing the last profile wipes the token store.\n\n" +
        "Examples:\n  olares-cli profile remove alice@olares.com\n  olares-cli profile remove work --yes"
    )
  )
