/** The root command and the one place errors become output and exit codes. */
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { makeLocalLive } from "../layers/Main.js"
import { api } from "./commands/api.js"
import { profile } from "./commands/profile.js"
import { type CliFailure, ExitCode, isCliFailure } from "./errors.js"
import { VERSION } from "./version.js"

const root = Command.make("olares-cli").pipe(
  Command.withDescription("olares-cli: profiles, login and authenticated access to an Olares instance"),
  Command.withSubcommands([profile, api])
)

const cli = Command.run(root, { name: "olares-cli", version: VERSION })

/** Whether the invocation asked for JSON output (errors then go to stderr as the JSON envelope). */
export const wantsJson = (argv: ReadonlyArray<string>): boolean =>
  argv.some((a, i) =>
    a === "--json" || a === "--output=json" || a === "-o=json" || a === "-ojson" ||
    ((a === "-o" || a === "--output") && argv[i + 1] === "json")
  )

const isDebug = () => (process.env.OLARES_CLI_DEBUG ?? "") !== ""

/** Warnings (and, with OLARES_CLI_DEBUG, debug lines) go to stderr as `warning: ...`; layers never print. */
const StderrLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ logLevel, message }) => {
    const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
    if (LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) process.stderr.write(`warning: ${text}\n`)
    else if (isDebug()) process.stderr.write(`debug: ${text}\n`)
  })
)

/** Prints a typed failure: `Error: <message>` plus the fix, or the reference's JSON envelope. */
export const renderFailure = (e: CliFailure, json: boolean): string => {
  if (json) {
    return JSON.stringify(
      {
        error: {
          code: e.code,
          status: e._tag,
          exitCode: e.exitCode,
          message: e.message,
          retryable: e.retryable,
          ...(e.recovery !== undefined ? { action: e.recovery } : {})
        }
      },
      null,
      2
    ) + "\n"
  }
  const hint = e.recovery !== undefined && !e.message.includes(e.recovery) ? `\nhint: ${e.recovery}` : ""
  return `Error: ${e.message}${hint}\n`
}

/** Runs the CLI on `argv` (without node and script) and resolves to the exit code. */
export const program = (argv: ReadonlyArray<string>): Effect.Effect<number> => {
  const json = wantsJson(argv)
  const noInput = argv.includes("--no-input")
  return cli(["node", "olares-cli", ...argv]).pipe(
    Effect.as(ExitCode.Ok as number),
    Effect.provide(makeLocalLive(noInput)),
    Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer, StderrLogger)),
    Effect.catchAllCause((cause) =>
      Effect.sync(() => {
        if (Cause.isInterruptedOnly(cause)) {
          process.stderr.write("interrupted\n")
          return ExitCode.Interrupted
        }
        const failure = Cause.failureOption(cause)
        if (failure._tag === "Some") {
          const e = failure.value
          if (ValidationError.isValidationError(e)) {
            if (ValidationError.isHelpRequested(e)) return ExitCode.Ok
            // @effect/cli has already printed the usage error.
            if (json) process.stderr.write(renderFailure(usageFailure(e), true))
            return ExitCode.Usage
          }
          if (isCliFailure(e)) {
            process.stderr.write(renderFailure(e, json))
            return e.exitCode
          }
        }
        const detail = isDebug() ? Cause.pretty(cause) : Cause.squash(cause) instanceof Error
          ? (Cause.squash(cause) as Error).message
          : String(Cause.squash(cause))
        process.stderr.write(
          json
            ? JSON.stringify({ error: { code: "unclassified", status: "Unexpected", exitCode: 1, message: detail, retryable: false } }, null, 2) + "\n"
            : `Error: unexpected: ${detail}\n(set OLARES_CLI_DEBUG=1 for details)\n`
        )
        return ExitCode.Transient
      })
    )
  )
}

const usageFailure = (e: ValidationError.ValidationError): CliFailure => ({
  _tag: "UsageError",
  message: e._tag === "HelpRequested" ? "help requested" : `invalid usage (${e._tag})`,
  exitCode: ExitCode.Usage,
  code: "usage",
  retryable: false,
  recovery: "olares-cli --help"
})
