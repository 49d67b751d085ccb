/** At most one `/api/refresh` per stale token, across fibers and across processes. */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type {
  LockTimeout,
  ManagedNotSecondFactor,
  NotLoggedIn,
  TokenInvalidated,
  TransientHttpError
} from "../errors.js"
import type { KeyStoreError } from "./KeyStore.js"
import type { AuthTarget } from "./OlaresAuthApi.js"

/** Everything refreshing can fail with. */
export type RefreshError =
  | TokenInvalidated
  | NotLoggedIn
  | TransientHttpError
  | KeyStoreError
  | LockTimeout
  | ManagedNotSecondFactor

/** The coordinator. */
export interface RefreshCoordinatorShape {
  /**
   * Returns an access token newer than `stale`: Semaphore(1), then the cross-process locks
   * `<home>/locks/<id>.refresh.lock` and `<data dir>/locks/<id>.refresh.lock` (in that order),
   * re-reading the stored record after each; if the store already holds a different token it is
   * returned with no network call; otherwise one `/api/refresh`. A 401/403/459 re-reads the record:
   * if its refresh token changed meanwhile (someone else won the race), that grant is used; only a
   * refusal of the token still stored stamps `invalidatedAt` and fails `TokenInvalidated`. A
   * stamped record fails fast.
   */
  readonly refresh: (
    target: AuthTarget,
    stale: Redacted.Redacted<string>
  ) => Effect.Effect<Redacted.Redacted<string>, RefreshError>
}

/** The coordinator. */
export class RefreshCoordinator extends Context.Tag("olares-cli/RefreshCoordinator")<
  RefreshCoordinator,
  RefreshCoordinatorShape
>() {}
