/**
 * Every workaround for @effect/cli 0.77 in one place, applied around `Command.run` by src/Cli.ts:
 * our help screens instead of its own, argv rewrites for shapes it mis-parses, plain text where the
 * terminal carries no colour, and the JSON envelope for its usage errors.
 */
import * as CliConfig from "@effect/cli/CliConfig"
import type * as Command from "@effect/cli/Command"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import * as HelpDoc from "@effect/cli/HelpDoc"
import type * as ValidationError from "@effect/cli/ValidationError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { normalizeOutputArgv } from "../commands/options.js"
import { colorEnabled, colorOn, stripAnsi } from "../commands/style.js"
import { type CliFailure, ExitCode, UsageError } from "../errors.js"
import {
  type CommandDoc,
  type CommandHelp,
  commandPath,
  describeCommand,
  findCommand,
  readmeNear,
  renderHelp
} from "../help.js"

/** Prints the help screen of the command at the end of `path`: as wide as the terminal, at most 100 columns. */
export const printHelp = (helpData: Readonly<Record<string, CommandHelp>>) => (path: ReadonlyArray<CommandDoc>) =>
  Console.log(
    renderHelp(path, helpData, {
      width: process.stdout.isTTY === true && (process.stdout.columns ?? 0) > 0 ? process.stdout.columns : 100,
      color: colorEnabled(),
      readme: readmeNear(process.argv[1])
    }).replace(/\n$/, "")
  )

const isHelpFlag = (a: string) => a === "--help" || a === "-h"

/** The tree's command names only (no descriptions: rendering them is the costly part of describeCommand). */
const namesOf = (node: { readonly _tag: string; readonly [k: string]: unknown }): CommandDoc => {
  switch (node._tag) {
    case "Map":
      return namesOf(node.command as typeof node)
    case "Subcommands":
      return {
        ...namesOf(node.parent as typeof node),
        children: (node.children as ReadonlyArray<typeof node>).map(namesOf)
      }
    default:
      return { name: String(node.name), description: "", flags: [], args: [], children: [] }
  }
}

/**
 * Our help screen instead of @effect/cli's: for `-h` / `--help` anywhere before `--` (@effect/cli
 * 0.77 refuses one after a verb's flags as an unknown argument), whenever the parser itself answers
 * with help, and for a group (`olares-cli`, `olares-cli profile`) given no command. Anything else, a
 * usage error included, is left to `Command.run`, which reports it as before. `help [command...]`
 * is ours: the words must name a command exactly.
 */
export const helpRequest = <Name extends string, R, E, A>(
  root: Command.Command<Name, R, E, A>,
  argv: ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    const helpTree = () => describeCommand(root)
    if (argv[0] === "help") {
      const words = argv.slice(1).filter((a) => !isHelpFlag(a))
      const path = findCommand(helpTree(), words)
      if (path === undefined) {
        return yield* Effect.fail(
          new UsageError({
            message: `unknown command "${words.join(" ")}" for "olares-cli help"`,
            hint: "olares-cli --help"
          })
        )
      }
      return Option.some(path)
    }
    // A command (not a group) without a help flag, the common case, needs no described tree.
    const names = commandPath(namesOf(root.descriptor as never), argv)
    const group = names[names.length - 1]!.children.length > 0
    if (!group && !argv.some(isHelpFlag)) return Option.none()
    const path = commandPath(helpTree(), argv)
    const end = argv.indexOf("--")
    if ((end < 0 ? argv : argv.slice(0, end)).some(isHelpFlag)) return Option.some(path)
    const directive = yield* Effect.option(
      Descriptor.parse(root.descriptor, ["olares-cli", ...argv], CliConfig.defaultConfig)
    )
    if (Option.isNone(directive)) return Option.none()
    const d = directive.value
    const wanted = d._tag === "BuiltIn" ? d.option._tag === "ShowHelp" : group && d.leftover.length === 0
    return wanted ? Option.some(path) : Option.none()
  })

/** A usage error @effect/cli has printed in prose, as a typed failure for the JSON envelope. */
export const usageFailure = (e: ValidationError.ValidationError): CliFailure => ({
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

/** The verbs with `-o table|json`. */
const OUTPUT_VERBS = new Set(["list", "whoami", "doctor"])

/**
 * The argv @effect/cli is given: `-o` in any case, and the reference's text for anything else
 * (a usage error, before @effect/cli sees it), then `normalizeArgv`.
 */
export const rewriteArgv = (argv: ReadonlyArray<string>): Either.Either<ReadonlyArray<string>, UsageError> =>
  Either.map(
    argv[0] === "profile" && OUTPUT_VERBS.has(argv[1] ?? "") ? normalizeOutputArgv(argv) : Either.right(argv),
    normalizeArgv
  )

/**
 * @effect/cli writes help and usage errors with ANSI bold/colour whatever the terminal: strip it
 * from whatever goes to a stream that may not carry colour (a pipe, NO_COLOR, TERM=dumb), so
 * scripts and agents reading `--help` get plain text.
 */
export const plainWhereNoColour = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((c) => {
    const plain = (args: ReadonlyArray<unknown>) => args.map((a) => (typeof a === "string" ? stripAnsi(a) : a))
    return Console.withConsole(self, {
      ...c,
      log: (...args) => (colorOn(process.stdout) ? c.log(...args) : c.log(...plain(args))),
      error: (...args) => (colorOn(process.stderr) ? c.error(...args) : c.error(...plain(args)))
    })
  })
