/** `profile doctor`'s human report (the JSON one is the document itself). */
import { dirname } from "node:path"
import type { AuthCheckJson, DoctorJson, PathCheckJson } from "../../schemas.js"
import { paint } from "../style.js"
import { renderTable } from "../table.js"

const pathState = (c: PathCheckJson) =>
  !c.exists
    ? "missing (created when first needed)"
    : c.kind === "other"
    ? paint("31", "cannot inspect")
    : c.writable === false
    ? paint("31", "not writable")
    : c.mode !== null && (parseInt(c.mode, 8) & 0o077) !== 0
    ? paint("31", "too open")
    : paint("32", "ok")

const authState = (a: AuthCheckJson) =>
  !a.checked
    ? "not checked (--offline)"
    : a.reachable === true
    ? `answers (HTTP ${a.httpStatus} in ${a.elapsedMs} ms)`
    : paint("31", `unreachable: ${a.errorKind}`)

/** The human report. */
export const renderDoctor = (doc: DoctorJson): string => {
  const lines: Array<string> = []
  const section = (title: string) => lines.push("", paint("1", title))
  lines.push(paint("1", "token store"))
  lines.push(
    ...renderTable([["  backend", doc.store.backend], ["  location", doc.store.location], ["  why", doc.store.reason]])
      .split("\n")
  )
  section("paths")
  const pathRows: Array<[string, PathCheckJson | null]> = [
    ["config home", doc.paths.home],
    ["config.json", doc.paths.configFile],
    ["locks", doc.paths.locksDir],
    ["token store", doc.paths.dataDir],
    ["master key", doc.paths.masterKey]
  ]
  lines.push(
    ...renderTable(
      pathRows.flatMap(([label, c]) =>
        c === null ? [] : [[`  ${label}`, c.path, c.mode ?? "-", `want ${c.expectedMode}`, pathState(c)]]
      )
    ).split("\n")
  )
  section("profiles")
  if (doc.profiles.length === 0) lines.push("  none configured")
  else {
    lines.push(
      ...renderTable([
        ["    ", "NAME", "OLARES-ID", "STATUS", "AUTH URL", "AUTH HOST"],
        ...doc.profiles.map((p) => [
          p.current ? "  * " : "    ",
          p.name,
          p.olaresId,
          p.status === "expired" && p.hasRefreshToken === true ? "expired (renewed on next use)" : p.status,
          `${p.auth.url} (${p.auth.source})`,
          authState(p.auth)
        ])
      ]).split("\n")
    )
  }
  section("locks")
  if (doc.locks.length === 0) lines.push("  none")
  else {
    lines.push(
      ...renderTable(doc.locks.map((l) => [
        `  ${l.name}${dirname(l.path) === doc.paths.locksDir.path ? "" : " (beside the records)"}`,
        l.held
          ? "held by a running process (this CLI or the Go olares-cli): leave it alone"
          : l.stale
          ? paint("33", "free; an older olares-cli-ts left its lock directory")
          : "free"
      ])).split("\n")
    )
  }
  section("problems")
  if (doc.problems.length === 0) lines.push(`  ${paint("32", "none")}`)
  for (const p of doc.problems) {
    const mark = p.severity === "error" ? paint("31", "✗") : paint("33", "!")
    lines.push(`  ${mark} ${p.subject}: ${p.message}`, `      fix: ${p.fix}`)
  }
  const errors = doc.problems.filter((p) => p.severity === "error").length
  const warnings = doc.problems.length - errors
  lines.push(
    "",
    errors === 0 && warnings === 0
      ? paint("32", "no problems found")
      : `${errors} problem${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}` +
        (errors === 0 ? " (warnings do not fail the check)" : "")
  )
  return lines.join("\n")
}
