/** Resolves the CLI's directories from the environment, exactly as the Go olares-cli does. */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { chooseCacheDir } from "../src/domain/CacheDir.js"
import { PATH_ENV_VARS, PathsProblem, resolvePaths, safeHomedir } from "../src/domain/Paths.js"
import { UsageError } from "../src/errors.js"
import { AppPaths } from "../src/services/AppPaths.js"

/** An env var as a string, empty when unset (the reference treats empty as unset). */
const envVar = (name: string) => Config.string(name).pipe(Config.withDefault(""))

/**
 * The live paths: env via `Config` (so tests can swap the ConfigProvider), `os.homedir()`, the real
 * platform. A relative directory or an unresolvable home is a `UsageError` naming the variable.
 */
export const AppPathsLive: Layer.Layer<AppPaths, UsageError> = Layer.effect(
  AppPaths,
  Effect.gen(function*() {
    // A string with a default cannot fail to load; anything else is a broken ConfigProvider.
    const [home, cache, data, runtime] = yield* Effect.orDie(
      Effect.all([...PATH_ENV_VARS, "XDG_RUNTIME_DIR"].map(envVar))
    )
    const homedir = safeHomedir()
    // An unwritable OLARES_CLI_CACHE_DIR falls back to a private per-user place (src/domain/CacheDir.ts)
    const choice = chooseCacheDir(
      { OLARES_CLI_HOME: home, OLARES_CLI_CACHE_DIR: cache, OLARES_CLI_DATA_DIR: data, XDG_RUNTIME_DIR: runtime },
      homedir
    )
    if (choice.warning !== undefined) yield* Effect.logWarning(choice.warning)
    return yield* Effect.try({
      try: () => AppPaths.of(resolvePaths(choice.env, homedir, process.platform)),
      catch: (e) =>
        e instanceof PathsProblem
          ? new UsageError({ message: e.message, hint: e.hint })
          : new UsageError({ message: String(e) })
    })
  })
)
