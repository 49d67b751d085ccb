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
  const exp = payload.exp
  if (exp === undefined || exp === null || exp === 0) return { _tag: "NoExp" }
  if (typeof exp !== "number" || !Number.isInteger(exp) || exp < 0) {
    return { _tag: "Unparseable", reason: "exp claim is not an integer" }
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
