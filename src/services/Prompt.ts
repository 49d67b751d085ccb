/** Talking to the person at the terminal: prompts, confirmations, and one line of piped stdin. */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type { InputTooLong, NotATerminal, StorageError } from "../errors.js"

/** Why a prompt was refused (used in the `NotATerminal` message). */
export interface PromptRefusal {
  /** The message when there is no terminal, e.g. `stdin is not a terminal; pass --password-stdin ...`. */
  readonly message: string
  /** The fix. */
  readonly hint: string
  /** The message when prompts are disabled by `--no-input` / OLARES_CLI_NO_INPUT (default: `message`). */
  readonly noInputMessage?: string
}

/** The port. Prompts go to stderr so stdout stays clean for `-o json` and pipes. */
export interface PromptShape {
  /** True when stdin and stderr are terminals and `--no-input` / `OLARES_CLI_NO_INPUT` are not set. */
  readonly interactive: boolean
  /** True when `--no-input` or OLARES_CLI_NO_INPUT asked for no interaction at all (also turns off spinners). */
  readonly noInput: boolean
  /** Reads a secret with echo off. Ctrl-C interrupts the fiber (exit 130), nothing is half-written. */
  readonly secret: (
    prompt: string,
    refusal: PromptRefusal
  ) => Effect.Effect<Redacted.Redacted<string>, NotATerminal | InputTooLong>
  /** Reads one echoed line (a TOTP code is single-use, so it is echoed to make typing it easier). */
  readonly line: (prompt: string, refusal: PromptRefusal) => Effect.Effect<string, NotATerminal | InputTooLong>
  /** Asks yes/no; default no. */
  readonly confirm: (prompt: string, refusal: PromptRefusal) => Effect.Effect<boolean, NotATerminal | InputTooLong>
  /** Reads stdin up to the first newline (or EOF) and strips the trailing `\r\n` (for `--password-stdin`); at most 64 KiB. */
  readonly stdinLine: Effect.Effect<Redacted.Redacted<string>, StorageError | InputTooLong>
}

/** The terminal. */
export class Prompt extends Context.Tag("olares-cli/Prompt")<Prompt, PromptShape>() {}
