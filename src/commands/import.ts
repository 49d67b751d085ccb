/** `profile import`: bootstrap a profile from an existing refresh token (one `/api/refresh`). */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { isHeaderSafe } from "../domain/Scrub.js"
import { EmptySecret, InputTooLong, TokenInvalidated, UnsendableToken, UsageError } from "../errors.js"
import type { CommandHelp } from "../help.js"
import { OlaresAuthApi } from "../services/OlaresAuthApi.js"
import { Prompt } from "../services/Prompt.js"
import { complete, type CredentialFlags, prepare, reserveStorage } from "./credentials.js"
import { noInput, olaresIdOption, profileOptions, versionOptions } from "./options.js"
import { resolveVersionFlags, type VersionFlags } from "./profileRoot.js"
import { withSpinner } from "./spinner.js"

const refreshToken = Options.text("refresh-token").pipe(
  Options.withPseudoName("token"),
  Options.withDescription(
    "refresh token to bootstrap from (prefer OLARES_REFRESH_TOKEN or --refresh-token-stdin: argv is visible in ps)"
  ),
  Options.optional
)
const refreshTokenStdin = Options.boolean("refresh-token-stdin").pipe(
  Options.withDescription("read the refresh token from the first line of stdin")
)

/** The longest refresh token accepted from any source (the stdin line has the same bound). */
const MAX_TOKEN_CHARS = 64 * 1024

/** The token from the flag, `--refresh-token-stdin`, or `OLARES_REFRESH_TOKEN`, in that order. */
const readRefreshToken = (flag: Option.Option<string>, fromStdin: boolean) =>
  Effect.gen(function*() {
    let token: Redacted.Redacted<string> | undefined
    let source = "--refresh-token"
    if (Option.isSome(flag)) token = Redacted.make(flag.value.trim())
    else if (fromStdin) {
      source = "stdin"
      token = Redacted.make(Redacted.value(yield* Effect.flatMap(Prompt, (p) => p.stdinLine)).trim())
    } else {
      source = "$OLARES_REFRESH_TOKEN"
      const env = yield* Config.option(Config.redacted("OLARES_REFRESH_TOKEN")).pipe(
        Effect.orElseSucceed(() => Option.none<Redacted.Redacted<string>>())
      )
      if (Option.isSome(env)) token = Redacted.make(Redacted.value(env.value).trim())
    }
    if (token === undefined) {
      return yield* Effect.fail(
        new UsageError({
          message: "--refresh-token is required",
          hint:
            "export OLARES_REFRESH_TOKEN=... (or pipe it to --refresh-token-stdin) and re-run profile import --olares-id <id>"
        })
      )
    }
    const value = Redacted.value(token)
    if (value === "") return yield* Effect.fail(new EmptySecret({ what: "refresh token" }))
    if (value.length > MAX_TOKEN_CHARS) {
      return yield* new InputTooLong({ what: `refresh token from ${source}`, limitBytes: MAX_TOKEN_CHARS })
    }
    // No server issues a token with controls, spaces or non-ASCII: it is a copy-paste accident (quotes,
    // a line break, a BOM) that would be spent on the server and then be unusable in a header.
    if (!isHeaderSafe(value)) {
      return yield* new UnsendableToken({ what: "refresh token", source })
    }
    return token
  })

const run = (
  opts: CredentialFlags & { readonly refreshToken: Option.Option<string>; readonly refreshTokenStdin: boolean },
  version: VersionFlags
) =>
  Effect.gen(function*() {
    const rt = yield* readRefreshToken(opts.refreshToken, opts.refreshTokenStdin)
    const { account, id, target } = yield* prepare(opts, "import credentials for")
    yield* reserveStorage(account)
    const api = yield* OlaresAuthApi
    const grant = yield* api.refresh(target, rt, Option.none(), "10 seconds").pipe(
      withSpinner(`exchanging the refresh token at ${new URL(target.authUrl).host}...`),
      Effect.catchTag("RefreshRejected", () =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.fail(new TokenInvalidated({ olaresId: id, invalidatedAt: now }))))
    )
    // A reply without a refresh token means the server does not rotate: keep the one given.
    yield* complete(
      "imported credentials for",
      id,
      account,
      {
        ...grant,
        refreshToken: Option.orElse(grant.refreshToken, () =>
          Option.some(rt))
      },
      opts,
      version.olaresVersion,
      `olares-cli profile login --olares-id ${id}  (or profile import --olares-id ${id} with a new refresh token)`
    )
  })

/** `profile import --olares-id <id> --refresh-token <tok>`, before the layers are provided (src/commands/wiring.ts). */
export const importCommand = Command.make(
  "import",
  { olaresId: olaresIdOption, ...profileOptions, refreshToken, refreshTokenStdin, ...versionOptions, noInput },
  (opts) => Effect.flatMap(resolveVersionFlags(opts), (version) => Effect.scoped(run(opts, version)))
).pipe(
  Command.withDescription(
    "Create or revive a profile from an existing refresh token (one /api/refresh exchange). The token " +
      "comes from --refresh-token, else --refresh-token-stdin, else $OLARES_REFRESH_TOKEN (prefer the " +
      "last two: arguments show in ps)."
  )
)

/** Help beyond the parser's: summary and examples. */
export const importHelp: CommandHelp = {
  summary: "Create or revive a profile from an existing refresh token",
  required: ["olares-id"],
  examples: [
    {
      comment: "the token from the environment",
      command: "OLARES_REFRESH_TOKEN=... olares-cli profile import --olares-id alice@olares.com"
    },
    {
      comment: "the token from a secret store, on stdin",
      command: "secret-tool lookup olares rt | olares-cli profile import --olares-id alice --refresh-token-stdin"
    }
  ]
}
