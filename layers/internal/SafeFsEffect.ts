/** SafeFs's plain checks inside Effect: a refusal becomes a StorageError carrying its fix. */
import * as Effect from "effect/Effect"
import { StorageError } from "../../src/errors.js"
import { Refused } from "./SafeFs.js"

/** Runs a SafeFs call: `Refused` becomes a StorageError whose hint is the refusal's fix; other errors go to `onError`. */
export const guarded = <A>(f: () => A, onError: (e: NodeJS.ErrnoException) => StorageError): Effect.Effect<A, StorageError> =>
  Effect.try({
    try: f,
    catch: (e) =>
      e instanceof Refused
        ? new StorageError({ path: e.path, detail: e.detail, hint: e.fix })
        : onError(e as NodeJS.ErrnoException)
  })
