/** Where the CLI keeps its files, resolved once from the environment. */
import * as Context from "effect/Context"
import type { AppPathsShape } from "../domain/Paths.js"

// The shape is a domain fact (src/domain/Paths.ts computes it); the port only names the service.
export type { AppPathsShape }

/** Resolved locations. */
export class AppPaths extends Context.Tag("olares-cli/AppPaths")<AppPaths, AppPathsShape>() {}
