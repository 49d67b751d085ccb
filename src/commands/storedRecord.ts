/** Whether the token store holds a record for an identity: shared by login/import and `profile remove` (fast tier too, so no @effect/cli or HTTP here). */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { removeCommand } from "../domain/Remedies.js"
import { KeyStore } from "../services/KeyStore.js"

/**
 * Whether the store holds a record for `id`, readable or not: a record whose read fails with the
 * store's own fix "profile remove <id>" (corrupt, wrong key) counts, any other failure is raised.
 */
export const hasRecord = (id: string) =>
  Effect.flatMap(KeyStore, (ks) =>
    ks.get(id).pipe(
      Effect.map(Option.isSome),
      Effect.catchIf((e) => e.recovery?.startsWith(`${removeCommand(id)} `) === true, () => Effect.succeed(true))
    ))
