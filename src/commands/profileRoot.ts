/**
 * The `profile` group's own options. The reference makes `--olares-version` and `--refresh-version`
 * persistent flags of the `profile` tree (accepted before or after the verb). @effect/cli 0.77 has
 * no persistent options, so both are declared twice: here, on the parent (`profile --olares-version
 * 1.12.6 list`), and on every verb (`profile list --olares-version 1.12.6`); a verb reads the parent's
 * values through the parent command's context and the verb's own value wins.
 */
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { checkVersionFlag } from "../olaresInfo.js"
import { olaresVersionOption, refreshVersionOption } from "./options.js"

/** `olares-cli profile` before its subcommands are attached (src/commands/profile.ts attaches them). */
export const profileRoot = Command.make("profile", {
  olaresVersion: olaresVersionOption,
  refreshVersion: refreshVersionOption
})

/** The version flags as a verb sees them: its own, else the parent's; `--olares-version` validated. */
export interface VersionFlags {
  /** A validated override of the detected version: used instead of `/api/olares-info`. */
  readonly olaresVersion: Option.Option<string>
  readonly refreshVersion: boolean
}

/** Merges a verb's version flags with the `profile` group's and validates `--olares-version`. */
export const resolveVersionFlags = (
  own: { readonly olaresVersion: Option.Option<string>; readonly refreshVersion: boolean }
) =>
  Effect.gen(function*() {
    const parent = yield* profileRoot
    const raw = Option.orElse(own.olaresVersion, () => parent.olaresVersion)
    const olaresVersion = Option.isSome(raw) ? Option.some(yield* checkVersionFlag(raw.value)) : Option.none<string>()
    const flags: VersionFlags = { olaresVersion, refreshVersion: own.refreshVersion || parent.refreshVersion }
    return flags
  })
