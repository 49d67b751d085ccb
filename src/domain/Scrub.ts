/**
 * The one scrubber for everything a server (or a hand-edited file) says that reaches a terminal, a
 * log line, the `-o json` error envelope or a file: the secrets the request carried are replaced by
 * a marker (and so is anything shaped like a JWT), JSON bodies are summarised instead of echoed,
 * terminal escape sequences, C0/C1 controls, DEL, line breaks and bidi controls are removed, and
 * lengths are capped. Plain functions with no Effect imports: the start-up quick path renders
 * `profile list` through `displayField` too.
 */
import { parseJson } from "./Json.js"

/** What a secret is replaced by. */
export const REDACTED = "<redacted>"

/** How much of a server's error text is shown (the reference cuts auth bodies at 256). */
export const SNIPPET_CHARS = 256

/** Appended to a server snippet that was cut (the reference's marker). */
export const TRUNCATED = "...(truncated)"

// Escape sequences as a terminal parses them, removed whole so no parameter text is left behind:
// CSI (ESC [ or the 8-bit 0x9b), string sequences (OSC, DCS, SOS, PM, APC, 7- or 8-bit) up to BEL
// or ST (an unterminated one swallows the rest, as it would on a terminal), other ESC sequences.
const ESCAPES =
  /(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]?|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[\u0020-\u002f]*[\u0030-\u007e]?/g
// Line and paragraph breaks of every kind become one space.
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g
const BREAKS_BUT_LF = /[\t\v\f\r\u0085\u2028\u2029]+/g
// C0, DEL, C1, and the invisible format characters that reorder or hide text (bidi embeddings,
// overrides and isolates, marks, zero-width characters, the BOM).
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g
const LF = /\n/g
// A compact JWS/JWT (header and payload are base64url JSON objects, so they start with `eyJ`).
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g

/**
 * Removes escape sequences, controls, bidi and zero-width characters; line breaks become spaces
 * (with `keepNewlines`, LF survives: for our own multi-line messages, never for server text).
 */
export const stripControls = (text: string, keepNewlines = false): string => {
  const t = text.replace(ESCAPES, "")
  return keepNewlines
    ? t.replace(BREAKS_BUT_LF, " ").replace(CONTROLS, "")
    : t.replace(BREAKS, " ").replace(CONTROLS, "").replace(LF, " ")
}

/** Cuts `text` to `max` characters plus `suffix` (never inside a surrogate pair). */
export const cap = (text: string, max: number, suffix: string = TRUNCATED): string => {
  if (text.length <= max) return text
  let end = max
  const c = text.charCodeAt(end - 1)
  if (c >= 0xd800 && c <= 0xdbff) end--
  return `${text.slice(0, end)}${suffix}`
}

const variants = (secret: string): Array<string> => {
  const out = new Set([secret, JSON.stringify(secret).slice(1, -1)])
  try {
    out.add(encodeURIComponent(secret))
  } catch {
    // a lone surrogate cannot be URI-encoded; the raw form is still masked
  }
  return [...out]
}

/** Replaces every occurrence of each secret (raw, JSON-escaped, URI-encoded) and every JWT-shaped string by the marker. */
export const maskSecrets = (text: string, secrets: ReadonlyArray<string> = []): string => {
  let t = text
  const all = secrets.filter((s) => s.length >= 4).flatMap(variants).sort((a, b) => b.length - a.length)
  for (const s of all) if (t.includes(s)) t = t.split(s).join(REDACTED)
  return t.replace(JWT, REDACTED)
}

/**
 * Server text made safe to show: secrets masked (before and after the controls go, so a secret
 * with a control character spliced into it is still caught), controls removed, capped.
 */
export const scrubText = (text: string, secrets: ReadonlyArray<string> = [], max: number = SNIPPET_CHARS): string =>
  cap(maskSecrets(stripControls(maskSecrets(text, secrets)), secrets).replace(/ {2,}/g, " ").trim(), max)

/** The fields of a JSON error body that are shown (scrubbed); everything else may hold tokens. */
export const SUMMARY_FIELDS = ["status", "code", "message", "msg", "error", "error_description", "reason"] as const

const FIELD_CHARS = 128

/**
 * A server body as an error message may show it: non-JSON text scrubbed and cut to 256
 * characters; JSON summarised as its `status`/`code`/`message`/`error` fields only (each scrubbed),
 * never echoed (it may carry tokens). Empty stays empty.
 */
export const summariseBody = (
  body: string,
  secrets: ReadonlyArray<string> = [],
  max: number = SNIPPET_CHARS
): string => {
  if (body.trim() === "") return ""
  const parsed = parseJson(body)
  if (!parsed.ok) return scrubText(body, secrets, max)
  const v = parsed.value
  const size = `${Buffer.byteLength(body, "utf8")} bytes`
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return `(a JSON ${Array.isArray(v) ? "array" : v === null ? "null" : typeof v} of ${size}, not shown)`
  }
  const picked: Record<string, string | number | boolean> = {}
  for (const f of SUMMARY_FIELDS) {
    const x = (v as Record<string, unknown>)[f]
    if (typeof x === "string") picked[f] = scrubText(x, secrets, FIELD_CHARS)
    else if ((typeof x === "number" && Number.isFinite(x)) || typeof x === "boolean") picked[f] = x
  }
  return Object.keys(picked).length === 0
    ? `(a JSON body of ${size} without status or message, not shown)`
    : cap(JSON.stringify(picked), 4 * max)
}

/**
 * A value from config.json (or any cache) as it is displayed: an old or hand-edited file may hold
 * escape sequences or 100 kB; shown without controls, JWT-shaped strings masked, cut to `max` with `…`.
 */
export const displayField = (value: string, max: number): string => cap(maskSecrets(stripControls(value)), max, "…")

/** Header names whose values are credentials (matched case-insensitively, also by these parts). */
const CREDENTIAL_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"])
// `auth` but not the `unauth` of X-Unauth-Error (the reference's redirect switch, no secret)
const CREDENTIAL_PARTS = /token|(?<!un)auth|secret|session|key|passw|cookie|credential|signature/i

/** True for a request header whose value is a credential (Authorization, Cookie, X-Auth-Token, *-Key, ...). */
export const isCredentialHeader = (name: string): boolean =>
  CREDENTIAL_HEADERS.has(name.toLowerCase()) || CREDENTIAL_PARTS.test(name)

/** The secrets a request's headers carry: each credential header's value, and its parts (cookie values, a bearer token). */
export const secretsOfHeaders = (headers: Readonly<Record<string, string>>): Array<string> => {
  const out: Array<string> = []
  for (const [name, value] of Object.entries(headers)) {
    if (!isCredentialHeader(name) || value === "") continue
    out.push(value)
    for (const part of value.split(/[\s;,]+/)) {
      const eq = part.indexOf("=")
      const v = eq >= 0 ? part.slice(eq + 1) : part
      if (v.length >= 6) out.push(v)
    }
  }
  return out
}

// Query parameters that carry credentials (`?token=`, `?access_token=`, `?api_key=`, ...), not `?hideCookie=`.
const CREDENTIAL_PARAM =
  /^(?:.*[-_])?(?:token|password|passwd|pwd|secret|key|apikey|auth|authorization|session|sid|signature|sig|code)$/i

/** `scheme://user:pass@host/...` shows as `scheme://***@host/...`; credential-like query values as `<redacted>`. */
export const redactUrl = (url: string): string =>
  url
    .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#\\]*@/, "$1***@")
    .replace(/([?&])([^=&#]*)=([^&#]*)/g, (m, sep: string, k: string, v: string) =>
      CREDENTIAL_PARAM.test(decodeURIComponentSafe(k)) && v !== "" ? `${sep}${k}=${REDACTED}` : m)

const decodeURIComponentSafe = (s: string): string => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * True when a token can be sent as an HTTP header value (and as a cookie value): visible ASCII only,
 * no space, no control, no CR/LF, nothing beyond U+007E. Anything else is refused before it is stored.
 */
export const isHeaderSafe = (token: string): boolean => /^[\x21-\x7e]+$/.test(token)

/** A profile name or olaresId as displayed (table and JSON). */
export const showName = (value: string): string => displayField(value, 128)

/** A cached Olares version as displayed (table and JSON). */
export const showVersion = (value: string): string => displayField(value, 64)

/**
 * Masks `secrets` in a byte stream cut into arbitrary chunks (a secret split across two chunks is
 * still caught): each chunk goes through `push`, the held-back tail through `flush`. Nothing else
 * is changed, so a body without our secrets passes byte for byte.
 */
export const makeStreamMasker = (secrets: ReadonlyArray<string>) => {
  const needles = [...new Set(secrets.filter((s) => s.length >= 6))]
    .map((s) => Buffer.from(s, "utf8"))
    .sort((a, b) => b.length - a.length)
  const keep = Math.max(0, ...needles.map((n) => n.length - 1))
  const marker = Buffer.from(REDACTED, "utf8")
  let carry: Buffer = Buffer.alloc(0)
  const mask = (buf: Buffer): Buffer => {
    let out = buf
    for (const n of needles) {
      if (out.indexOf(n) < 0) continue
      const parts: Array<Buffer> = []
      let from = 0
      for (let at = out.indexOf(n); at >= 0; at = out.indexOf(n, from)) {
        parts.push(out.subarray(from, at), marker)
        from = at + n.length
      }
      parts.push(out.subarray(from))
      out = Buffer.concat(parts)
    }
    return out
  }
  return {
    push: (chunk: Uint8Array): Uint8Array => {
      if (needles.length === 0) return chunk
      const all = mask(Buffer.concat([carry, chunk]))
      const cut = Math.max(0, all.length - keep)
      carry = Buffer.from(all.subarray(cut))
      return all.subarray(0, cut)
    },
    flush: (): Uint8Array => {
      const rest = carry
      carry = Buffer.alloc(0)
      return rest
    }
  }
}
