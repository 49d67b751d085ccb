/** What login and import share: the re-authentication gate, persisting, and the post-login cache fill. */
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { loginConflict } from "../domain/Aliases.js"
import { displayName, lookupByOlaresId, withPointers } from "../domain/ConfigData.js"
import { decodeExpiry } from "../domain/Jwt.js"
import { authUrl, type OlaresId } from "../domain/OlaresId.js"
import {
  currentProfile,
  findByOlaresId,
  type Profile,
  type ProfileConfig,
  upsertProfile
} from "../domain/ProfileConfig.js"
import {
  authUrlOverrideProblem,
  localUrlPrefixProblem,
  quoteUrlValue,
  unsafeProfileUrl
} from "../domain/ProfileUrls.js"
import { loginCommand } from "../domain/Remedies.js"
import { roleLabel } from "../domain/Role.js"
import { showName } from "../domain/Scrub.js"
import { isInvalidated, type StoredToken } from "../domain/StoredToken.js"
import {
  AliasConflict,
  AlreadyAuthenticated,
  ExpiryUnknown,
  grantNotStored,
  InvalidUrlOption,
  ManagedProfileRefused,
  StorageError
} from "../errors.js"
import { HttpAuth } from "../services/HttpAuth.js"
import { KeyStore } from "../services/KeyStore.js"
import type { AuthTarget, TokenGrant } from "../services/OlaresAuthApi.js"
import { ProfileRepo } from "../services/ProfileRepo.js"
import { requireOlaresId } from "./options.js"
import { hasRecord } from "./storedRecord.js"
import { cacheBackendVersion, cacheServerFacts, readOsVersion, readUserInfo } from "./versionCache.js"

/** Flag values that shape the stored profile. */
export interface ProfileFlags {
  readonly name: Option.Option<string>
  readonly authUrlOverride: Option.Option<string>
  readonly localUrlPrefix: Option.Option<string>
  readonly insecureSkipVerify: boolean
}

/**
 * Refuses to overwrite a still-valid token (or one whose expiry cannot be known) of a *configured*
 * profile. Expired, invalidated, unparseable and absent tokens may be replaced, and so may a stray
 * record with no profile in config.json (left by a crash between login's two writes, or a lost
 * config.json): refusing it would lock the user out, since `profile remove` needs a profile. Runs
 * before any prompt or network.
 */
export const ensureWritable = (id: string, cfg: ProfileConfig) =>
  Effect.gen(function*() {
    const ks = yield* KeyStore
    if (Option.isNone(findByOlaresId(cfg, id))) {
      if (yield* hasRecord(id)) {
        yield* Effect.logWarning(`replacing the stray token record for ${id} (it has no profile in config.json)`)
      }
      return
    }
    const stored = yield* ks.get(id)
    if (Option.isNone(stored) || isInvalidated(stored.value)) return
    const exp = decodeExpiry(Redacted.value(stored.value.accessToken))
    if (exp._tag === "NoExp") return yield* Effect.fail(new ExpiryUnknown({ olaresId: id }))
    if (exp._tag === "Exp") {
      const now = yield* Clock.currentTimeMillis
      if (now < exp.expMs) {
        return yield* Effect.fail(new AlreadyAuthenticated({ olaresId: id, remainingMs: exp.expMs - now }))
      }
    }
  })

/** The profile to upsert: the existing one (alias, overrides, caches kept) with the given flags applied. */
export const buildProfile = (existing: Option.Option<Profile>, id: string, flags: ProfileFlags): Profile => {
  const base: Profile = Option.getOrElse(existing, (): Profile => ({ olaresId: id }))
  const set = <K extends "name" | "authUrlOverride" | "localUrlPrefix">(p: Profile, k: K, v: Option.Option<string>) =>
    Option.isSome(v) ? { ...p, [k]: v.value } : p
  let p = set(base, "name", flags.name)
  p = set(p, "authUrlOverride", flags.authUrlOverride)
  p = set(p, "localUrlPrefix", flags.localUrlPrefix)
  return flags.insecureSkipVerify ? { ...p, insecureSkipVerify: true } : p
}

/** What persisting changed about the current profile. */
export interface Activation {
  readonly profile: Profile
  readonly switched: boolean
  readonly previous: string | undefined
}

/** Current-profile bookkeeping after a successful login/import (reference semantics, under the config lock). */
export const activate = (
  cfg0: ProfileConfig,
  profile: Profile,
  noSwitch: boolean
): readonly [Activation, ProfileConfig] => {
  // A new alias renames the profile: pointers that named it by its old display name follow it.
  const oldName = Option.map(findByOlaresId(cfg0, profile.olaresId), displayName)
  const rename = (n: string | undefined) => (Option.contains(oldName, n ?? "") ? displayName(profile) : n)
  const cfg = Option.isSome(oldName) && oldName.value !== displayName(profile)
    ? withPointers(cfg0, rename(cfg0.currentProfile), rename(cfg0.previousProfile))
    : cfg0
  const next = upsertProfile(cfg, profile)
  const name = displayName(profile)
  const prevName = Option.getOrUndefined(Option.map(currentProfile(cfg), displayName))
  if (noSwitch) {
    if (cfg.currentProfile === undefined || cfg.currentProfile === "") {
      // Nothing was pinned: keep whatever was implicitly current, or bootstrap to the new profile.
      return [
        { profile, switched: prevName === undefined, previous: undefined },
        withPointers(next, prevName ?? name, cfg.previousProfile)
      ]
    }
    return [{ profile, switched: false, previous: undefined }, next]
  }
  if (cfg.currentProfile === name) return [{ profile, switched: false, previous: undefined }, next]
  const previous = prevName === name ? cfg.previousProfile : prevName
  return [
    { profile, switched: prevName !== name, previous: prevName === name ? undefined : prevName },
    withPointers(next, name, previous)
  ]
}

/**
 * Writes the token (into the reservation `prepare` took), then upserts the profile and moves the
 * current pointer, all under the config lock. A failure says what was lost and the command that
 * recovers (`relogin`), never "retry": the exchanged credential is spent by now.
 */
export const persist = (
  id: string,
  grant: TokenGrant,
  flags: ProfileFlags,
  noSwitch: boolean,
  relogin: string = loginCommand(id)
) =>
  Effect.gen(function*() {
    const ks = yield* KeyStore
    const repo = yield* ProfileRepo
    const now = yield* Clock.currentTimeMillis
    const token: StoredToken = {
      olaresId: id,
      accessToken: grant.accessToken,
      ...Option.match(grant.refreshToken, { onNone: () => ({}), onSome: (refreshToken) => ({ refreshToken }) }),
      ...Option.match(grant.sessionId, { onNone: () => ({}), onSome: (sessionId) => ({ sessionId }) }),
      grantedAt: now
    }
    // The token is written under the config lock too, so a concurrent `profile remove` can neither
    // delete it between the two writes nor purge the store under a profile being added.
    const stored = yield* Ref.make(false)
    return yield* repo.update((cfg) =>
      Effect.as(
        Effect.zipRight(ks.set(token), Ref.set(stored, true)),
        activate(cfg, buildProfile(findByOlaresId(cfg, id), id, flags), noSwitch)
      )
    ).pipe(
      Effect.catchAll((e) =>
        Effect.flatMap(Ref.get(stored), (done) =>
          Effect.fail(
            done
              ? new StorageError({
                path: repo.path,
                detail: `the new token for ${id} is stored, but config.json could not be updated (${e.message})`,
                hint: `fix that, then run: ${loginCommand(id)}`
              })
              : grantNotStored(id, { message: e.message, ...("path" in e ? { path: e.path } : {}) }, relogin)
          ))
      )
    )
  })

/** Prints the reference's success lines. */
export const reportSuccess = (verbLine: string, id: OlaresId, account: string, a: Activation) =>
  Effect.gen(function*() {
    const name = displayName(a.profile)
    yield* Console.log(`${verbLine} ${id} (profile: ${name})`)
    if (a.switched) {
      yield* Console.log(`switched current profile to ${name}`)
      if (a.previous !== undefined) {
        yield* Console.log(`previous profile: ${showName(a.previous)} (use 'olares-cli profile use -' to switch back)`)
      }
    }
    const backend = yield* KeyStore.pipe(Effect.flatMap((ks) => ks.backend))
    yield* Console.log(`token stored via ${backend} (service "olares-cli", account ${JSON.stringify(account)}).`)
  })

/**
 * Best-effort: fills the role and version caches after login/import. Never fails the command. An
 * `--olares-version` override is cached instead of reading `/api/olares-info`.
 */
export const eagerFetch = (profile: Profile, versionOverride: Option.Option<string> = Option.none()) =>
  Effect.gen(function*() {
    const auth = yield* HttpAuth
    const authed = yield* auth.forProfile(profile)
    yield* readUserInfo(authed, "5 seconds").pipe(
      Effect.flatMap((info) =>
        info.ownerRole === undefined || info.ownerRole === ""
          ? Effect.void
          : Effect.zipRight(
            Console.log(`role: ${roleLabel(info.ownerRole)}`),
            cacheServerFacts(profile.olaresId, { userInfo: Option.some(info), version: Option.none() }).pipe(
              Effect.catchAll((e) => Console.error(`warning: could not cache the role: ${e.message}`))
            )
          )
      ),
      Effect.catchAll((e) =>
        Console.error(
          `warning: post-login role fetch failed: ${e.message}\n         (run \`olares-cli profile whoami --refresh\` later to populate the role cache)`
        )
      )
    )
    const cacheVersion = (v: string) =>
      cacheBackendVersion(profile.olaresId, v).pipe(
        Effect.catchAll((e) => Console.error(`warning: could not cache Olares backend version: ${e.message}`))
      )
    if (Option.isSome(versionOverride)) return yield* cacheVersion(versionOverride.value)
    yield* readOsVersion(authed, "5 seconds").pipe(
      Effect.flatMap(cacheVersion),
      Effect.catchAll((e) => Console.error(`warning: post-login version fetch failed: ${e.message}`))
    )
  }).pipe(Effect.catchAll((e) => Console.error(`warning: skipped post-login fetches: ${e.message}`)))

/** `--local-url-prefix` / `--auth-url-override` as typed usage errors, before anything is read or sent. */
export const checkUrlFlags = (flags: ProfileFlags) =>
  Effect.gen(function*() {
    if (Option.isSome(flags.localUrlPrefix)) {
      const reason = localUrlPrefixProblem(flags.localUrlPrefix.value)
      if (reason !== undefined) {
        return yield* new InvalidUrlOption({
          flag: "--local-url-prefix",
          quoted: quoteUrlValue(flags.localUrlPrefix.value),
          reason
        })
      }
    }
    if (Option.isSome(flags.authUrlOverride)) {
      const reason = authUrlOverrideProblem(flags.authUrlOverride.value)
      if (reason !== undefined) {
        return yield* new InvalidUrlOption({
          flag: "--auth-url-override",
          quoted: quoteUrlValue(flags.authUrlOverride.value),
          reason
        })
      }
    }
  })

/**
 * The profile about to be stored: its name unique against every other name and olaresId, and no
 * unsafe URL kept from an old config.json (the password must not follow `x@evil.example/`).
 */
const checkProfile = (others: ReadonlyArray<Profile>, profile: Profile, newName: boolean) =>
  Effect.gen(function*() {
    const conflict = loginConflict(others, profile, newName)
    if (conflict !== undefined) return yield* new AliasConflict(conflict)
    const unsafe = unsafeProfileUrl(profile)
    if (unsafe !== undefined) return yield* Effect.fail(unsafe)
  })

/** Flags common to login and import. */
export interface CredentialFlags extends ProfileFlags {
  readonly olaresId: Option.Option<string>
  readonly noSwitch: boolean
}

/**
 * The shared prologue: validates `--olares-id`, refuses a still-valid token (before any prompt or
 * network), and derives the profile to upsert and where to authenticate. `reserveStorage` follows
 * it, right before the exchange.
 */
export const prepare = (flags: CredentialFlags, verb: "log in as" | "import credentials for") =>
  Effect.gen(function*() {
    const id = yield* requireOlaresId(flags.olaresId)
    yield* checkUrlFlags(flags)
    const repo = yield* ProfileRepo
    const cfg = yield* repo.load
    // A profile the Go CLI stored under a bare `alice` is this identity too: keep its key (the
    // key-store account), so a re-login updates it instead of adding a twin.
    const account = lookupByOlaresId(cfg, id)?.olaresId ?? id
    const existing = findByOlaresId(cfg, account)
    if (Option.isSome(existing) && existing.value.managed === true) {
      return yield* Effect.fail(
        new ManagedProfileRefused({ verb, olaresId: account, appName: existing.value.appName ?? "" })
      )
    }
    const profile = buildProfile(existing, id, flags)
    yield* checkProfile(cfg.profiles, profile, Option.isSome(flags.name))
    yield* ensureWritable(account, cfg)
    const target: AuthTarget = {
      authUrl: authUrl(id, profile),
      olaresId: id,
      account,
      insecureSkipVerify: profile.insecureSkipVerify === true
    }
    return { id, account, target }
  })

/**
 * Storage that fails after the exchange would lose a grant the server has already rotated: the
 * master key and the record's room are reserved for the rest of the command's scope, then
 * config.json (with its lock) is proven writable. Taken after the password prompt (Ctrl-C there
 * leaves nothing behind) and before any network; the store first, so a broken one writes nothing.
 */
export const reserveStorage = (account: string) =>
  Effect.gen(function*() {
    yield* Effect.flatMap(KeyStore, (ks) => ks.reserve(account))
    yield* Effect.flatMap(
      ProfileRepo,
      (repo) => repo.update((current) => Effect.succeed([undefined, current] as const))
    )
  })

/** The shared epilogue: store, switch, print, and fill the caches best-effort. */
export const complete = (
  verbLine: string,
  id: OlaresId,
  account: string,
  grant: TokenGrant,
  flags: CredentialFlags,
  versionOverride: Option.Option<string>,
  relogin?: string
) =>
  Effect.gen(function*() {
    const activation = yield* persist(account, grant, flags, flags.noSwitch, relogin)
    yield* reportSuccess(verbLine, id, account, activation)
    yield* eagerFetch(activation.profile, versionOverride)
  })
