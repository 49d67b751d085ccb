/** The platform-mounted credential of a managed application container (`$OLARES_CLI_CREDENTIALS_DIR/credential.json`). */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { MountState } from "../domain/ManagedCredential.js"

/** The mount. */
export interface ManagedMountShape {
  /** Read on every call (the platform may re-issue it): unset, invalid with the reason, or the grant. */
  readonly load: Effect.Effect<MountState>
}

/** The mount. Optional: without it (e.g. a library user's own wiring) no profile is platform-issued. */
export class ManagedMount extends Context.Tag("olares-cli/ManagedMount")<ManagedMount, ManagedMountShape>() {}
