/**
 * The one JSON parser for anything read from a server or from disk: `JSON.parse` behind a nesting
 * limit, so a hostile 5,000-level document is a typed decode error instead of a stack overflow in
 * whatever walks it afterwards (schema decoding, formatting, `JSON.stringify`). Plain functions (no
 * Effect imports): the start-up quick path uses it too.
 */

/** The deepest nesting accepted; Olares envelopes and config.json are a handful of levels deep. */
export const MAX_JSON_DEPTH = 64

/** How deep `text` nests arrays and objects (strings skipped), stopping as soon as it passes `limit`. */
export const jsonDepth = (text: string, limit: number = MAX_JSON_DEPTH): number => {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
      continue
    }
    if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      if (++depth > max) {
        max = depth
        if (max > limit) return max
      }
    } else if (c === 93 || c === 125) depth--
  }
  return max
}

/** The outcome of `parseJson`: the value, or a one-line reason that never quotes the text. */
export type JsonResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string; readonly tooDeep: boolean }

/** `JSON.parse` with the nesting limit; the reason names the problem, never the content. */
export const parseJson = (text: string, limit: number = MAX_JSON_DEPTH): JsonResult => {
  if (jsonDepth(text, limit) > limit) {
    return { ok: false, reason: `JSON nested deeper than ${limit} levels`, tooDeep: true }
  }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (e) {
    // V8's message quotes the text around the error ("Unexpected token ..., "<text>" is not valid JSON"): keep only its kind
    const m = e instanceof Error ? (/^[^,"]*/.exec(e.message)?.[0] ?? "").replace(/[^\x20-\x7e]/g, "?").trim() : ""
    return { ok: false, reason: m === "" ? "not valid JSON" : `not valid JSON (${m})`, tooDeep: false }
  }
}

/** True when `text` is JSON within the nesting limit. */
export const isJson = (text: string): boolean => parseJson(text).ok
