/** The process's standard streams as bytes (for `olares-cli api`: a streamed request body, a raw response body). */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { StorageError } from "../errors.js"

/** The port. */
export interface StdioShape {
  /** stdin as it arrives, never buffered whole; read once. */
  readonly stdin: Stream.Stream<Uint8Array, StorageError>
  /** Whether stdout is a terminal (a body shown there must not drive it). */
  readonly stdoutIsTerminal: boolean
  /** Writes bytes to stdout as they are, resuming once the stream has taken them (back-pressure). */
  readonly write: (chunk: Uint8Array) => Effect.Effect<void>
}

/** stdin and stdout. */
export class Stdio extends Context.Tag("olares-cli/Stdio")<Stdio, StdioShape>() {}
