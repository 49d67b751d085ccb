/** Turning outcomes into output: the stderr logger, error rendering, and Cause -> exit code. */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { cap, stripControls } from "./domain/Scrub.js"
import { type CliFailure, ExitCode, isCliFailure } from "./errors.js"

/**
 * The last pass over every message we print (errors, the JSON envelope, warnings): server text is
 * already scrubbed where it enters an error (src/domain/Scrub.ts), this catches anything else that
 * carries a control character (a config value, a path, a Node message) and bounds the length. Our
 * own multi-line messages keep their line feeds.
 */
export const safeText = (text: string): string => cap(stripControls(text, true), 8192, "...(truncated)")

/** Whether the invocation asked for JSON output (read, like the rest of argv, in src/startup/route.ts). */

export const isDebug = () => (process.env.OLARES_CLI_DEBUG ?? "") !== ""

/** Warnings (and, with OLARES_CLI_DEBUG, debug lines) go to stderr as `warning: ...`; layers never print. */
export const StderrLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ logLevel, message }) => {
    const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
    if (LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) process.stderr.write(`warning: ${safeText(text)}\n`)
    else if (isDebug()) process.stderr.write(`debug: ${safeText(text)}\n`)
  })
)

/** Prints a typed failure: `Error: <message>` plus the fix, or the reference's JSON envelope. */
export const renderFailure = (e: CliFailure, json: boolean): string => {
  const message = safeText(e.message)
  const recovery = e.recovery === undefined ? undefined : safeText(e.recovery)
  if (json) {
    return JSON.stringify(
      {
        error: {
          code: e.code,
          status: e._tag,
          exitCode: e.exitCode,
          message,
          retryable: e.retryable,
          ...(recovery !== undefined ? { action: recovery } : {})
        }
      },
      null,
      2
    ) + "\n"
  }
  const hint = recovery !== undefined && !message.includes(recovery) ? `\nhint: ${recovery}` : ""
  return `Error: ${message}${hint}\n`
}

/**
 * Prints a failed run's cause and returns its exit code: typed failures print their message and fix
 * (or the JSON envelope), interruption is 130, anything else is an unexpected error (exit 1).
 * `other` handles failures this module does not know (e.g. @effect/cli usage errors).
 */
export const reportCause = <E>(
  cause: Cause.Cause<E>,
  json: boolean,
  other: (e: E) => number | undefined = () => undefined
): Effect.Effect<number> =>
  Effect.sync(() => {
    if (Cause.isInterruptedOnly(cause)) {
      process.stderr.write("interrupted\n")
      return ExitCode.Interrupted
    }
    const failure = Cause.failureOption(cause)
    if (failure._tag === "Some") {
      const e = failure.value
      const handled = other(e)
      if (handled !== undefined) return handled
      if (isCliFailure(e)) {
        process.stderr.write(renderFailure(e, json))
        return e.exitCode
      }
    }
    const squashed = Cause.squash(cause)
    const message = safeText(squashed instanceof Error ? squashed.message : String(squashed))
    // With OLARES_CLI_DEBUG the full cause follows on stderr; the JSON envelope keeps the one-line message.
    const details = isDebug() ? `${Cause.pretty(cause)}\n` : "(set OLARES_CLI_DEBUG=1 for details)\n"
    process.stderr.write(
      json
        ? JSON.stringify(
          { error: { code: "unclassified", status: "Unexpected", exitCode: 1, message, retryable: false } },
          null,
          2
        ) + "\n" + (isDebug() ? details : "")
        : `Error: unexpected: ${message}\n${details}`
    )
    return ExitCode.Transient
  })
