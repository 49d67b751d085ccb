/** An in-memory config.json for tests: the same read-modify-write contract, serialised like the file lock. */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import { emptyConfig, type ProfileConfig } from "../src/domain/ProfileConfig.js"
import { ProfileRepo } from "../src/services/ProfileRepo.js"

/** Builds a memory repo holding `initial`; `path` is only used in messages. */
export const makeProfileRepoMemory = (initial: ProfileConfig = emptyConfig, path = "(memory)/config.json") =>
  Effect.gen(function*() {
    const ref = yield* Ref.make(initial)
    // One writer at a time, as `<home>/locks/config.lock` gives the file repo.
    const writer = yield* Effect.makeSemaphore(1)
    return ProfileRepo.of({
      path,
      load: Ref.get(ref),
      update: (f) =>
        writer.withPermits(1)(
          Effect.flatMap(Ref.get(ref), f).pipe(Effect.flatMap(([a, next]) => Effect.as(Ref.set(ref, next), a)))
        )
    })
  })

/** A memory repo, empty or holding `initial`. */
export const ProfileRepoMemory = (initial: ProfileConfig = emptyConfig): Layer.Layer<ProfileRepo> =>
  Layer.effect(ProfileRepo, makeProfileRepoMemory(initial))
