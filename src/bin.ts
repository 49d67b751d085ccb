#!/usr/bin/env node
/** Entry point: refuse secrets on argv before anything loads, then run the CLI and exit with its code. */
const argv = process.argv.slice(2)

if (argv.some((a) => a === "--password" || a.startsWith("--password="))) {
  process.stderr.write(
    "Error: there is no --password flag: a password on the command line is visible in `ps` and shell history\n" +
      "hint: run `olares-cli profile login --olares-id <id>` and type it at the prompt, or pipe it with --password-stdin\n"
  )
  process.exit(2)
}

const { program } = await import("./Cli.js")
const { runMain } = await import("@effect/platform-node/NodeRuntime")
runMain(program(argv), {
  disableErrorReporting: true,
  teardown: (exit, onExit) => onExit(exit._tag === "Success" ? (exit.value as number) : 130)
})
