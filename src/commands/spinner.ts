/**
 * A spinner on stderr while a network call runs, for people at a terminal only: never when stderr is
 * not a TTY, never for scripts (`--no-input`, OLARES_CLI_NO_INPUT, CI), never with NO_COLOR,
 * TERM=dumb, OLARES_CLI_DEBUG or OLARES_CLI_NO_SPINNER. Never wrap a prompt in it.
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { envFlag } from "../env.js"
import { Prompt } from "../services/Prompt.js"

/** The braille frames, drawn every 80 ms. */
export const SPINNER_FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"] as const

/** Pure decision: whether a spinner may be drawn on this stderr, in this environment. */
export const spinnerEnabled = (
  stderrIsTty: boolean,
  env: Readonly<Record<string, string | undefined>>,
  noInput: boolean
): boolean =>
  stderrIsTty && !noInput && !envFlag(env.OLARES_CLI_NO_INPUT) && !envFlag(env.OLARES_CLI_NO_SPINNER) &&
  !envFlag(env.CI) && (env.NO_COLOR ?? "") === "" && env.TERM !== "dumb" && (env.OLARES_CLI_DEBUG ?? "") === ""

// Carriage return + erase line: the spinner owns exactly one line and leaves it empty.
const CLEAR = "\r\u001b[2K"

/**
 * Runs `self` with `<frame> <label>` redrawn on stderr every 80 ms when enabled; the line is cleared
 * when `self` ends, fails or is interrupted (Ctrl-C). Otherwise `self` runs untouched.
 */
export const withSpinner = (label: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.serviceOption(Prompt), (prompt) => {
    const noInput = prompt._tag === "Some" && prompt.value.noInput
    if (!spinnerEnabled(process.stderr.isTTY === true, process.env, noInput)) return self
    const out = process.stderr
    const frames = (i: number): Effect.Effect<never> =>
      Effect.sync(() => out.write(`${CLEAR}${SPINNER_FRAMES[i % SPINNER_FRAMES.length]} ${label}`)).pipe(
        Effect.zipRight(Effect.sleep("80 millis")),
        Effect.flatMap(() => frames(i + 1))
      )
    return Effect.acquireUseRelease(
      // acquire is uninterruptible and a fork inherits that: the frame loop must stay interruptible.
      Effect.forkDaemon(Effect.interruptible(frames(0))),
      () => self,
      (fiber) => Fiber.interrupt(fiber).pipe(Effect.zipRight(Effect.sync(() => out.write(CLEAR))))
    )
  })
