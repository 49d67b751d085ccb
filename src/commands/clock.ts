/** Time for commands, from the Effect clock (so TestClock drives it). */
import * as Clock from "effect/Clock"

/** Unix milliseconds from the Effect clock. */
export const nowMs = Clock.currentTimeMillis
