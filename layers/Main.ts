/** The local half of the wiring: paths, locks, config.json, the token store and the terminal. */
import * as Layer from "effect/Layer"
import type { UsageError } from "../src/errors.js"
import type { AppPaths } from "../src/services/AppPaths.js"
import type { FileLock } from "../src/services/FileLock.js"
import type { KeyStore } from "../src/services/KeyStore.js"
import type { ManagedMount } from "../src/services/ManagedMount.js"
import type { ProfileRepo } from "../src/services/ProfileRepo.js"
import type { Prompt } from "../src/services/Prompt.js"
import { AppPathsLive } from "./AppPathsLive.js"
import { FileLockLive } from "./FileLockLive.js"
import { KeyStoreLive } from "./KeyStoreLive.js"
import { ManagedMountLive } from "./ManagedMountLive.js"
import { ProfileRepoFile } from "./ProfileRepoFile.js"
import { makePromptLive } from "./PromptLive.js"

/** Local ports a program may replace (each defaults to the live one). */
export interface LocalPorts<E = never> {
  readonly appPaths?: Layer.Layer<AppPaths, E>
  readonly fileLock?: Layer.Layer<FileLock, E, AppPaths>
  readonly profileRepo?: Layer.Layer<ProfileRepo, E, AppPaths | FileLock>
  readonly keyStore?: Layer.Layer<KeyStore, E, AppPaths | FileLock>
  readonly prompt?: Layer.Layer<Prompt, E>
  readonly managedMount?: Layer.Layer<ManagedMount, E>
}

/**
 * The local services without the terminal: the CLI provides the `Prompt` per command, from the
 * command's parsed `--no-input` (src/commands/wiring.ts).
 */
export const makeStoresLive = <E = never>(ports: Omit<LocalPorts<E>, "prompt"> = {}) => {
  // The live paths refuse a relative path variable (UsageError) while the layer is built.
  const appPaths: Layer.Layer<AppPaths, E | UsageError> = ports.appPaths ?? AppPathsLive
  return Layer.mergeAll(
    ports.profileRepo ?? ProfileRepoFile,
    ports.keyStore ?? KeyStoreLive,
    ports.managedMount ?? ManagedMountLive
  ).pipe(
    Layer.provideMerge(ports.fileLock ?? FileLockLive),
    Layer.provideMerge(appPaths)
  )
}

/** Everything offline commands need; `NetworkLive` (loaded on demand) adds the HTTP side on top. */
export const makeLocalLive = <E = never>(noInput: boolean, ports: LocalPorts<E> = {}) =>
  Layer.merge(makeStoresLive(ports), ports.prompt ?? makePromptLive(noInput))
