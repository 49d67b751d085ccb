/** Reads the `exp` claim of an access token without verifying it (the server is the judge). */
import { decodeJwt } from "jose"

/** What the client can tell about a token's expiry. */
export type JwtExpiry =
  | { readonly _tag: "Exp"; readonly expMs: number }
  | { readonly _tag: "NoExp" }
  | { readonly _tag: "Unparseable"; readonly reason: string }

/** Decodes `exp` (seconds) into milliseconds; never throws. */
export const decodeExpiry = (token: string): JwtExpiry => {
  if (token === "") return { _tag: "Unparseable", reason: "token is empty" }
  const segments = token.split(".").length
  if (segments !== 3) {
    return { _tag: "Unparseable", reason: `token does not look like a JWT (want 3 segments, got ${segments})` }
  }
  let payload: Record<string, unknown>
  try {
    payload = decodeJwt(token) as Record<string, unknown>
  } catch (e) {
    return { _tag: "Unparseable", reason: `decode payload: ${e instanceof Error ? e.message : String(e)}` }
  }
  return expiryOfClaim(payload.exp)
}

/** The last second a JavaScript date can hold (+275760-09-13): a later `exp` cannot be compared or shown. */
export const MAX_EXP_SECONDS = 8_640_000_000_000

/**
 * The `exp` claim (seconds) as an expiry, each edge named for what it is: missing/0 is "no exp"
 * (the reference's rule); a negative one is simply in the past (expired, as Go reads it); a
 * non-number, a fraction (Go's int64 decoding refuses it too) and a value beyond the representable
 * dates are unparseable with that reason, never "not an integer" for a negative nor Infinity/NaN.
 */
export const expiryOfClaim = (exp: unknown): JwtExpiry => {
  if (exp === undefined || exp === null || exp === 0) return { _tag: "NoExp" }
  if (typeof exp !== "number") {
    const kind = Array.isArray(exp) ? "an array" : typeof exp === "object" ? "an object" : `a ${typeof exp}`
    return { _tag: "Unparseable", reason: `exp claim is not a number (it is ${kind})` }
  }
  if (!Number.isFinite(exp) || Math.abs(exp) > MAX_EXP_SECONDS) {
    return { _tag: "Unparseable", reason: `exp claim ${exp} is out of range (beyond the year 275760)` }
  }
  if (!Number.isInteger(exp)) {
    return { _tag: "Unparseable", reason: `exp claim ${exp} is not a whole number of seconds` }
  }
  return { _tag: "Exp", expMs: exp * 1000 }
}

/** The pre-flight window for streaming requests. */
export const PREFLIGHT_SKEW_MS = 60_000

/** True when a non-replayable request must refresh first: `now + 60 s >= exp`. Undecodable tokens are sent as-is. */
export const needsPreflight = (token: string, nowMs: number): boolean => {
  const e = decodeExpiry(token)
  return e._tag === "Exp" && nowMs + PREFLIGHT_SKEW_MS >= e.expMs
}

/** The `iat` claim in milliseconds, when the token is a JWT that has a sane one; never throws. */
export const decodeIssuedAt = (token: string): number | undefined => {
  if (token.split(".").length !== 3) return undefined
  try {
    const iat = (decodeJwt(token) as Record<string, unknown>).iat
    return typeof iat === "number" && Number.isInteger(iat) && iat > 0 ? iat * 1000 : undefined
  } catch {
    return undefined
  }
}
