/** The authenticated transport every business verb rides: token attached, refresh-and-retry-once. */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { OlaresId } from "../domain/OlaresId.js"
import type { Profile } from "../domain/ProfileConfig.js"
import type {
  AccessTokenRejected,
  ForeignUrl,
  InvalidOlaresId,
  NoProfile,
  NotLoggedIn,
  PermissionDenied,
  ProfileNotFound,
  TokenInvalidated
} from "../errors.js"
import type { KeyStoreError } from "./KeyStore.js"
import type { RefreshError } from "./RefreshCoordinator.js"

/** What one authenticated request can fail with beyond plain HTTP errors. */
export type HttpAuthError =
  | HttpClientError.HttpClientError
  | RefreshError
  | AccessTokenRejected
  | PermissionDenied
  | ForeignUrl

/** A client bound to one profile. */
export interface AuthedClient {
  readonly profile: Profile
  readonly olaresId: OlaresId
  /** Base for `/api/...` paths: the auth override's origin when set, else `https://desktop.<prefix><terminus>`. */
  readonly baseUrl: string
  /** `https://<service>.<prefix><terminus>` (files, market, settings, dashboard, ...). */
  readonly serviceUrl: (service: string) => string
  /**
   * Sends `X-Authorization`, cookie `auth_token` and `X-Unauth-Error: Non-Redirect`, and only to the
   * profile's own hosts: a path resolves against `baseUrl`, any other origin fails `ForeignUrl`
   * before anything is sent (see `TokenScope`); 3xx answers are returned, never followed. On
   * 401/403/459 refreshes once through the coordinator and retries once; a second 401/459 fails
   * `AccessTokenRejected`, a second 403 `PermissionDenied`; a 403 to a token granted within the last
   * 60 s is `PermissionDenied` at once (no refresh). Streaming bodies refresh first when the token
   * is within 60 s of expiry. Other statuses are returned as responses.
   */
  readonly client: HttpClient.HttpClient.With<HttpAuthError>
}

/** Why a profile's credential could not be resolved, in the order it is resolved: profile, record, then the record's state. */
export type ResolveError =
  | NoProfile
  | NotLoggedIn
  | TokenInvalidated
  | InvalidOlaresId
  | KeyStoreError
  /** A platform-issued profile not exchanged yet is exchanged on the spot. */
  | RefreshError

/** The transport. */
export interface HttpAuthShape {
  /** A client for the active profile. */
  readonly current: Effect.Effect<AuthedClient, ResolveError>
  /**
   * A client for another profile, without changing the current one in config.json: a `Profile`, or
   * a name or olaresId looked up like `profile use` does (`ProfileNotFound` when nothing matches).
   */
  readonly forProfile: {
    (profile: Profile): Effect.Effect<AuthedClient, ResolveError>
    (nameOrOlaresId: string): Effect.Effect<AuthedClient, ResolveError | ProfileNotFound>
  }
}

/** The transport. */
export class HttpAuth extends Context.Tag("olares-cli/HttpAuth")<HttpAuth, HttpAuthShape>() {}
