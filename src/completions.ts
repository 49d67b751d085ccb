/**
 * Shell completion scripts (`olares-cli --completions bash|zsh|fish`) and the other built-ins that
 * need care: @effect/cli 0.77 generates the scripts, but for a program name with a `-` its bash and
 * zsh scripts name their cases and functions `olares__cli...` while matching `olares-cli...`, so
 * nothing below the first word completes (Effect-TS/effect#6114); its `--wizard` prompts even with
 * no terminal. Both are handled here before @effect/cli sees the arguments.
 */
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { NotATerminal } from "./errors.js"

/** A shell @effect/cli can generate completions for (`sh` means bash, as in @effect/cli). */
export type Shell = "bash" | "zsh" | "fish"

/** The shell asked for by `--completions <shell>` / `--completions=<shell>`, if any (unknown values are left to @effect/cli). */
export const completionsShell = (argv: ReadonlyArray<string>): Shell | undefined => {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const value = a === "--completions" ? argv[i + 1] : a.startsWith("--completions=") ? a.slice("--completions=".length) : undefined
    if (value === "bash" || value === "sh") return "bash"
    if (value === "zsh" || value === "fish") return value
  }
  return undefined
}

/**
 * Repairs a generated script: one spelling of the program name everywhere, and one-paragraph
 * descriptions (a multi-line description, with its examples, breaks zsh and fish menus).
 */
export const fixCompletionScript = (script: string, programName: string, shell: Shell): string => {
  const sanitized = programName.replace(/-/g, "__")
  let out = sanitized === programName ? script : script.split(sanitized).join(programName)
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

const truthy = (v: string | undefined) => v !== undefined && v !== "" && v !== "0" && v !== "false"

/**
 * Runs `run` unless the arguments ask for a built-in handled here: `--completions <shell>` prints the
 * repaired script; `--wizard` without a terminal (or with `--no-input` / OLARES_CLI_NO_INPUT) fails
 * `NotATerminal` instead of waiting for answers that cannot come.
 */
export const withBuiltins = <Name extends string, R, E, A, E2, R2>(
  command: Command.Command<Name, R, E, A>,
  programName: string,
  argv: ReadonlyArray<string>,
  run: Effect.Effect<void, E2, R2>
): Effect.Effect<void, E2 | NotATerminal, R2> =>
  Effect.suspend((): Effect.Effect<void, E2 | NotATerminal, R2> => {
    const shell = completionsShell(argv)
    if (shell !== undefined) return Effect.flatMap(completionScript(command, shell, programName), Console.log)
    const wizard = argv.includes("--wizard")
    const interactive = !argv.includes("--no-input") && !truthy(process.env.OLARES_CLI_NO_INPUT) &&
      process.stdin.isTTY === true && process.stdout.isTTY === true
    if (wizard && !interactive) {
      return Effect.fail(
        new NotATerminal({
          message: "--wizard asks questions and needs a terminal (and no --no-input / OLARES_CLI_NO_INPUT)",
          hint: "pass the flags directly; see `olares-cli <command> --help`"
        })
      )
    }
    return run
  })
