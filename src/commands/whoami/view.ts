/**
 * What `profile whoami` prints, as plain functions (no Effect imports) shared by whoami/index.ts and the
 * start-up quick path (src/startup/quick.ts), so both print byte-identical output.
 */
import { roleForDisplay, roleLabel } from "../../domain/Role.js"
import type { WhoamiJson } from "../../schemas.js"

/** What the report is made of, already sanitised where config.json could hold anything. */
export interface WhoamiFacts {
  /** The parsed olaresId. */
  readonly id: string
  /** The local part of `id` (a server name equal to it is not repeated). */
  readonly localPart: string
  /** The profile's display name, sanitised and capped. */
  readonly profileName: string
  /** The user name the server reported (only after a server read). */
  readonly serverName: string | undefined
  readonly role: string | undefined
  readonly source: "cache" | "server"
  readonly refreshedAt: number | undefined
  readonly nowSec: number
  /** The role cached before a server read changed it. */
  readonly previousRole: string | undefined
  readonly changed: boolean
  /** The backend version, sanitised; undefined when none is cached. */
  readonly shownVersion: string | undefined
}

const ago = (secs: number) =>
  secs < 60 ? `${secs}s ago` : secs < 3600 ? `${Math.floor(secs / 60)}m ago` : secs < 86400
    ? `${Math.floor(secs / 3600)}h ago`
    : `${Math.floor(secs / 86400)}d ago`

/** `profile whoami -o json`'s document (before the schema's encoding, which keeps it as it is). */
export const whoamiDoc = (f: WhoamiFacts): WhoamiJson => ({
  olaresId: f.id,
  profile: f.profileName,
  ...(f.serverName !== undefined && f.serverName !== "" ? { name: f.serverName } : {}),
  ...(f.role !== undefined && f.role !== "" ? { role: roleForDisplay(f.role), roleLabel: roleLabel(f.role) } : {}),
  source: f.source,
  ...(f.refreshedAt !== undefined
    ? { refreshedAt: f.refreshedAt, refreshedAgoSecs: Math.max(0, f.nowSec - f.refreshedAt) }
    : {}),
  ...(f.changed && f.previousRole !== undefined ? { previousRole: roleForDisplay(f.previousRole), changed: true } : {}),
  ...(f.shownVersion !== undefined ? { backendVersion: f.shownVersion } : {})
})

/** The human report (without the final newline). */
export const whoamiText = (f: WhoamiFacts): string => {
  const who = f.serverName !== undefined && f.serverName !== "" && f.serverName !== f.localPart
    ? `${f.id} (name: ${f.serverName})`
    : f.id
  const origin = f.source === "server"
    ? "fetched just now from /api/backend/v1/user-info"
    : f.role === undefined || f.role === ""
    ? "no role cached yet"
    : f.refreshedAt === undefined
    ? "from cache (no refresh timestamp)"
    : `from cache, refreshed ${ago(Math.max(0, f.nowSec - f.refreshedAt))}`
  return [
    `${who} — ${roleLabel(f.role)}`,
    origin,
    ...(f.changed ? [`role changed: ${roleLabel(f.previousRole)} -> ${roleLabel(f.role)}`] : []),
    `profile: ${f.profileName}   version: ${f.shownVersion ?? "-"}`
  ].join("\n")
}
