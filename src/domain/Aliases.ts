/**
 * Profile names are unique: an alias may equal no other profile's alias or olaresId (also once a
 * bare name is read as `name@olares.com`, as lookups and `--olares-id` read it), or `use` and
 * `remove` would pick the wrong profile. Plain functions over the config's profiles.
 */
import * as Either from "effect/Either"
import { parseOlaresId } from "./OlaresId.js"

interface Named {
  readonly olaresId: string
  readonly name?: string | undefined
}

// `bob` and `bob@olares.com` are the same key; anything that is not an olaresId compares as typed
const norm = (key: string): string => Either.getOrElse(parseOlaresId(key), () => key).toLowerCase()

const keysOf = (p: Named): Array<{ readonly key: string; readonly as: "olaresId" | "alias" }> => [
  { key: p.olaresId, as: "olaresId" },
  ...(p.name !== undefined && p.name !== "" && p.name !== p.olaresId ? [{ key: p.name, as: "alias" as const }] : [])
]

/** The first other profile whose alias or olaresId equals one of `candidate`'s keys, if any. */
export const nameConflict = (
  profiles: ReadonlyArray<Named>,
  candidate: Named
): { readonly name: string; readonly other: string; readonly as: "olaresId" | "alias" } | undefined => {
  const mine = keysOf(candidate)
  for (const q of profiles) {
    if (q.olaresId === candidate.olaresId) continue
    for (const theirs of keysOf(q)) {
      const hit = mine.find((m) => norm(m.key) === norm(theirs.key))
      if (hit !== undefined) return { name: hit.key, other: q.olaresId, as: theirs.as }
    }
  }
  return undefined
}

/**
 * What a login or import of `profile` may not do: give it a new alias (`newName`) that clashes with
 * any other profile's alias or olaresId, or store it under a display name (the pointer it writes)
 * that another profile's alias already answers to. A clash an older config already holds for this
 * profile's own alias is not re-judged (re-logging in must stay possible).
 */
export const loginConflict = (
  profiles: ReadonlyArray<Named>,
  profile: Named,
  newName: boolean
): { readonly name: string; readonly other: string; readonly as: "olaresId" | "alias" } | undefined => {
  if (newName) {
    const c = nameConflict(profiles, profile)
    if (c !== undefined) return c
  }
  const shown = profile.name !== undefined && profile.name !== "" ? profile.name : profile.olaresId
  const q = profiles.find((q) =>
    q.olaresId !== profile.olaresId && q.name !== undefined && q.name !== "" && norm(q.name) === norm(shown)
  )
  return q === undefined ? undefined : { name: shown, other: q.olaresId, as: "alias" }
}

/** `key` is one profile's alias and another profile's olaresId (a config written before names were checked). */
export const ambiguousKey = (
  profiles: ReadonlyArray<Named>,
  key: string
): { readonly byAlias: string; readonly byOlaresId: string } | undefined => {
  const byAlias = profiles.find((p) => p.name === key)
  const byId = profiles.find((p) => p.olaresId === key)
  return byAlias !== undefined && byId !== undefined && byAlias.olaresId !== byId.olaresId
    ? { byAlias: byAlias.olaresId, byOlaresId: byId.olaresId }
    : undefined
}
