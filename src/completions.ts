/**
 * Shell completion scripts (`olares-cli --completions bash|zsh|fish`) and the other built-ins that
 * need care: @effect/cli 0.77 generates the scripts, but for a program name with a `-` its bash and
 * zsh scripts name their cases and functions `olares__cli...` while matching `olares-cli...`, so
 * nothing below the first word completes (Effect-TS/effect#6114). Its `--wizard` (prompts for every
 * flag) and `--log-level` (our logger prints warnings whatever the level; OLARES_CLI_DEBUG=1 shows
 * debug lines) have no use in an auth CLI: they are refused as unknown arguments and left out of
 * the scripts. All of it happens here, before @effect/cli sees the arguments.
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import type * as Terminal from "@effect/platform/Terminal"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** A shell @effect/cli can generate completions for (`sh` means bash, as in @effect/cli). */
export type Shell = "bash" | "zsh" | "fish"

/** The shell asked for by `--completions <shell>` / `--completions=<shell>`, if any (unknown values are left to @effect/cli). */
export const completionsShell = (argv: ReadonlyArray<string>): Shell | undefined => {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const value = a === "--completions"
      ? argv[i + 1]
      : a.startsWith("--completions=")
      ? a.slice("--completions=".length)
      : undefined
    if (value === "bash" || value === "sh") return "bash"
    if (value === "zsh" || value === "fish") return value
  }
  return undefined
}

/** @effect/cli's built-in flags that olares-cli disables (and so never offers). */
export const DISABLED_BUILT_INS = ["wizard", "log-level"] as const

/** The first disabled built-in flag before `--`, as typed. */
export const disabledBuiltIn = (argv: ReadonlyArray<string>): string | undefined => {
  const end = argv.indexOf("--")
  return (end < 0 ? argv : argv.slice(0, end)).find(isDisabled)
}

const isDisabled = (a: string) => DISABLED_BUILT_INS.some((name) => a === `--${name}` || a.startsWith(`--${name}=`))

/**
 * A disabled built-in after `--` that @effect/cli 0.77 would still run: a word after `--` that the
 * command does not take as an argument is read again as a flag (`api /x -- --wizard` started the
 * wizard and waited for answers; `api -- --wizard` is the path "--wizard"). The parser's own
 * directive decides.
 */
/** What @effect/cli's parser needs from the platform. */
type CliContext = FileSystem.FileSystem | Path.Path | Terminal.Terminal

const disabledAfterDashes = <Name extends string, R, E, A>(
  command: Command.Command<Name, R, E, A>,
  programName: string,
  argv: ReadonlyArray<string>
) => {
  const end = argv.indexOf("--")
  const word = end < 0 ? undefined : argv.slice(end + 1).find(isDisabled)
  if (word === undefined) return Effect.succeed(undefined)
  return Effect.map(
    Effect.option(Descriptor.parse(command.descriptor, [programName, ...argv], CliConfig.defaultConfig)),
    (d) =>
      Option.isSome(d) && d.value._tag === "BuiltIn" &&
        (d.value.option._tag === "ShowWizard" || d.value.option._tag === "SetLogLevel")
        ? word
        : undefined
  )
}

/**
 * Repairs a generated script: one spelling of the program name everywhere, one-paragraph
 * descriptions (a multi-line description, with its examples, breaks zsh and fish menus), and no
 * disabled built-in flag.
 */
export const fixCompletionScript = (script: string, programName: string, shell: Shell): string => {
  const sanitized = programName.replace(/-/g, "__")
  let out = sanitized === programName ? script : script.split(sanitized).join(programName)
  for (const name of DISABLED_BUILT_INS) {
    out = shell === "bash"
      ? out.replace(new RegExp(` --${name}(?=[ "])`, "g"), "")
      : shell === "zsh"
      ? out.replace(new RegExp(`^[ \\t]*'--${name}\\[.*\\n`, "gm"), "")
      : out.replace(new RegExp(`^complete .* -l ${name} .*\\n`, "gm"), "")
  }
  // Descriptions are single-quoted with `'\''` for quotes: drop everything from the blank line before
  // "Examples:" up to the closing quote.
  out = out.replace(/\n\nExamples:\n(?:[^']|'\\'')*'/g, "'")
  if (shell === "bash") {
    // The word loop matches "${cmd},${word}", and cmd is `a__b` after two words, so a third-level
    // case must read `a__b,c)`, not `a,b,c)`.
    out = out.replace(/^(\s+)([\w-]+(?:,[\w-]+){2,})\)$/gm, (_m, indent: string, pattern: string) => {
      const parts = pattern.split(",")
      return `${indent}${parts.slice(0, -1).join("__")},${parts[parts.length - 1]})`
    })
    // Choices are a space-separated word list for compgen, not a comma-separated one.
    out = out.replace(/compgen -W "([^"$]*)"/g, (_m, words: string) => `compgen -W "${words.replace(/,/g, " ")}"`)
  }
  return out
}

/** The repaired completion script for `command`, named `programName`. */
export const completionScript = <Name extends string, R, E, A>(
  command: Command.Command<Name, R, E, A>,
  shell: Shell,
  programName: string
): Effect.Effect<string> => {
  const generate = shell === "bash"
    ? Command.getBashCompletions(command, programName)
    : shell === "zsh"
    ? Command.getZshCompletions(command, programName)
    : Command.getFishCompletions(command, programName)
  return Effect.map(generate, (lines) => fixCompletionScript(lines.join("\n"), programName, shell))
}

/**
 * Runs `run` unless the arguments ask for a built-in handled here: `--completions <shell>` prints the
 * repaired script; a disabled built-in (`--wizard`, `--log-level`) is refused with the parser's own
 * words for an unknown flag (printed the same way, exit 2).
 */
export const withBuiltins = <Name extends string, R, E, A, E2, R2>(
  command: Command.Command<Name, R, E, A>,
  programName: string,
  argv: ReadonlyArray<string>,
  run: Effect.Effect<void, E2, R2>
): Effect.Effect<void, E2 | ValidationError.ValidationError, R2 | CliContext> =>
  Effect.suspend((): Effect.Effect<void, E2 | ValidationError.ValidationError, R2 | CliContext> => {
    const shell = completionsShell(argv)
    if (shell !== undefined) return Effect.flatMap(completionScript(command, shell, programName), Console.log)
    const refuse = (disabled: string) => {
      const error = HelpDoc.p(`Received unknown argument: '${disabled}'`)
      return Effect.zipRight(
        Console.error(HelpDoc.toAnsiText(error)),
        Effect.fail(ValidationError.invalidArgument(error))
      )
    }
    const disabled = disabledBuiltIn(argv)
    if (disabled !== undefined) return refuse(disabled)
    return Effect.flatMap(
      disabledAfterDashes(command, programName, argv),
      (late): Effect.Effect<void, E2 | ValidationError.ValidationError, R2 | CliContext> =>
        late === undefined ? run : refuse(late)
    )
  })
