/** The root command; errors become output and exit codes through src/output.ts, @effect/cli's quirks are mended by src/startup/cliFixes.ts. */
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { makeStoresLive } from "../layers/Main.js"
import { apiHelp } from "./commands/api.js"
import { doctorHelp } from "./commands/doctor/index.js"
import { importHelp } from "./commands/import.js"
import { listHelp } from "./commands/list/index.js"
import { loginHelp } from "./commands/login.js"
import { profileHelp } from "./commands/profile.js"
import { removeHelp } from "./commands/remove/index.js"
import { useHelp } from "./commands/use/index.js"
import { whoamiHelp } from "./commands/whoami/index.js"
import { api, NetworkOnDemand, profile } from "./commands/wiring.js"
import { withBuiltins } from "./completions.js"
import { ExitCode } from "./errors.js"
import { type CommandDoc, type CommandHelp, describeCommand } from "./help.js"
import { importManagedCredential } from "./managed.js"
import { isDebug, renderFailure, reportCause, StderrLogger } from "./output.js"
import { helpRequest, plainWhereNoColour, printHelp, rewriteArgv, usageFailure } from "./startup/cliFixes.js"
import { wantsJson } from "./startup/route.js"
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
  Command.transformHandler((handler) =>
    Effect.zipRight(Effect.provide(importManagedCredential, NetworkOnDemand), handler)
  )
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

/** Runs the CLI on `argv` (without node and script) and resolves to the exit code. */
export const program = (rawArgv: ReadonlyArray<string>): Effect.Effect<number> => {
  const json = wantsJson(rawArgv)
  const rewritten = rewriteArgv(rawArgv)
  if (Either.isLeft(rewritten)) {
    return Effect.sync(() => {
      process.stderr.write(renderFailure(rewritten.left, json))
      return rewritten.left.exitCode as number
    })
  }
  const argv = rewritten.right
  const run = Effect.flatMap(
    helpRequest(root, argv),
    Option.match({ onNone: () => cli(["node", "olares-cli", ...argv]), onSome: printHelp(helpData) })
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
