/**
 * The start-up import of a platform-mounted credential (the Go CLI's `ImportManagedCredential`):
 * before any command, a container whose platform mounted `credential.json` gets (or keeps) a profile
 * marked `managed` for that identity. A new entry, or a hand-made profile taken over (alias,
 * overrides and TLS kept), exchanges the mounted refresh token at once; an existing managed entry
 * only has its `appName` reconciled, with no network. Nothing here can fail the command: problems
 * are a debug line (`OLARES_CLI_DEBUG`) or, for a save that fails or an unusable grant, a warning.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { DEBUG_PREFIX, type ManagedCredential } from "./domain/ManagedCredential.js"
import { authUrl, parseOlaresId } from "./domain/OlaresId.js"
import { findByOlaresId, type Profile, upsertProfile } from "./domain/ProfileConfig.js"
import { isDebug } from "./output.js"
import { KeyStore } from "./services/KeyStore.js"
import { ManagedMount } from "./services/ManagedMount.js"
import type { AuthTarget } from "./services/OlaresAuthApi.js"
import { ProfileRepo } from "./services/ProfileRepo.js"
import { RefreshCoordinator } from "./services/RefreshCoordinator.js"

/** The reference's debug line about the mount: stderr, only under `OLARES_CLI_DEBUG`. */
const debug = (text: string) => (isDebug() ? Console.error(`${DEBUG_PREFIX}${text}`) : Effect.void)

/** Writes the managed entry into the current config.json (under the lock); a failure only warns. */
const save = (edit: (cfg: Parameters<typeof upsertProfile>[0]) => Parameters<typeof upsertProfile>[0]) =>
  Effect.flatMap(ProfileRepo, (repo) => repo.update((cfg) => Effect.succeed([undefined, edit(cfg)] as const))).pipe(
    Effect.catchAll((e) => Console.error(`warning: cannot persist the platform-issued profile: ${e.message}`))
  )

/**
 * One exchange through the context's coordinator (the CLI gives one that loads the network layers
 * only now that a mount needs them: src/commands/wiring.ts).
 */
const exchange = (target: AuthTarget, current: Redacted.Redacted<string>) =>
  Effect.flatMap(RefreshCoordinator, (c) => c.refresh(target, current))

/** Marks a profile platform-issued for `app`, keeping everything else it holds. */
const asManaged = (p: Profile, app: string): Profile => ({ ...p, managed: true, appName: app })

/**
 * Leaves the store holding what a managed profile may hold: a record a manual login left for this
 * id is deleted (it would sit unreadable by any path and unremovable, since `remove` refuses managed
 * profiles); a grant the server refused is remembered as a stamped empty managed record.
 */
const adoptTokenEntry = (account: string, deadAt: Option.Option<number>) =>
  Effect.gen(function*() {
    const store = yield* KeyStore
    const stored = yield* store.get(account)
    if (Option.isSome(stored) && stored.value.managed !== true) yield* store.remove(account)
    if (Option.isSome(deadAt)) {
      // `set` clears the marker by design, so it is stamped in a second step
      yield* store.set({ olaresId: account, accessToken: Redacted.make(""), managed: true })
      yield* store.markInvalidated(account, deadAt.value)
    }
  }).pipe(Effect.catchAll((e) => debug(`cannot adopt the token entry of ${account}: ${e.message}`)))

/** A new managed entry (or a hand-made profile taken over): exchange the mount now, then save. */
const firstImport = (cred: ManagedCredential, existing: Option.Option<Profile>) =>
  Effect.gen(function*() {
    const account = cred.olaresId
    const profile = asManaged(Option.getOrElse(existing, (): Profile => ({ olaresId: account })), cred.appName)
    const parsed = parseOlaresId(account)
    if (Either.isLeft(parsed)) return yield* debug(`cannot derive auth URL for ${account}: ${parsed.left.message}`)
    const id = parsed.right
    const stored = yield* Effect.flatMap(KeyStore, (ks) => ks.get(account)).pipe(
      Effect.orElseSucceed(() => Option.none())
    )
    // Passing what is stored stops the coordinator from taking a pre-existing token for a
    // concurrent refresh and skipping the exchange.
    const current = Option.match(stored, { onNone: () => Redacted.make(""), onSome: (t) => t.accessToken })
    const target: AuthTarget = {
      authUrl: authUrl(id, profile),
      olaresId: id,
      account,
      insecureSkipVerify: profile.insecureSkipVerify === true,
      managed: { appName: cred.appName, refreshToken: Option.some(cred.refreshToken) }
    }
    const exchanged = yield* exchange(target, current).pipe(Effect.either)
    let deadAt = Option.none<number>()
    if (Either.isLeft(exchanged)) {
      const e = exchanged.left
      // A first-factor grant would 401 everywhere: no entry at all is better than that one.
      if (e._tag === "ManagedNotSecondFactor") return yield* Console.error(`warning: ${e.message}`)
      if (e._tag === "TokenInvalidated") deadAt = Option.some(e.invalidatedAt)
      // Dead or transient, the entry is still created so `profile list` can say which.
      yield* debug(`initial refresh for ${account} failed: ${e.message}`)
    }
    yield* adoptTokenEntry(account, deadAt)
    yield* save((cfg) =>
      upsertProfile(cfg, asManaged(Option.getOrElse(findByOlaresId(cfg, account), () => profile), cred.appName))
    )
  })

/** Runs once before every command: a no-op unless `OLARES_CLI_CREDENTIALS_DIR` holds a grant. */
export const importManagedCredential = Effect.gen(function*() {
  const mount = yield* Effect.serviceOption(ManagedMount)
  if (Option.isNone(mount)) return
  const state = yield* mount.value.load
  if (state._tag === "Unset") return
  if (state._tag === "Invalid") return yield* debug(state.reason)
  const cred = state.credential
  const cfg = yield* Effect.flatMap(ProfileRepo, (r) => r.load).pipe(Effect.either)
  // A config.json we cannot parse is the user's to fix: overwriting it would destroy profiles.
  if (Either.isLeft(cfg)) return yield* debug(`cannot read config: ${cfg.left.message}`)
  const existing = findByOlaresId(cfg.right, cred.olaresId)
  if (Option.isSome(existing) && existing.value.managed === true) {
    // The steady state: no network; a token that needs rotating is rotated by the call that gets a 401.
    if (existing.value.appName === cred.appName) return
    return yield* save((c) =>
      upsertProfile(
        c,
        asManaged(Option.getOrElse(findByOlaresId(c, cred.olaresId), () => existing.value), cred.appName)
      )
    )
  }
  yield* firstImport(cred, existing)
})
