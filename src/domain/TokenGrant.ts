/** What the auth server hands back for a login or a refresh. */
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"

/** What the server handed back. */
export interface TokenGrant {
  readonly accessToken: Redacted.Redacted<string>
  /** Absent when the server did not rotate it (keep the old one). */
  readonly refreshToken: Option.Option<Redacted.Redacted<string>>
  readonly sessionId: Option.Option<string>
  /** The server says this token still needs a second factor (fatal for a platform-issued grant). */
  readonly fa2?: boolean | undefined
}
