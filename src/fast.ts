/**
 * The start-up fast path for the two commands people run most often (`profile list`, `profile use`):
 * the same programs and layers as the full CLI, without loading @effect/cli and the HTTP stack.
 * bin.ts routes here only for exact argv shapes; everything else goes through src/Cli.ts.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { makeLocalLive } from "../layers/Main.js"
import { printList } from "./commands/listProgram.js"
import { switchProfile } from "./commands/useProgram.js"
import { reportCause, StderrLogger } from "./output.js"

/** A command the fast path can run. */
export type FastCommand =
  | { readonly _tag: "list"; readonly output: "table" | "json" }
  | { readonly _tag: "use"; readonly key: string }

/** Runs a fast-path command and resolves to its exit code (130 when a signal interrupted it). */
export const runFast = (cmd: FastCommand): Promise<number> => {
  const json = cmd._tag === "list" && cmd.output === "json"
  const program = cmd._tag === "list" ? printList(cmd.output) : switchProfile(cmd.key)
  const fiber = Effect.runFork(
    program.pipe(
      Effect.as(0),
      Effect.provide(makeLocalLive(true)),
      Effect.provide(StderrLogger),
      Effect.catchAllCause((cause) => reportCause(cause, json))
    )
  )
  // `use` may be waiting for a lock another process holds: Ctrl-C / SIGTERM interrupt the program
  // (which closes what it opened, writing nothing) and exit 130, as the full CLI does; a second
  // signal exits at once.
  let signals = 0
  const onSignal = () => {
    if (++signals > 1) process.exit(130)
    Effect.runFork(Fiber.interrupt(fiber))
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
  return Effect.runPromise(Fiber.await(fiber)).then((exit) => {
    process.off("SIGINT", onSignal)
    process.off("SIGTERM", onSignal)
    return Exit.isSuccess(exit) ? exit.value : 130
  })
}
