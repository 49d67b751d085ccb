/**
 * `config.json` as plain data: the profile fields and their types, a strict decoder written without
 * Effect, and the pure operations `profile list` and `profile use` need. The start-up quick path
 * (src/startup/quick.ts) runs on this module alone; Config.ts wraps the same operations in `Option`/`Either`
 * next to the `Schema`, which stays the authority: `decodeConfigStrict` only ever accepts a subset of
 * what `Config` decodes, to the same value (a property test checks both directions).
 */

import { parseJson } from "./Json.js"

/** How a profile field is typed in `Config.Profile`. */
export type FieldKind = "string" | "boolean" | "int"

/**
 * The profile's fields, in the reference's order (the order config.json is written in), each with
 * its type: the Schema (Config.ts), the plain decoder and the writer are all built from this one
 * table, so a new field is one line here. `olaresId` is the only required one (the profile's key).
 * `kept` fields are the reference's that we do not model: read as any JSON and written back in
 * their place.
 */
export const PROFILE_TABLE = {
  name: "string",
  olaresId: "string",
  userUid: "string",
  authUrlOverride: "string",
  localUrlPrefix: "string",
  insecureSkipVerify: "boolean",
  ownerRole: "string",
  whoamiRefreshedAt: "int",
  clusterContext: "kept",
  clusterContextRefreshedAt: "kept",
  backendVersion: "string",
  backendVersionRefreshedAt: "int",
  managed: "boolean",
  appName: "string"
} as const satisfies Readonly<Record<string, FieldKind | "kept">>

type Table = typeof PROFILE_TABLE

/** The modelled fields (every field but the `kept` ones) and their kinds. */
export type ProfileFieldKinds = {
  readonly [F in keyof Table as Table[F] extends FieldKind ? F : never]: Extract<Table[F], FieldKind>
}

/** Every modelled profile field and its type (the table without its `kept` fields). */
export const PROFILE_FIELDS = Object.fromEntries(
  Object.entries(PROFILE_TABLE).filter(([, kind]) => kind !== "kept")
) as ProfileFieldKinds

/** The field everything else is looked up by: required, and never omitted when empty. */
export const PROFILE_KEY = "olaresId" satisfies keyof ProfileFieldKinds

/** One profile as far as the plain operations look into it; other fields ride along untouched. */
export interface ProfileData {
  readonly name?: string | undefined
  readonly olaresId: string
  readonly backendVersion?: string | undefined
  readonly [field: string]: unknown
}

/** The whole file as far as the plain operations look into it. */
export interface ConfigData {
  readonly currentProfile?: string | undefined
  readonly previousProfile?: string | undefined
  readonly profiles: ReadonlyArray<ProfileData>
  readonly [field: string]: unknown
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !Object.hasOwn(v, "__proto__")

const hasKind = (v: unknown, kind: FieldKind): boolean =>
  kind === "string" ? typeof v === "string" : kind === "boolean" ? typeof v === "boolean" : Number.isSafeInteger(v)

/** A profile the quick path can serve: the Schema's types, and an olaresId to look its token up by. */
const isProfile = (v: unknown): v is ProfileData => {
  if (!isObject(v) || typeof v.olaresId !== "string" || v.olaresId === "") return false
  for (const [field, kind] of Object.entries<FieldKind>(PROFILE_FIELDS)) {
    if (Object.hasOwn(v, field) && !hasKind(v[field], kind)) return false
  }
  return true
}

const optionalString = (o: Record<string, unknown>, field: string) =>
  !Object.hasOwn(o, field) || typeof o[field] === "string"

/**
 * Decodes config.json text without Effect: the config, or `undefined` whenever the text is anything
 * but plainly valid (then the caller defers to `Config.parseConfig`, which explains the problem).
 * Empty text is the empty config, as in `parseConfig`.
 */
export const decodeConfigStrict = (text: string): ConfigData | undefined => {
  if (text.trim() === "") return { profiles: [] }
  const parsed = parseJson(text)
  if (!parsed.ok) return undefined
  const json = parsed.value
  if (!isObject(json) || !optionalString(json, "currentProfile") || !optionalString(json, "previousProfile")) {
    return undefined
  }
  if (!Object.hasOwn(json, "profiles")) return { ...json, profiles: [] }
  const profiles = json.profiles
  return Array.isArray(profiles) && profiles.every(isProfile) ? { ...json, profiles } : undefined
}

/** The reference's field order; unknown fields follow in the order they were read. */
const PROFILE_ORDER = Object.keys(PROFILE_TABLE)

const isEmpty = (v: unknown) => v === undefined || v === "" || v === 0 || v === false || v === null

const ordered = (obj: Record<string, unknown>, order: ReadonlyArray<string>, keep: ReadonlyArray<string> = []) => {
  const out: Record<string, unknown> = {}
  for (const k of order) if (k in obj && (keep.includes(k) || !isEmpty(obj[k]))) out[k] = obj[k]
  for (const k of Object.keys(obj)) if (!order.includes(k) && obj[k] !== undefined) out[k] = obj[k]
  return out
}

/** Serialises as the reference does: 2-space indent, known fields in order, empty ones omitted, no trailing newline. */
export const serializeConfig = (cfg: ConfigData): string => {
  const profiles = cfg.profiles.map((p) => ordered(p, PROFILE_ORDER, [PROFILE_KEY]))
  const top = ordered({ ...cfg, profiles: profiles.length === 0 ? undefined : profiles }, [
    "currentProfile",
    "previousProfile",
    "profiles"
  ])
  return JSON.stringify(top, null, 2)
}

/** The name shown and stored in `currentProfile`: the alias if set, else the olaresId. */
export const displayName = (p: ProfileData): string => (p.name !== undefined && p.name !== "" ? p.name : p.olaresId)

/** The domain a bare `alice` belongs to (as in OlaresId.ts, which this plain module cannot import). */
const DEFAULT_DOMAIN = "olares.com"

/**
 * The olaresId a key means, as `login --olares-id` reads it: a bare `alice` is `alice@olares.com`.
 * Only for matching (white space is not trimmed: a key with a stray space matches nothing): the Go
 * CLI stores a bare id verbatim, and so do we when we find one (it is the key-store account).
 */
export const canonicalOlaresId = (raw: string): string =>
  raw === "" || raw.includes("@") ? raw : `${raw}@${DEFAULT_DOMAIN}`

/** The profile whose olaresId is `id`, exactly, else the one that means the same id (`alice` = `alice@olares.com`). */
export const lookupByOlaresId = <P extends ProfileData>(
  cfg: { readonly profiles: ReadonlyArray<P> },
  id: string
): P | undefined => {
  if (id === "") return undefined
  const exact = cfg.profiles.find((p) => p.olaresId === id)
  if (exact !== undefined) return exact
  const canonical = canonicalOlaresId(id)
  return canonical === "" ? undefined : cfg.profiles.find((p) => canonicalOlaresId(p.olaresId) === canonical)
}

/**
 * Alias first, then olaresId (exactly, then as `login` reads it, so `use bob` finds the profile
 * `login --olares-id bob` stored as bob@olares.com); `undefined` when nothing matches.
 */
export const lookupProfile = <P extends ProfileData>(
  cfg: { readonly profiles: ReadonlyArray<P> },
  key: string
): P | undefined => key === "" ? undefined : cfg.profiles.find((p) => p.name === key) ?? lookupByOlaresId(cfg, key)

/** The active profile: `currentProfile`, or the first profile when none is set. */
export const activeProfile = <P extends ProfileData>(
  cfg: { readonly currentProfile?: string | undefined; readonly profiles: ReadonlyArray<P> }
): P | undefined =>
  cfg.currentProfile === undefined || cfg.currentProfile === ""
    ? cfg.profiles[0]
    : lookupProfile(cfg, cfg.currentProfile)

/** Sets (or, for undefined/empty, drops) the current and previous pointers. */
export const withPointers = <C extends ConfigData>(
  cfg: C,
  current: string | undefined,
  previous: string | undefined
): C => {
  const { currentProfile: _c, previousProfile: _p, ...rest } = cfg
  return {
    ...rest,
    ...(current === undefined || current === "" ? {} : { currentProfile: current }),
    ...(previous === undefined || previous === "" ? {} : { previousProfile: previous })
  } as unknown as C
}

/** What `profile use <key>` / `profile use -` does to a config. */
export type Switch<C extends ConfigData> =
  | { readonly _tag: "Switched"; readonly config: C; readonly profile: C["profiles"][number] }
  | { readonly _tag: "NoPrevious" }
  | { readonly _tag: "NotFound"; readonly key: string }

/** `profile use <key>` / `profile use -`: the new config and the selected profile (the config is returned as is when nothing changes). */
export const switchCurrent = <C extends ConfigData>(cfg: C, key: string): Switch<C> => {
  let target = key
  if (key === "-") {
    if (cfg.previousProfile === undefined || cfg.previousProfile === "") return { _tag: "NoPrevious" }
    target = cfg.previousProfile
  }
  const profile = lookupProfile(cfg, target)
  if (profile === undefined) return { _tag: "NotFound", key: target }
  const name = displayName(profile)
  // The reference's SetCurrent: the pointer as written becomes previous, so a first `use` with no
  // current profile pinned leaves no previous one (the implicit first profile is not remembered).
  if (cfg.currentProfile === name) return { _tag: "Switched", config: cfg, profile }
  return { _tag: "Switched", config: withPointers(cfg, name, cfg.currentProfile), profile }
}

/** The `SOURCE` cell of `profile list`: `local`, or `platform(<app>)` for a platform-issued profile (`platform` without an app). */
export const sourceOf = (p: ProfileData): string =>
  p.managed === true
    ? (typeof p.appName === "string" && p.appName !== "" ? `platform(${p.appName})` : "platform")
    : "local"
