/** The Olares auth wire protocol (Authelia): first factor, TOTP second factor, refresh. */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type { OlaresId } from "../domain/OlaresId.js"
import type { TokenGrant } from "../domain/TokenGrant.js"
import type { LoginRejected, TotpRequired, TransientHttpError } from "../errors.js"

// The grant is a domain value (the managed-credential rules read it too); the port only carries it.
export type { TokenGrant }

/** Where to authenticate. */
export interface AuthTarget {
  /** Auth base URL (override or derived), no trailing slash. */
  readonly authUrl: string
  readonly olaresId: OlaresId
  readonly insecureSkipVerify: boolean
  /**
   * The key-store account and refresh-lock name: the olaresId exactly as config.json holds it (the
   * Go CLI keeps a bare `alice` verbatim). Absent means `olaresId`.
   */
  readonly account?: string | undefined
  /** Set for a platform-issued ("managed") profile: its grant lives in the mounted credential.json. */
  readonly managed?: ManagedGrant | undefined
}

/** A platform-issued profile's grant: the application it was issued to and the mounted refresh token. */
export interface ManagedGrant {
  readonly appName: string
  /** The mount's refresh token when the mount names this identity; `None` when it is gone. */
  readonly refreshToken: Option.Option<Redacted.Redacted<string>>
}

/** The key-store account of a target. */
export const accountOf = (target: AuthTarget): string =>
  target.account !== undefined && target.account !== "" ? target.account : target.olaresId

/** `/api/refresh` answered 401/403/459: the refresh grant is dead. */
export class RefreshRejected extends Data.TaggedError("RefreshRejected")<{
  readonly status: number
}> {}

/** The protocol. */
export interface OlaresAuthApiShape {
  /**
   * Password login: firstfactor with the salted MD5, then, when the server says `fa2`, the TOTP
   * second factor with the cookies of the first. Without a code when one is needed: `TotpRequired`.
   */
  readonly login: (
    target: AuthTarget,
    password: Redacted.Redacted<string>,
    totp: Option.Option<Redacted.Redacted<string>>
  ) => Effect.Effect<TokenGrant, LoginRejected | TotpRequired | TransientHttpError>
  /** One `/api/refresh` exchange. `accessToken` goes in `X-Authorization` only when given. */
  readonly refresh: (
    target: AuthTarget,
    refreshToken: Redacted.Redacted<string>,
    accessToken: Option.Option<Redacted.Redacted<string>>,
    timeout: Duration.DurationInput
  ) => Effect.Effect<TokenGrant, RefreshRejected | TransientHttpError>
}

/** The auth protocol. */
export class OlaresAuthApi extends Context.Tag("olares-cli/OlaresAuthApi")<OlaresAuthApi, OlaresAuthApiShape>() {}
