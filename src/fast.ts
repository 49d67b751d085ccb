/**
 * The start-up fast path for the two commands people run most often (`profile list`, `profile use`):
 * the same programs and layers as the full CLI, without loading @effect/cli and the HTTP stack.
 * bin.ts routes here only for exact argv shapes; everything else goes through src/Cli.ts.
 */
import * as Effect from "effect/Effect"
import { makeLocalLive } from "../layers/Main.js"
import { printList } from "./commands/listProgram.js"
import { switchProfile } from "./commands/useProgram.js"
import { reportCause, StderrLogger } from "./output.js"

/** A command the fast path can run. */
export type FastCommand =
  | { readonly _tag: "list"; readonly output: "table" | "json" }
  | { readonly _tag: "use"; readonly key: string }

/** Runs a fast-path command and resolves to its exit code. */
export const runFast = (cmd: FastCommand): Promise<number> => {
  const json = cmd._tag === "list" && cmd.output === "json"
  const program = cmd._tag === "list" ? printList(cmd.output) : switchProfile(cmd.key)
  return Effect.runPromise(
    program.pipe(
      Effect.as(0),
      Effect.provide(makeLocalLive(true)),
      Effect.provide(StderrLogger),
      Effect.catchAllCause((cause) => reportCause(cause, json))
    )
  )
}
