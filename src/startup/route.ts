/**
 * The one place argv is read before a framework loads: which start-up tier serves a command line.
 * Framework-free (it is bundled into dist/bin.cjs). The shapes it serves are proved against the
 * @effect/cli tree by test/unit/route.test.ts: every line it routes to a tier is one @effect/cli parses
 * to the same command and values, so there is one grammar.
 */
import { CREDENTIALS_DIR_ENV } from "../domain/Paths.js"

/** A command the quick and fast tiers can run (the same values @effect/cli would parse). */
export type FastCommand =
  | { readonly _tag: "list"; readonly output: "table" | "json" }
  | { readonly _tag: "use"; readonly key: string }
  /** `profile whoami` (no --refresh): the quick tier, then the full CLI when it declines. */
  | { readonly _tag: "whoami"; readonly output: "table" | "json" }
  /** `profile remove <key> --yes` (no prompt: the fast tier never opens the terminal). */
  | { readonly _tag: "remove"; readonly key: string }
  /** `profile doctor --offline` (no network). */
  | { readonly _tag: "doctor"; readonly output: "table" | "json" }

/** A command the fast tier runs (whoami, when the quick tier declines, goes to the full CLI: its network layers are there). */
export type FastTierCommand = Exclude<FastCommand, { readonly _tag: "whoami" }>

/** What bin.ts does with a command line. */
export type Route =
  /** A secret on argv: refused before anything loads. */
  | { readonly _tag: "Refuse"; readonly message: string; readonly exitCode: number }
  /** `profile list` / `use` (the quick tier, then the fast tier when it declines), `remove --yes`, `doctor --offline` (the fast tier). */
  | { readonly _tag: "Fast"; readonly command: FastCommand }
  /** Everything else (help, usage errors, completions, other commands): the full CLI. */
  | { readonly _tag: "Full"; readonly argv: ReadonlyArray<string> }

const PASSWORD_ON_ARGV =
  "Error: there is no --password flag: a password on the command line is visible in `ps` and shell history\n" +
  "hint: run `olares-cli profile login --olares-id <id>` and type it at the prompt, or pipe it with --password-stdin\n"

/** `-o V` / `--output V` / `--output=V` alone, with V `table` or `json` in any case (the reference reads the value in any case). */
const outputOf = (rest: ReadonlyArray<string>): "table" | "json" | undefined => {
  const value = rest.length === 2 && (rest[0] === "-o" || rest[0] === "--output")
    ? rest[1]
    : rest.length === 1 && rest[0]!.startsWith("--output=")
    ? rest[0]!.slice("--output=".length)
    : undefined
  const format = value?.toLowerCase()
  return format === "json" || format === "table" ? format : undefined
}

/** A positional key: not empty, not an option. */
const isKey = (a: string) => a !== "" && !a.startsWith("-")

/** The exact argv shapes the tiers serve; anything else (help, other flags) is undefined. */
const matchFast = (a: ReadonlyArray<string>): FastCommand | undefined => {
  if (a[0] !== "profile") return undefined
  const rest = a.slice(2)
  switch (a[1]) {
    case "list": {
      const output = rest.length === 0 ? "table" : outputOf(rest)
      return output !== undefined ? { _tag: "list", output } : undefined
    }
    case "use": {
      const key = rest[0]
      return rest.length === 1 && (key === "-" || isKey(key!)) ? { _tag: "use", key: key! } : undefined
    }
    case "whoami": {
      const output = rest.length === 0 ? "table" : outputOf(rest)
      return output !== undefined ? { _tag: "whoami", output } : undefined
    }
    case "remove": {
      // the key and --yes (-y), in either order
      if (rest.length !== 2) return undefined
      const yes = rest.findIndex((x) => x === "--yes" || x === "-y")
      const key = rest[1 - yes]
      return yes >= 0 && isKey(key!) ? { _tag: "remove", key: key! } : undefined
    }
    case "doctor": {
      // --offline first or last, with at most one output option
      const offline = rest[0] === "--offline" ? 0 : rest[rest.length - 1] === "--offline" ? rest.length - 1 : -1
      if (offline < 0) return undefined
      const others = rest.filter((_, i) => i !== offline)
      const output = others.length === 0 ? "table" : outputOf(others)
      return output !== undefined ? { _tag: "doctor", output } : undefined
    }
    default:
      return undefined
  }
}

/**
 * Routes `argv` (without node and the script). A platform-mounted credential is imported before any
 * command (maybe over the network): only the full CLI does that, so no shortcut serves such a
 * container.
 */
export const parseRoute = (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): Route => {
  if (argv.some((a) => a === "--password" || a.startsWith("--password="))) {
    return { _tag: "Refuse", message: PASSWORD_ON_ARGV, exitCode: 2 }
  }
  const fast = (env[CREDENTIALS_DIR_ENV] ?? "").trim() !== "" ? undefined : matchFast(argv)
  return fast !== undefined ? { _tag: "Fast", command: fast } : { _tag: "Full", argv }
}

/** Whether the invocation asked for JSON output (errors then go to stderr as the JSON envelope). */
export const wantsJson = (argv: ReadonlyArray<string>): boolean =>
  argv.some((raw, i) => {
    // `-o JSON` is JSON too: the reference reads the value in any case
    const a = raw.toLowerCase()
    return a === "--json" || a === "--output=json" || a === "-o=json" || a === "-ojson" ||
      ((raw === "-o" || raw === "--output") && argv[i + 1]?.trim().toLowerCase() === "json")
  })
