/** Whether a host answers HTTP at all (for `profile doctor`); no credential is ever sent. */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"

/** How a probe failed: name resolution, connection refused, no answer in time, certificate, other. */
export type ProbeErrorKind = "dns" | "refused" | "timeout" | "tls" | "network"

/** What one probe saw. Any HTTP status counts as an answer. */
export type ProbeResult =
  | { readonly _tag: "Answered"; readonly status: number; readonly elapsedMs: number }
  | { readonly _tag: "Failed"; readonly kind: ProbeErrorKind; readonly detail: string; readonly elapsedMs: number }

/** Options of one probe. */
export interface ProbeOptions {
  /** Skip certificate verification (the profile's `insecureSkipVerify`). */
  readonly insecureSkipVerify: boolean
  readonly timeout: Duration.DurationInput
}

/** The port. */
export interface ReachabilityShape {
  /** One unauthenticated `HEAD <url>`; never fails, the outcome is in the result. */
  readonly probe: (url: string, options: ProbeOptions) => Effect.Effect<ProbeResult>
}

/** Plain reachability probes. */
export class Reachability extends Context.Tag("olares-cli/Reachability")<Reachability, ReachabilityShape>() {}
