/** Where the CLI keeps its files, resolved once from the environment. */
import * as Context from "effect/Context"

/** Resolved locations (spec section 4). */
export interface AppPathsShape {
  /** Config home: `$OLARES_CLI_HOME`, else `$OLARES_CLI_CACHE_DIR/config`, else `~/.olares-cli` (0700); always absolute. */
  readonly home: string
  /** `<home>/config.json` (0600). */
  readonly configFile: string
  /** `<home>/locks` (0700): `config.lock`, `<id>.refresh.lock`. */
  readonly locksDir: string
  /**
   * Token-store directory: `$OLARES_CLI_DATA_DIR/olares-cli`, else
   * `$OLARES_CLI_CACHE_DIR/keychain/olares-cli`, else `~/.local/share/olares-cli` (on macOS
   * `~/Library/Application Support/olares-cli`). Relative values are refused, never ignored.
   */
  readonly dataDir: string
  /** Why `dataDir` is what it is (for `profile doctor`). */
  readonly dataDirSource: string
}

/** Resolved locations. */
export class AppPaths extends Context.Tag("olares-cli/AppPaths")<AppPaths, AppPathsShape>() {}
