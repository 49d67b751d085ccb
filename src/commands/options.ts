/** Options and helpers shared by the profile commands. */
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { type OlaresId, parseOlaresId } from "../domain/OlaresId.js"
import { MissingOlaresId, UsageError } from "../errors.js"

/** What `-o` accepts, as the reference reads it: any case, empty meaning table. */
export const parseOutput = (raw: string): "table" | "json" | undefined => {
  const v = raw.trim().toLowerCase()
  return v === "" || v === "table" ? "table" : v === "json" ? "json" : undefined
}

/**
 * `-o/--output table|json`. The reference reads the value in any case and refuses others with its
 * own text: `normalizeOutputArgv` (src/Cli.ts) does both before parsing, so the option itself stays
 * a choice (shell completion offers `table json`).
 */
export const output = Options.choice("output", ["table", "json"]).pipe(
  Options.withAlias("o"),
  Options.withDefault("table" as const),
  Options.withDescription("output format: table (for people) or json (for scripts and agents; stable schema); any case")
)

/** `-o JSON` as `-o json`; the first value that is neither table nor json (any case), as a usage error. */
export const normalizeOutputArgv = (
  argv: ReadonlyArray<string>
): Either.Either<ReadonlyArray<string>, UsageError> => {
  const out: Array<string> = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === "--") {
      out.push(...argv.slice(i))
      break
    }
    const inline = /^(--output|-o)=(.*)$/s.exec(a) ??
      (a.startsWith("-o") && a.length > 2 && !a.startsWith("-o=") ? [a, "-o", a.slice(2)] : null)
    const flag = inline !== null ? inline[1]! : a === "-o" || a === "--output" ? a : undefined
    if (flag === undefined) {
      out.push(a)
      continue
    }
    const raw = inline !== null ? inline[2]! : argv[i + 1]
    if (raw === undefined) {
      out.push(a)
      continue
    }
    const v = parseOutput(raw)
    if (v === undefined) {
      return Either.left(
        new UsageError({
          message: `unsupported --output ${JSON.stringify(raw)} (allowed: table, json)`,
          hint: "pass -o table or -o json"
        })
      )
    }
    out.push(flag, v)
    if (inline === null) i++
  }
  return Either.right(out)
}

/** `--olares-version <v>`: the reference's persistent override of the detected Olares version. */
export const olaresVersionOption = Options.text("olares-version").pipe(
  Options.withPseudoName("version"),
  Options.withDescription(
    "override the detected Olares backend version (e.g. 1.12.6, 1.12.6-20260603); skips /api/olares-info detection"
  ),
  Options.optional
)

/** `--refresh-version`: re-read the version from /api/olares-info instead of trusting the cache. */
export const refreshVersionOption = Options.boolean("refresh-version").pipe(
  Options.withDescription("re-read the Olares backend version from /api/olares-info and update the cache")
)

/** The two version flags every profile verb accepts (the reference makes them persistent on the `profile` tree). */
export const versionOptions = { olaresVersion: olaresVersionOption, refreshVersion: refreshVersionOption }

/** `--no-input`: never prompt; fail with the typed error instead. */
export const noInput = Options.boolean("no-input").pipe(
  Options.withDescription("never prompt (also OLARES_CLI_NO_INPUT=1); fail with the typed error instead")
)

/** The optional `--olares-id`; required-ness is checked by the command so the error is typed. */
export const olaresIdOption = Options.text("olares-id").pipe(
  Options.withPseudoName("id"),
  Options.withDescription(
    "the identity's olaresId, e.g. alice@olares.com (required; a bare `alice` means alice@olares.com)"
  ),
  Options.optional
)

/** Validates `--olares-id`: absent or blank is `MissingOlaresId`, malformed is `InvalidOlaresId`. */
export const requireOlaresId = (raw: Option.Option<string>) =>
  Option.match(Option.filter(raw, (s) => s.trim() !== ""), {
    onNone: () => Effect.fail(new MissingOlaresId()),
    onSome: (s) => Either.match(parseOlaresId(s), { onLeft: Effect.fail, onRight: Effect.succeed<OlaresId> })
  })

/** Options that shape a profile's URLs and TLS (login / import). */
export const profileOptions = {
  name: Options.text("name").pipe(
    Options.withPseudoName("alias"),
    Options.withDescription("optional alias for the profile (defaults to the olaresId)"),
    Options.optional
  ),
  authUrlOverride: Options.text("auth-url-override").pipe(
    Options.withPseudoName("url"),
    Options.withDescription("override the derived auth URL, e.g. http://127.0.0.1:8787 (dev/internal use)"),
    Options.optional
  ),
  localUrlPrefix: Options.text("local-url-prefix").pipe(
    Options.withPseudoName("prefix"),
    Options.withDescription(
      "label inserted between the service subdomain and the terminus name, e.g. dev. (dev/internal use)"
    ),
    Options.optional
  ),
  insecureSkipVerify: Options.boolean("insecure-skip-verify").pipe(
    Options.withDescription("disable TLS certificate verification for HTTP calls under this profile (dev/internal use)")
  ),
  noSwitch: Options.boolean("no-switch").pipe(
    Options.withDescription("do not change the current profile after success (useful for scripts)")
  )
}
