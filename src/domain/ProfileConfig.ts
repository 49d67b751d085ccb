/**
 * `config.json`: the non-secret profile list, byte-compatible with the Go olares-cli. Pure
 * operations only; reading, locking and atomic writing live in the ProfileRepo layer.
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { NoPreviousProfile, ProfileNotFound } from "../errors.js"
import {
  activeProfile,
  displayName,
  type FieldKind,
  lookupProfile,
  PROFILE_FIELDS,
  PROFILE_KEY,
  type ProfileFieldKinds,
  switchCurrent,
  withPointers
} from "./ConfigData.js"
import { parseJsonBounded } from "./JsonSchema.js"

/** Keys written by the Go CLI that we do not model are kept as they are. */
const Rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const kindSchema = { string: Schema.String, boolean: Schema.Boolean, int: Schema.Int } as const
type KindSchema = typeof kindSchema

/** The modelled fields of ConfigData's table as Schemas: the key required, every other one optional. */
type ProfileFields = {
  readonly [F in keyof ProfileFieldKinds]: F extends typeof PROFILE_KEY ? KindSchema[ProfileFieldKinds[F]]
    : Schema.optional<KindSchema[ProfileFieldKinds[F]]>
}

const profileFields = Object.fromEntries(
  Object.entries<FieldKind>(PROFILE_FIELDS).map((
    [field, kind]
  ) => [field, field === PROFILE_KEY ? kindSchema[kind] : Schema.optional(kindSchema[kind])])
) as unknown as ProfileFields

/** One profile: one Olares instance + one identity (its fields are ConfigData's `PROFILE_TABLE`). */
export const Profile = Schema.Struct(profileFields, Rest)
/** One profile: one Olares instance + one identity. */
export type Profile = typeof Profile.Type

/** The whole file. An empty or missing file is the empty config. */
export const ProfileConfig = Schema.Struct(
  {
    currentProfile: Schema.optional(Schema.String),
    previousProfile: Schema.optional(Schema.String),
    profiles: Schema.optionalWith(Schema.Array(Profile), { default: () => [] })
  },
  Rest
)
/** The whole file. */
export type ProfileConfig = typeof ProfileConfig.Type

/** The empty config. */
export const emptyConfig: ProfileConfig = { profiles: [] }

const decodeConfigEither = Schema.decodeUnknownEither(parseJsonBounded(ProfileConfig))

/** Parses file text (bounded JSON); empty text is the empty config. Errors carry the schema's explanation. */
export const parseConfig = (text: string): Either.Either<ProfileConfig, string> =>
  text.trim() === "" ? Either.right(emptyConfig) : Either.mapLeft(decodeConfigEither(text), (e) => e.message)

/** Alias first, then olaresId. */
export const findProfile = (cfg: ProfileConfig, key: string): Option.Option<Profile> =>
  Option.fromNullable(lookupProfile(cfg, key))

/** Exact olaresId match. */
export const findByOlaresId = (cfg: ProfileConfig, id: string): Option.Option<Profile> =>
  Option.fromNullable(cfg.profiles.find((p) => p.olaresId === id))

/** The active profile: `currentProfile`, or the first profile when none is set. */
export const currentProfile = (cfg: ProfileConfig): Option.Option<Profile> => Option.fromNullable(activeProfile(cfg))

/** Inserts or replaces (by olaresId, order kept). */
export const upsertProfile = (cfg: ProfileConfig, p: Profile): ProfileConfig => {
  const i = cfg.profiles.findIndex((q) => q.olaresId === p.olaresId)
  const profiles = i < 0 ? [...cfg.profiles, p] : cfg.profiles.map((q, j) => (j === i ? p : q))
  return { ...cfg, profiles }
}

/** Applies an edit to the profile with this olaresId, if it is there. */
export const modifyProfile = (cfg: ProfileConfig, id: string, f: (p: Profile) => Profile): ProfileConfig => ({
  ...cfg,
  profiles: cfg.profiles.map((p) => (p.olaresId === id ? f(p) : p))
})

/** `profile use <key>` / `profile use -`: the new config and the selected profile. */
export const setCurrent = (
  cfg: ProfileConfig,
  key: string
): Either.Either<
  { readonly config: ProfileConfig; readonly profile: Profile },
  ProfileNotFound | NoPreviousProfile
> => {
  const r = switchCurrent(cfg, key)
  switch (r._tag) {
    case "Switched":
      return Either.right({ config: r.config, profile: r.profile })
    case "NoPrevious":
      return Either.left(new NoPreviousProfile())
    case "NotFound":
      return Either.left(new ProfileNotFound({ key: r.key }))
  }
}

/** `profile remove <key>`: drops the profile; current falls back to previous, else the first remaining. */
export const removeProfile = (
  cfg: ProfileConfig,
  key: string
): Either.Either<{ readonly config: ProfileConfig; readonly removed: Profile }, ProfileNotFound> => {
  const found = findProfile(cfg, key)
  if (Option.isNone(found)) return Either.left(new ProfileNotFound({ key }))
  const removed = found.value
  const removedName = displayName(removed)
  const profiles = cfg.profiles.filter((p) => p.olaresId !== removed.olaresId)
  const rest: ProfileConfig = { ...cfg, profiles }
  const stillThere = (name: string | undefined) =>
    name !== undefined && name !== "" && name !== removedName && Option.isSome(findProfile(rest, name))
  const wasCurrent = Option.exists(currentProfile(cfg), (p) => p.olaresId === removed.olaresId)
  let currentName = cfg.currentProfile
  let previousName = stillThere(cfg.previousProfile) ? cfg.previousProfile : undefined
  if (wasCurrent) {
    if (previousName !== undefined) {
      currentName = previousName
      previousName = undefined
    } else {
      currentName = profiles[0] === undefined ? undefined : displayName(profiles[0])
    }
  } else if (!stillThere(currentName)) {
    currentName = undefined
  }
  return Either.right({ config: withPointers(rest, currentName, previousName), removed })
}
