/** The local half of the wiring: paths, locks, config.json, the token store and the terminal. */
import * as Layer from "effect/Layer"
import { AppPathsLive } from "./AppPathsLive.js"
import { FileLockLive } from "./FileLockLive.js"
import { KeyStoreLive } from "./KeyStoreLive.js"
import { ManagedMountLive } from "./ManagedMountLive.js"
import { ProfileRepoFile } from "./ProfileRepoFile.js"
import { makePromptLive } from "./PromptLive.js"

/** Everything offline commands need; `NetworkLive` (loaded on demand) adds the HTTP side on top. */
export const makeLocalLive = (noInput: boolean) =>
  Layer.mergeAll(ProfileRepoFile, KeyStoreLive, makePromptLive(noInput), ManagedMountLive).pipe(
    Layer.provideMerge(FileLockLive),
    Layer.provideMerge(AppPathsLive)
  )
