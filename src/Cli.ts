/** The root command; errors become output and exit codes through src/output.ts. */
import * as Command from "@effect/cli/Command"
import * as CliConfig from "@effect/cli/CliConfig"
import * as Descriptor from "@effect/cli/CommandDescriptor"
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
import * as Option from "effect/Option"
import * as LogLevel from "effect/LogLevel"
import { makeStoresLive } from "../layers/Main.js"
import { apiHelp } from "./commands/api.js"
import { doctorHelp } from "./commands/doctor/index.js"
import { importHelp } from "./commands/import.js"
import { listHelp } from "./commands/list.js"
import { loginHelp } from "./commands/login.js"
import { profileHelp } from "./commands/profile.js"
import { removeHelp } from "./commands/remove.js"
import { useHelp } from "./commands/use.js"
import { whoamiHelp } from "./commands/whoami.js"
import { normalizeOutputArgv } from "./commands/shared.js"
import { api, NetworkOnDemand, profile } from "./commands/wiring.js"
import { colorEnabled, colorOn, stripAnsi } from "./commands/style.js"
import { withBuiltins } from "./completions.js"
import { type CliFailure, ExitCode, UsageError } from "./errors.js"
import { type CommandDoc, type CommandHelp, commandPath, describeCommand, findCommand, readmeNear, renderHelp } from "./help.js"
import { importManagedCredential } from "./managed.js"
import { isDebug, renderFailure, reportCause, StderrLogger, wantsJson } from "./output.js"
import { VERSION } from "./version.js"

/** The root command (exported for the help and completion tests). */
export const root = Command.make("olares-cli").pipe(
  Command.withDescription(
    "olares-cli: profiles, login and authenticated access to an Olares instance. One profile is one " +
      "Olares instance plus one identity; every command rides the current profile's token, refreshed " +
      "transparently."
  ),
  Command.withSubcommands([profile, api]),
  // Like the reference's PersistentPreRun: before any command (never for --help or --version)
  Command.transformHandler((handler) => Effect.zipRight(Effect.provide(importManagedCredential, NetworkOnDemand), handler))
)

const cli = Command.run(root, { name: "olares-cli", version: VERSION })

/** The first screen's summary and examples. */
const rootHelp: CommandHelp = {
  summary: "Profiles, login and authenticated access to an Olares instance",
  examples: [
    { command: "olares-cli profile login --olares-id alice@olares.com" },
    { command: "olares-cli profile list" },
    { command: "olares-cli api /api/olares-info" }
  ]
}

/** Each command's summary and examples, by its path (the help test proves every command has one). */
export const helpData: Readonly<Record<string, CommandHelp>> = {
  "olares-cli": rootHelp,
  "olares-cli profile": profileHelp,
  "olares-cli profile login": loginHelp,
  "olares-cli profile import": importHelp,
  "olares-cli profile list": listHelp,
  "olares-cli profile use": useHelp,
  "olares-cli profile remove": removeHelp,
  "olares-cli profile whoami": whoamiHelp,
  "olares-cli profile doctor": doctorHelp,
  "olares-cli api": apiHelp
}

/** The command tree as @effect/cli declares it, read once per help screen. */
export const helpTree = (): CommandDoc => describeCommand(root)

/** Prints the help screen of the command at the end of `path`: as wide as the terminal, at most 100 columns. */
const printHelp = (path: ReadonlyArray<CommandDoc>) =>
  Console.log(
    renderHelp(path, helpData, {
      width: process.stdout.isTTY === true && (process.stdout.columns ?? 0) > 0 ? process.stdout.columns : 100,
      color: colorEnabled(),
      readme: readmeNear(process.argv[1])
    }).replace(/\n$/, "")
  )

const isHelpFlag = (a: string) => a === "--help" || a === "-h"

/**
 * Our help screen instead of @effect/cli's: for `-h` / `--help` anywhere before `--` (@effect/cli
 * 0.77 refuses one after a verb's flags as an unknown argument), whenever the parser itself answers
 * with help, and for a group (`olares-cli`, `olares-cli profile`) given no command. Anything else, a
 * usage error included, is left to `Command.run`, which reports it as before. `help [command...]`
 * is ours: the words must name a command exactly.
 */
const helpRequest = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    if (argv[0] === "help") {
      const words = argv.slice(1).filter((a) => !isHelpFlag(a))
      const path = findCommand(helpTree(), words)
      if (path === undefined) {
        return yield* Effect.fail(
          new UsageError({ message: `unknown command "${words.join(" ")}" for "olares-cli help"`, hint: "olares-cli --help" })
        )
      }
      return Option.some(path)
    }
    const path = commandPath(helpTree(), argv)
    const end = argv.indexOf("--")
    if ((end < 0 ? argv : argv.slice(0, end)).some(isHelpFlag)) return Option.some(path)
    const group = path[path.length - 1]!.children.length > 0
    if (!group && !argv.some(isHelpFlag)) return Option.none()
    const directive = yield* Effect.option(Descriptor.parse(root.descriptor, ["olares-cli", ...argv], CliConfig.defaultConfig))
    if (Option.isNone(directive)) return Option.none()
    const d = directive.value
    const wanted = d._tag === "BuiltIn" ? d.option._tag === "ShowHelp" : group && d.leftover.length === 0
    return wanted ? Option.some(path) : Option.none()
  })

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
  const run = Effect.flatMap(
    helpRequest(argv),
    Option.match({ onNone: () => cli(["node", "olares-cli", ...argv]), onSome: printHelp })
  )
  return withBuiltins(root, "olares-cli", argv, run).pipe(
    plainWhereNoColour,
    Effect.as(ExitCode.Ok as number),
    // the terminal (Prompt) is each verb's, from its parsed --no-input (src/commands/wiring.ts)
    Effect.provide(makeStoresLive()),
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
