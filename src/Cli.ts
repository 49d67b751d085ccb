/** The root command; errors become output and exit codes through src/output.ts. */
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { makeLocalLive } from "../layers/Main.js"
import { api } from "./commands/api.js"
import { profile } from "./commands/profile.js"
import { normalizeOutputArgv } from "./commands/shared.js"
import { colorOn, stripAnsi } from "./commands/style.js"
import { withBuiltins } from "./completions.js"
import { type CliFailure, ExitCode } from "./errors.js"
import { importManagedCredential } from "./managed.js"
import { isDebug, renderFailure, reportCause, StderrLogger, wantsJson } from "./output.js"
import { VERSION } from "./version.js"

const root = Command.make("olares-cli").pipe(
  Command.withDescription("olares-cli: profiles, login and authenticated access to an Olares instance"),
  Command.withSubcommands([profile, api]),
  // Like the reference's PersistentPreRun: before any command (never for --help or --version)
  Command.transformHandler((handler) => Effect.zipRight(importManagedCredential, handler))
)

const cli = Command.run(root, { name: "olares-cli", version: VERSION })

/** The verbs with `-o table|json`. */
const OUTPUT_VERBS = new Set(["list", "whoami", "doctor"])

const usageFailure = (e: ValidationError.ValidationError): CliFailure => ({
  _tag: "UsageError",
  // the same words @effect/cli printed in prose, so the JSON envelope says what was wrong
  message: ("error" in e ? stripAnsi(HelpDoc.toAnsiText(e.error)).trim() : "") ||
    `invalid usage (${e._tag})`,
  exitCode: ExitCode.Usage,
  code: "usage",
  retryable: false,
  recovery: "olares-cli --help"
})

/**
 * @effect/cli 0.77 stops reading options after a lone `-`, so `profile use - --no-input` (what an
 * agent types) failed with "unknown argument": move that `-` after the options. `use` has no option
 * that takes a value, so nothing else can be displaced.
 */
export const normalizeArgv = (argv: ReadonlyArray<string>): ReadonlyArray<string> =>
  argv[0] === "profile" && argv[1] === "use" && argv.includes("-")
    ? [...argv.filter((a) => a !== "-"), "-"]
    : argv

/**
 * @effect/cli writes help and usage errors with ANSI bold/colour whatever the terminal: strip it
 * from whatever goes to a stream that may not carry colour (a pipe, NO_COLOR, TERM=dumb), so
 * scripts and agents reading `--help` get plain text.
 */
const plainWhereNoColour = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((c) => {
    const plain = (args: ReadonlyArray<unknown>) => args.map((a) => (typeof a === "string" ? stripAnsi(a) : a))
    return Console.withConsole(self, {
      ...c,
      log: (...args) => (colorOn(process.stdout) ? c.log(...args) : c.log(...plain(args))),
      error: (...args) => (colorOn(process.stderr) ? c.error(...args) : c.error(...plain(args)))
    })
  })

/** Runs the CLI on `argv` (without node and script) and resolves to the exit code. */
export const program = (rawArgv: ReadonlyArray<string>): Effect.Effect<number> => {
  const json = wantsJson(rawArgv)
  // `-o` in any case, and the reference's text for anything else, before @effect/cli sees it
  const withOutput = rawArgv[0] === "profile" && OUTPUT_VERBS.has(rawArgv[1] ?? "")
    ? normalizeOutputArgv(rawArgv)
    : Either.right(rawArgv)
  if (Either.isLeft(withOutput)) {
    return Effect.sync(() => {
      process.stderr.write(renderFailure(withOutput.left, json))
      return withOutput.left.exitCode as number
    })
  }
  const argv = normalizeArgv(withOutput.right)
  const noInput = argv.includes("--no-input")
  return withBuiltins(root, "olares-cli", argv, cli(["node", "olares-cli", ...argv])).pipe(
    plainWhereNoColour,
    Effect.as(ExitCode.Ok as number),
    Effect.provide(makeLocalLive(noInput)),
    Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer, StderrLogger)),
    // OLARES_CLI_DEBUG=1 shows the request lines the HTTP layer logs at Debug (secret values redacted)
    isDebug() ? Logger.withMinimumLogLevel(LogLevel.Debug) : identity,
    Effect.catchAllCause((cause) =>
      reportCause(cause, json, (e) => {
        if (!ValidationError.isValidationError(e)) return undefined
        if (ValidationError.isHelpRequested(e)) return ExitCode.Ok
        // @effect/cli has already printed the usage error in prose.
        if (json) process.stderr.write(renderFailure(usageFailure(e), true))
        return ExitCode.Usage
      })
    )
  )
}
