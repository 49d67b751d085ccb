/**
 * The fast tier, bundled as its own CommonJS script (dist/fast.cjs) that bin.ts loads with a V8
 * code cache like the full CLI's (src/startup/codeCache.ts): `profile list` / `profile use` as the
 * same programs and layers as the full CLI, without @effect/cli or the HTTP stack in the bundle
 * (half the full CLI's code to read and deserialise: ~7 ms of CPU less on every run it serves).
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { makeLocalLive } from "../../layers/Main.js"
import { printList } from "../commands/list/program.js"
import { switchProfile } from "../commands/use/program.js"
import { reportCause, StderrLogger } from "../output.js"
import type { FastCommand } from "./route.js"

/** Runs a fast-tier command and resolves to its exit code (130 when a signal interrupted it). */
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
