/** `profile login`: password (+ TOTP) login over the Olares auth protocol. */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { OlaresId } from "../domain/OlaresId.js"
import { EmptySecret, type InputTooLong, type NotATerminal, type StorageError } from "../errors.js"
import type { CommandHelp } from "../help.js"
import { OlaresAuthApi } from "../services/OlaresAuthApi.js"
import { Prompt } from "../services/Prompt.js"
import { complete, type CredentialFlags, prepare, reserveStorage } from "./credentials.js"
import { noInput, olaresIdOption, profileOptions, versionOptions } from "./options.js"
import { resolveVersionFlags, type VersionFlags } from "./profileRoot.js"
import { withSpinner } from "./spinner.js"

const passwordStdin = Options.boolean("password-stdin").pipe(
  Options.withDescription("read the password from the first line of stdin instead of prompting")
)
const totp = Options.text("totp").pipe(
  Options.withPseudoName("code"),
  Options.withDescription("TOTP code for accounts with two-factor authentication (single-use; never stored)"),
  Options.optional
)

const nonEmpty = (what: "password" | "TOTP code") => (s: Redacted.Redacted<string>) =>
  Redacted.value(s) === "" ? Effect.fail(new EmptySecret({ what })) : Effect.succeed(s)

/** Password from `--password-stdin` or the TTY (echo off); never from argv. */
const readPassword = (id: OlaresId, fromStdin: boolean) =>
  Effect.flatMap(Prompt, (prompt) => {
    const source: Effect.Effect<Redacted.Redacted<string>, NotATerminal | StorageError | InputTooLong> = fromStdin
      ? prompt.stdinLine
      : prompt.secret(`password for ${id}: `, {
        message: "stdin is not a terminal; pass --password-stdin and pipe the password instead",
        noInputMessage:
          "--no-input (or OLARES_CLI_NO_INPUT) forbids the password prompt; pass --password-stdin and pipe the password instead",
        hint: `printf '%s\\n' "$PASSWORD" | olares-cli profile login --olares-id ${id} --password-stdin`
      })
    return Effect.flatMap(source, nonEmpty("password"))
  })

const run = (
  opts: CredentialFlags & { readonly passwordStdin: boolean; readonly totp: Option.Option<string> },
  version: VersionFlags
) =>
  Effect.gen(function*() {
    const code = yield* Option.match(opts.totp, {
      onNone: () => Effect.succeed(Option.none<Redacted.Redacted<string>>()),
      onSome: (t) => Effect.map(nonEmpty("TOTP code")(Redacted.make(t.trim())), Option.some)
    })
    const { account, id, target } = yield* prepare(opts, "log in as")
    const password = yield* readPassword(id, opts.passwordStdin)
    yield* reserveStorage(account)
    const api = yield* OlaresAuthApi
    const prompt = yield* Prompt
    // The spinner covers each network round only, never the TOTP prompt between them.
    const attempt = (totp: Option.Option<Redacted.Redacted<string>>) =>
      api.login(target, password, totp).pipe(withSpinner(`logging in to ${new URL(target.authUrl).host}...`))
    const grant = yield* attempt(code).pipe(
      Effect.catchTag("TotpRequired", (e) =>
        Option.isSome(code) || !prompt.interactive
          ? Effect.fail(e)
          : prompt.line(`two-factor code for ${id}: `, { message: e.message, hint: e.recovery }).pipe(
            Effect.map((s) => Redacted.make(s.trim())),
            Effect.flatMap(nonEmpty("TOTP code")),
            Effect.flatMap((c) => attempt(Option.some(c)))
          ))
    )
    yield* complete("logged in as", id, account, grant, opts, version.olaresVersion)
  })

/** `profile login --olares-id <id> [--password-stdin] [--totp <code>]`, before the layers are provided (src/commands/wiring.ts). */
export const login = Command.make(
  "login",
  { olaresId: olaresIdOption, ...profileOptions, passwordStdin, totp, ...versionOptions, noInput },
  (opts) => Effect.flatMap(resolveVersionFlags(opts), (version) => Effect.scoped(run(opts, version)))
).pipe(
  Command.withDescription(
    "Log in with a password (+ TOTP when 2FA is on) and store the tokens. The password comes from the " +
      "terminal (echo off) or --password-stdin, never from arguments. Refused while a valid token " +
      "exists for that olaresId (remove the profile first to log in again)."
  )
)

/** Help beyond the parser's: summary and examples. */
export const loginHelp: CommandHelp = {
  summary: "Log in with a password (and a TOTP code) and store the tokens",
  required: ["olares-id"],
  examples: [
    {
      comment: "asks for the password on the terminal (echo off)",
      command: "olares-cli profile login --olares-id alice@olares.com"
    },
    {
      comment: "a script: the password on stdin, the two-factor code as a flag",
      command: "printf '%s\\n' \"$PW\" | olares-cli profile login --olares-id alice --password-stdin --totp 123456"
    },
    {
      comment: "a second identity under an alias, keeping the current profile",
      command: "olares-cli profile login --olares-id bob@olares.com --name work --no-switch"
    }
  ]
}
