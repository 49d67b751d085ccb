/**
 * The fast tier, bundled as its own CommonJS script (dist/fast.cjs) that bin.ts loads with a V8
 * code cache like the full CLI's (src/startup/codeCache.ts): `profile list`, `use`, `remove --yes`
 * and `doctor --offline` as the same programs and layers as the full CLI, without @effect/cli or the
 * HTTP stack in the bundle (half the full CLI's code to read and deserialise: ~7 ms of CPU less on
 * every run it serves).
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { makeDoctorLive } from "../../layers/DoctorLive.js"
import { makeLocalLive } from "../../layers/Main.js"
import { runDoctor } from "../commands/doctor/program.js"
import { printList } from "../commands/list/program.js"
import { removeProfileAndToken } from "../commands/remove/program.js"
import { switchProfile } from "../commands/use/program.js"
import { isDebug, reportCause, StderrLogger } from "../output.js"
import { Reachability } from "../services/Reachability.js"
import type { FastTierCommand } from "./route.js"

/** `doctor --offline`, the one doctor this tier serves, never probes an auth host: no HTTP stack here. */
const NoProbes = Layer.succeed(
  Reachability,
  Reachability.of({ probe: () => Effect.dieMessage("the fast tier serves only `profile doctor --offline`") })
)

/** The command's program over the layers the full CLI gives it (src/commands/wiring.ts), `--no-input` as parsed. */
const programOf = (cmd: FastTierCommand): Effect.Effect<void, unknown> => {
  switch (cmd._tag) {
    case "list":
      return Effect.provide(printList(cmd.output), makeLocalLive(true))
    case "use":
      return Effect.provide(switchProfile(cmd.key), makeLocalLive(true))
    case "remove":
      return Effect.provide(removeProfileAndToken(cmd.key, true), makeLocalLive(false))
    case "doctor":
      return runDoctor({ output: cmd.output, offline: true }).pipe(
        Effect.provide(makeDoctorLive(NoProbes)),
        Effect.provide(makeLocalLive(false)),
        Effect.provide(NodeFileSystem.layer)
      )
  }
}

/** Runs a fast-tier command and resolves to its exit code (130 when a signal interrupted it). */
export const runFast = (cmd: FastTierCommand): Promise<number> => {
  const json = (cmd._tag === "list" || cmd._tag === "doctor") && cmd.output === "json"
  const fiber = Effect.runFork(
    programOf(cmd).pipe(
      Effect.as(0),
      Effect.provide(StderrLogger),
      // as the full CLI: OLARES_CLI_DEBUG=1 shows the debug lines too
      isDebug() ? Logger.withMinimumLogLevel(LogLevel.Debug) : identity,
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
