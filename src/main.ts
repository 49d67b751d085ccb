/** The full CLI: every command through @effect/cli, run by NodeRuntime; src/startup/fast.ts evaluates it for every command line the route does not give the fast tier. */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { program } from "./Cli.js"

/** Runs the CLI on `argv` (without `node` and the script) and exits with its code. */
export const main = (argv: ReadonlyArray<string>): void => {
  // runMain's SIGINT/SIGTERM handler unsubscribes itself when it fires; a second signal would then
  // kill the process by the default action before the interruption has finished its cleanup (a
  // half-sent request, a temp file). Staying subscribed keeps the clean exit 130; a second signal
  // still exits at once, with 130.
  let signals = 0
  const onSignal = () => {
    if (++signals > 1) process.exit(130)
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
  NodeRuntime.runMain(program(argv), {
    disableErrorReporting: true,
    // the pretty logger would print every warning a second time, on stdout (breaking -o json)
    disablePrettyLogger: true,
    teardown: (exit, onExit) => onExit(exit._tag === "Success" ? (exit.value as number) : 130)
  })
}
