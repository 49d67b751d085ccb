/**
 * Olares OS versions (`1.12.6`, `1.12.6-20260603`, `1.12.0-rc.0`), checked the way the reference
 * parses them (Masterminds/semver `NewVersion`: an optional `v`, up to three numeric parts, then an
 * optional `-prerelease` and `+build`), before anything is cached or shown. Plain functions.
 */

/** Longer values are refused: a version is short, and whatever is accepted is cached and printed. */
export const MAX_VERSION_CHARS = 64

// Go's regexp classes are ASCII: `[0-9]` never matches other scripts' digits.
const SEMVER =
  /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/

const UINT64_MAX = 18446744073709551615n

/** Why `raw` is not an Olares version (the semver library's words), or `undefined` when it is one. */
export const olaresVersionProblem = (raw: string): string | undefined => {
  if (raw.length > MAX_VERSION_CHARS) return `longer than ${MAX_VERSION_CHARS} characters`
  const m = SEMVER.exec(raw)
  if (m === null) return "Invalid Semantic Version"
  for (const part of [m[1], m[2], m[3]]) {
    if (part !== undefined && BigInt(part.replace(/^\./, "")) > UINT64_MAX) {
      return `Error parsing version segment: value out of range`
    }
  }
  const pre = m[5]
  if (pre !== undefined) {
    for (const id of pre.split(".")) {
      if (/^[0-9]+$/.test(id) && id.length > 1 && id.startsWith("0")) return "Version segment starts with 0"
    }
  }
  return undefined
}

/**
 * Go's `%q` for a value from a server or the command line: printable ASCII as is, everything a
 * terminal could act on (C0, DEL, C1, line and bidi controls) escaped, cut at 64 characters.
 */
export const goQuote = (raw: string): string => {
  const cut = [...raw]
  const shown = cut.length > MAX_VERSION_CHARS ? cut.slice(0, MAX_VERSION_CHARS) : cut
  let out = "\""
  for (const ch of shown) {
    const cp = ch.codePointAt(0)!
    if (ch === "\"" || ch === "\\") out += `\\${ch}`
    else if (ch === "\n") out += "\\n"
    else if (ch === "\t") out += "\\t"
    else if (ch === "\r") out += "\\r"
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`
    else if (
      (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp === 0x200e ||
      cp === 0x200f || cp === 0xfeff
    ) {
      out += `\\u${cp.toString(16).padStart(4, "0")}`
    } else out += ch
  }
  return `${out}"${cut.length > MAX_VERSION_CHARS ? "..." : ""}`
}
