/**
 * What `profile list` prints, as plain functions (no Effect imports) shared by list/program.ts and
 * the start-up quick path (src/startup/quick.ts), so both print byte-identical output.
 */
import { activeProfile, type ConfigData, displayName, sourceOf } from "../../domain/ConfigData.js"
import { ADD_PROFILE_COMMANDS } from "../../domain/Remedies.js"
import { showName, showVersion } from "../../domain/Scrub.js"
import type { TokenStatus } from "../../domain/TokenStatus.js"
import { paintStatus } from "../style.js"
import { renderTable } from "../table.js"

/** One row of `profile list -o json` (stable schema, documented in the README). */
export interface ProfileRow {
  readonly current: boolean
  readonly name: string
  readonly olaresId: string
  readonly status: TokenStatus
  readonly version: string | null
  /** `local` or `platform(<app>)`: only when some profile is platform-issued (as the SOURCE column). */
  readonly source?: string
  /** The application a platform-issued profile belongs to. */
  readonly appName?: string
}

/**
 * The rows, in config order, for statuses already computed (one per profile, same order). Names,
 * ids and versions come from config.json, which an old CLI or a hand edit may have filled with
 * escape sequences or 100 kB: they are sanitised and capped here, for the table and JSON alike.
 */
export const profileRows = (cfg: ConfigData, statuses: ReadonlyArray<TokenStatus>): Array<ProfileRow> => {
  const current = activeProfile(cfg)?.olaresId
  const anyManaged = cfg.profiles.some((p) => p.managed === true)
  return cfg.profiles.map((p, i): ProfileRow => ({
    current: p.olaresId === current,
    name: showName(displayName(p)),
    olaresId: showName(p.olaresId),
    status: statuses[i] ?? "unknown",
    version: p.backendVersion !== undefined && p.backendVersion !== "" ? showVersion(p.backendVersion) : null,
    ...(anyManaged ? { source: showName(sourceOf(p)) } : {}),
    ...(p.managed === true && typeof p.appName === "string" && p.appName !== "" ? { appName: showName(p.appName) } : {})
  }))
}

/** The whole stdout of `profile list` (without the final newline): the table, the JSON document, or the empty-state hint. */
export const renderList = (rows: ReadonlyArray<ProfileRow>, output: "table" | "json"): string => {
  if (output === "json") return JSON.stringify({ profiles: rows }, null, 2)
  if (rows.length === 0) {
    return `no profiles configured.\nrun ${ADD_PROFILE_COMMANDS} to add one.`
  }
  // SOURCE (last, as the reference orders it) only when a platform-issued profile exists
  const withSource = rows.some((r) => r.source !== undefined)
  const source = (r: ProfileRow) => (withSource ? [r.source ?? "local"] : [])
  return renderTable(
    [
      ["  ", "NAME", "OLARES-ID", "STATUS", "VERSION", ...(withSource ? ["SOURCE"] : [])],
      ...rows.map((r) => [r.current ? "*" : " ", r.name, r.olaresId, r.status, r.version ?? "-", ...source(r)])
    ],
    (row, col, cell) => (row > 0 && col === 3 ? paintStatus(rows[row - 1]!.status, cell) : cell)
  )
}

/** What `profile use` prints (the quick path and the Effect program alike), with the names sanitised. */
export const switchedLine = (name: string, olaresId: string): string =>
  `switched to profile ${showName(name)} (${showName(olaresId)})`
