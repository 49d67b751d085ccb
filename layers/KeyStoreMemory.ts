/** An in-memory token store for tests and for library users who bring their own persistence. */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { stillHolds, type StoredToken } from "../src/domain/StoredToken.js"
import { KeyStore } from "../src/services/KeyStore.js"

/** Builds a memory store, optionally pre-filled. */
export const makeMemory = (initial: Iterable<StoredToken> = []) =>
  Effect.gen(function*() {
    const ref = yield* Ref.make(new Map<string, StoredToken>(Array.from(initial, (t) => [t.olaresId, t])))
    return KeyStore.of({
      backend: Effect.succeed("memory"),
      describe: Effect.succeed({ backend: "memory", location: "(process memory)", reason: "in-memory store" }),
      get: (id) => Ref.get(ref).pipe(Effect.map((m) => Option.fromNullable(m.get(id)))),
      reserve: () => Effect.void,
      set: (t) => {
        const { invalidatedAt: _, ...rest } = t
        return Ref.update(ref, (m) => new Map(m).set(t.olaresId, rest))
      },
      markInvalidated: (id, atMs, rejected) =>
        Ref.update(ref, (m) => {
          const t = m.get(id)
          return t === undefined || !stillHolds(t, rejected) ? m : new Map(m).set(id, { ...t, invalidatedAt: atMs })
        }),
      remove: (id) =>
        Ref.update(ref, (m) => {
          const n = new Map(m)
          n.delete(id)
          return n
        }),
      purge: Ref.set(ref, new Map())
    })
  })

/** A fresh, empty memory store. */
export const KeyStoreMemory = Layer.effect(KeyStore, makeMemory())
