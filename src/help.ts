/**
 * Help screens in the manner of gh: a short usage line, the commands with one-line summaries, flags
 * with their meaning (never their type), examples, exit codes and where the manual lives. @effect/cli
 * stays the parser; everything it knows (names, options, aliases, arguments, descriptions, defaults)
 * is read from its descriptors here, so the help cannot drift from what is parsed. What it does not
 * know (a one-line summary, the examples) is data next to each command (`CommandHelp`).
 */
import type * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Option from "effect/Option"
import { existsSync, realpathSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { stripAnsi } from "./commands/style.js"
import { ExitCode } from "./errors.js"

/** One example: a command line, and what it does when the line alone does not say. */
export interface Example {
  readonly command: string
  readonly comment?: string
}

/** What the @effect/cli descriptors do not carry, kept next to each command. */
export interface CommandHelp {
  /** One line for the parent's command list. */
  readonly summary: string
  readonly examples: ReadonlyArray<Example>
  /** Flags the command requires itself (declared optional so that a missing one is a typed error). */
  readonly required?: ReadonlyArray<string>
}

/** A flag as the parser declares it. */
export interface FlagDoc {
  /** The long name, without dashes. */
  readonly name: string
  /** Other names, without dashes (`o` for `-o`). */
  readonly aliases: ReadonlyArray<string>
  /** What the value looks like (`id`, `table|json`); undefined for a switch. */
  readonly placeholder: string | undefined
  readonly description: string
  readonly default: string | undefined
  readonly repeatable: boolean
}

/** A positional argument as the parser declares it. */
export interface ArgDoc {
  /** As @effect/cli names it, brackets included: `<name|olaresId>`. */
  readonly name: string
  readonly description: string
  readonly optional: boolean
  readonly repeatable: boolean
}

/** A command as the parser declares it, with its subcommands. */
export interface CommandDoc {
  readonly name: string
  readonly description: string
  readonly flags: ReadonlyArray<FlagDoc>
  readonly args: ReadonlyArray<ArgDoc>
  readonly children: ReadonlyArray<CommandDoc>
}

// ---------------------------------------------------------------------------------------------
// Reading the descriptors. @effect/cli 0.77 exports no walker, but every descriptor is a tagged
// tree; these are the shapes of its `internal/*` instructions (pinned by `~0.77`), and an unknown
// tag is a defect the help test reports at once.
// ---------------------------------------------------------------------------------------------

type PrimitiveNode =
  | { readonly _tag: "Bool" }
  | { readonly _tag: "Choice"; readonly alternatives: ReadonlyArray<readonly [string, unknown]> }
  | { readonly _tag: "DateTime" | "Float" | "Integer" | "Path" | "Redacted" | "Secret" | "Text" }

type OptionsNode =
  | { readonly _tag: "Empty" }
  | {
    readonly _tag: "Single"
    readonly name: string
    readonly aliases: ReadonlyArray<string>
    readonly primitiveType: PrimitiveNode
    readonly description: HelpDoc.HelpDoc
    readonly pseudoName: Option.Option<string>
  }
  | { readonly _tag: "Map" | "WithFallback"; readonly options: OptionsNode }
  | { readonly _tag: "WithDefault"; readonly options: OptionsNode; readonly fallback: unknown }
  | { readonly _tag: "Both" | "OrElse"; readonly left: OptionsNode; readonly right: OptionsNode }
  | { readonly _tag: "Variadic" | "KeyValueMap"; readonly argumentOption: OptionsNode }

type ArgsNode =
  | { readonly _tag: "Empty" }
  | { readonly _tag: "Single"; readonly name: string; readonly description: HelpDoc.HelpDoc }
  | { readonly _tag: "Map" | "WithFallbackConfig"; readonly args: ArgsNode }
  | { readonly _tag: "WithDefault"; readonly args: ArgsNode; readonly fallback: unknown }
  | { readonly _tag: "Variadic"; readonly args: ArgsNode }
  | { readonly _tag: "Both"; readonly left: ArgsNode; readonly right: ArgsNode }

type DescriptorNode =
  | {
    readonly _tag: "Standard"
    readonly name: string
    readonly description: HelpDoc.HelpDoc
    readonly options: OptionsNode
    readonly args: ArgsNode
  }
  | { readonly _tag: "GetUserInput"; readonly name: string; readonly description: HelpDoc.HelpDoc }
  | { readonly _tag: "Map"; readonly command: DescriptorNode }
  | { readonly _tag: "Subcommands"; readonly parent: DescriptorNode; readonly children: ReadonlyArray<DescriptorNode> }

const unknownTag = (what: string, node: { readonly _tag: string }): never => {
  throw new Error(`help: unknown @effect/cli ${what} node ${node._tag}`)
}

/** A HelpDoc as plain text (descriptions hold no markup beyond @effect/cli's own styling). */
const docText = (doc: HelpDoc.HelpDoc): string => stripAnsi(HelpDoc.toAnsiText(doc)).trim()

const flagsOf = (node: OptionsNode): ReadonlyArray<FlagDoc> => {
  switch (node._tag) {
    case "Empty":
      return []
    case "Single": {
      const p = node.primitiveType
      return [{
        name: node.name,
        aliases: node.aliases,
        placeholder: p._tag === "Bool"
          ? undefined
          : Option.isSome(node.pseudoName)
          ? node.pseudoName.value
          : p._tag === "Choice"
          ? p.alternatives.map(([name]) => name).join("|")
          : "value",
        description: docText(node.description),
        default: undefined,
        repeatable: false
      }]
    }
    case "Map":
    case "WithFallback":
      return flagsOf(node.options)
    case "WithDefault": {
      // `Options.optional` defaults to None, a switch to false: neither is worth a "(default ...)".
      const fallback = node.fallback
      const shown = Option.isOption(fallback) || typeof fallback === "boolean" ? undefined : String(fallback)
      return flagsOf(node.options).map((f) => ({ ...f, default: shown }))
    }
    case "Both":
    case "OrElse":
      return [...flagsOf(node.left), ...flagsOf(node.right)]
    case "Variadic":
    case "KeyValueMap":
      return flagsOf(node.argumentOption).map((f) => ({ ...f, repeatable: true }))
    default:
      return unknownTag("Options", node)
  }
}

const argsOf = (node: ArgsNode): ReadonlyArray<ArgDoc> => {
  switch (node._tag) {
    case "Empty":
      return []
    case "Single":
      return [{ name: node.name, description: docText(node.description), optional: false, repeatable: false }]
    case "Map":
    case "WithFallbackConfig":
      return argsOf(node.args)
    case "WithDefault":
      return argsOf(node.args).map((a) => ({ ...a, optional: true }))
    case "Variadic":
      return argsOf(node.args).map((a) => ({ ...a, repeatable: true }))
    case "Both":
      return [...argsOf(node.left), ...argsOf(node.right)]
    default:
      return unknownTag("Args", node)
  }
}

const describeNode = (node: DescriptorNode): CommandDoc => {
  switch (node._tag) {
    case "Standard":
      return {
        name: node.name,
        description: docText(node.description),
        flags: flagsOf(node.options),
        args: argsOf(node.args),
        children: []
      }
    case "GetUserInput":
      return { name: node.name, description: docText(node.description), flags: [], args: [], children: [] }
    case "Map":
      return describeNode(node.command)
    case "Subcommands":
      return { ...describeNode(node.parent), children: node.children.map(describeNode) }
    default:
      return unknownTag("Command", node)
  }
}

/** The command tree as the parser declares it. */
export const describeCommand = <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>): CommandDoc =>
  describeNode(command.descriptor as unknown as DescriptorNode)

/**
 * The commands named by the leading words of `argv`, as @effect/cli picks them: at each level the
 * first word equal to a subcommand's name selects it (flags and their values may come before it).
 */
export const commandPath = (root: CommandDoc, argv: ReadonlyArray<string>): ReadonlyArray<CommandDoc> => {
  const path: Array<CommandDoc> = [root]
  let rest = argv
  for (;;) {
    const node = path[path.length - 1]!
    const at = rest.findIndex((a) => node.children.some((c) => c.name === a))
    if (at < 0) return path
    path.push(node.children.find((c) => c.name === rest[at])!)
    rest = rest.slice(at + 1)
  }
}

/** The command at `words` exactly (`["profile", "login"]`), for `olares-cli help <command>`. */
export const findCommand = (root: CommandDoc, words: ReadonlyArray<string>): ReadonlyArray<CommandDoc> | undefined => {
  const path: Array<CommandDoc> = [root]
  for (const w of words) {
    const next = path[path.length - 1]!.children.find((c) => c.name === w)
    if (next === undefined) return undefined
    path.push(next)
  }
  return path
}

/** Every command of the tree with its path of names, root first. */
export const allCommands = (root: CommandDoc): ReadonlyArray<ReadonlyArray<CommandDoc>> => {
  const out: Array<ReadonlyArray<CommandDoc>> = []
  const visit = (path: ReadonlyArray<CommandDoc>) => {
    out.push(path)
    for (const c of path[path.length - 1]!.children) visit([...path, c])
  }
  visit([root])
  return out
}

/** The key of a command in the help data: its names joined by spaces (`olares-cli profile login`). */
export const pathKey = (path: ReadonlyArray<CommandDoc>): string => path.map((c) => c.name).join(" ")

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/** The widest help ever gets, whatever the terminal. */
export const MAX_WIDTH = 100

/** How a screen is laid out. */
export interface RenderOptions {
  /** Columns available (at most MAX_WIDTH is used). */
  readonly width: number
  /** Bold headings (only where the stream may carry colour: src/commands/style.ts decides). */
  readonly color: boolean
  /** The README's location, when known. */
  readonly readme: string | undefined
}

/** What each exit code means, in a few words (the README's "Exit codes and errors" has the detail). */
export const EXIT_CODES: Readonly<Record<keyof typeof ExitCode, string>> = {
  Ok: "success",
  Transient: "transient or unexpected error (network, timeout, 5xx, storage, lock): retry",
  Usage: "usage error (bad flag or value, missing --olares-id, no terminal for a prompt)",
  NotLoggedIn: "not logged in (no profile, or no token for it)",
  CredentialRejected: "credential rejected (refresh token invalidated, wrong password): log in again",
  AlreadyAuthenticated: "refused (a valid token exists, or the profile is platform-issued)",
  ProfileNotFound: "profile not found",
  PermissionDenied: "permission denied (HTTP 403 after a refresh, or to a token granted <60 s ago)",
  Interrupted: "interrupted (Ctrl-C); nothing half-written"
}

/** The built-in flags @effect/cli handles on every level (`--wizard`, `--log-level` are disabled). */
const BUILT_IN_FLAGS: ReadonlyArray<FlagDoc> = [
  {
    name: "help",
    aliases: ["h"],
    placeholder: undefined,
    description: "show help for a command",
    default: undefined,
    repeatable: false
  },
  {
    name: "version",
    aliases: [],
    placeholder: undefined,
    description: "print the version",
    default: undefined,
    repeatable: false
  },
  {
    name: "completions",
    aliases: [],
    placeholder: "shell",
    description: "print a completion script for bash, zsh or fish (see the README)",
    default: undefined,
    repeatable: false
  }
]

/** Greedy word wrap of one paragraph into lines of at most `width` (a longer word keeps its line). */
export const wrapWords = (text: string, width: number): ReadonlyArray<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line === "") line = word
    else if (line.length + 1 + word.length <= width) line += ` ${word}`
    else {
      lines.push(line)
      line = word
    }
  }
  if (line !== "") lines.push(line)
  return lines
}

/** Wraps text (paragraphs kept) and indents every line. */
const block = (text: string, width: number, indent: number): Array<string> =>
  text.split(/\n\s*\n/).flatMap((para, i) => [
    ...(i > 0 ? [""] : []),
    ...wrapWords(para, width - indent).map((l) => " ".repeat(indent) + l)
  ])

/**
 * Two columns, gh's way: names on the left, wrapped text on the right. A name too long for the
 * column (or a screen too narrow for two) puts its text on the next line, further indented.
 */
const twoColumns = (
  rows: ReadonlyArray<readonly [string, string]>,
  width: number,
  alignWith: number = 0
): Array<string> => {
  const indent = 2
  const longest = Math.max(alignWith, ...rows.map(([l]) => l.length))
  const col = Math.min(longest, Math.max(12, Math.floor((width - indent) * 0.4))) + 3
  const textWidth = width - indent - col
  return rows.flatMap(([left, right]) => {
    if (textWidth < 24) return [" ".repeat(indent) + left, ...block(right, width, indent + 4)]
    const wrapped = wrapWords(right, textWidth)
    if (left.length + 3 > col) return [" ".repeat(indent) + left, ...wrapped.map((l) => " ".repeat(indent + col) + l)]
    return wrapped.length === 0
      ? [" ".repeat(indent) + left]
      : wrapped.map((l, i) => " ".repeat(indent) + (i === 0 ? left.padEnd(col) : " ".repeat(col)) + l)
  })
}

/** `-o, --output <table|json>` / `    --olares-id <id>`: long names aligned whether or not a short one exists. */
const flagLabel = (f: FlagDoc): string => {
  const short = f.aliases.filter((a) => a.length === 1).map((a) => `-${a}`)
  const long = [f.name, ...f.aliases.filter((a) => a.length > 1)].map((n) => `--${n}`)
  const names = short.length > 0 ? `${short.join(", ")}, ${long.join(", ")}` : `    ${long.join(", ")}`
  return f.placeholder === undefined ? names : `${names} <${f.placeholder}>`
}

/** Descriptions are written in lower case; a screen shows them as sentences (`olaresId`, `/api` stay). */
const sentence = (text: string): string => (/^[a-z]+\b/.test(text) ? text[0]!.toUpperCase() + text.slice(1) : text)

const flagText = (f: FlagDoc): string => {
  const notes = [
    ...(f.default !== undefined ? [`default: ${f.default}`] : []),
    ...(f.repeatable ? ["repeatable"] : [])
  ]
  return sentence(notes.length === 0 ? f.description : `${f.description} (${notes.join("; ")})`)
}

/** An example line, broken with ` \` where it is too wide, so it still pastes as one command. */
const exampleLines = (command: string, width: number): Array<string> => {
  const cont = "      "
  const words = command.split(" ")
  const lines: Array<string> = []
  let line = `  $ ${words[0]}`
  for (let i = 1; i < words.length; i++) {
    const rest = words.slice(i).join(" ")
    // the rest fits: no break; otherwise leave room for the ` \` a break adds
    if (line.length + 1 + rest.length <= width) {
      line += ` ${rest}`
      break
    }
    if (line.length + 1 + words[i]!.length + 2 <= width) line += ` ${words[i]}`
    else {
      lines.push(`${line} \\`)
      line = cont + words[i]
    }
  }
  lines.push(line)
  return lines
}

const usageLine = (path: ReadonlyArray<CommandDoc>, help: CommandHelp | undefined): string => {
  const node = path[path.length - 1]!
  const words = [pathKey(path)]
  if (node.children.length > 0) words.push("<command>")
  for (const name of help?.required ?? []) {
    const flag = node.flags.find((f) => f.name === name)
    words.push(flag?.placeholder === undefined ? `--${name}` : `--${name} <${flag.placeholder}>`)
  }
  for (const a of node.args) {
    const shown = a.repeatable ? `${a.name}...` : a.name
    words.push(a.optional ? `[${shown}]` : shown)
  }
  words.push("[flags]")
  return words.join(" ")
}

/**
 * One help screen for the command at the end of `path` (root first). `data` holds each command's
 * summary and examples by `pathKey`.
 */
export const renderHelp = (
  path: ReadonlyArray<CommandDoc>,
  data: Readonly<Record<string, CommandHelp>>,
  opts: RenderOptions
): string => {
  const width = Math.max(40, Math.min(MAX_WIDTH, opts.width))
  const node = path[path.length - 1]!
  const root = path[0]!
  const key = pathKey(path)
  const help = data[key]
  const heading = (h: string) => (opts.color ? `\u001b[1m${h}\u001b[0m` : h)
  const out: Array<string> = []
  const section = (title: string, lines: ReadonlyArray<string>) => {
    if (lines.length === 0) return
    out.push("", heading(title), ...lines)
  }
  const summaryOf = (p: ReadonlyArray<CommandDoc>) =>
    data[pathKey(p)]?.summary ?? wrapWords(p[p.length - 1]!.description, 1000)[0] ?? ""
  const commandRows = (parent: ReadonlyArray<CommandDoc>, prefix: string) =>
    parent[parent.length - 1]!.children.map((c) => [`${prefix}${c.name}`, summaryOf([...parent, c])] as const)

  out.push(...block(node.description, width, 0))
  section("USAGE", block(usageLine(path, help), width, 2))

  if (node.children.length > 0) {
    section("COMMANDS", twoColumns(commandRows(path, ""), width))
    // On the first screen, each group's commands too: the whole CLI at a glance.
    if (path.length === 1) {
      for (const group of node.children.filter((c) => c.children.length > 0)) {
        section(
          `${group.name.toUpperCase()} COMMANDS`,
          twoColumns(commandRows([...path, group], `${group.name} `), width)
        )
      }
    }
  }
  section("ARGUMENTS", twoColumns(node.args.map((a) => [a.name, sentence(a.description)] as const), width))

  // A flag an enclosing group declares too (`--olares-version` on `profile` and on each verb) is
  // accepted before the verb or after it: shown once, with the group's flags, like gh's persistent flags.
  const inheritedNames = new Set(path.slice(0, -1).flatMap((p) => p.flags.map((f) => f.name)))
  const own = node.flags.filter((f) => !inheritedNames.has(f.name))
  const flags = path.length === 1 ? [...own, ...BUILT_IN_FLAGS] : own
  const inherited = path.length === 1
    ? []
    : [...path.slice(0, -1).flatMap((p) => p.flags), ...BUILT_IN_FLAGS.filter((f) => f.name === "help")]
  // both flag tables share one column, so the screen reads as one list
  const labelWidth = Math.max(0, ...[...flags, ...inherited].map((f) => flagLabel(f).length))
  section("FLAGS", twoColumns(flags.map((f) => [flagLabel(f), flagText(f)] as const), width, labelWidth))
  section("INHERITED FLAGS", twoColumns(inherited.map((f) => [flagLabel(f), flagText(f)] as const), width, labelWidth))

  section(
    "EXAMPLES",
    (help?.examples ?? []).flatMap((e, i) => [
      ...(i > 0 && e.comment !== undefined ? [""] : []),
      ...(e.comment !== undefined ? block(`# ${e.comment}`, width, 2) : []),
      ...exampleLines(e.command, width)
    ])
  )

  const codes = Object.entries(ExitCode) as ReadonlyArray<readonly [keyof typeof ExitCode, number]>
  section(
    "EXIT CODES",
    path.length === 1
      ? twoColumns(codes.map(([name, code]) => [String(code), EXIT_CODES[name]] as const), width)
      : block(
        `${codes.map(([name, code]) => `${code} ${EXIT_CODES[name].replace(/ \(.*$|: .*$|; .*$/, "")}`).join(", ")}. ` +
          `Details: ${root.name} --help`,
        width,
        2
      )
  )

  const more = node.children.length > 0
    ? `Use \`${key} <command> --help\` (or \`${root.name} help ${
      path.slice(1).map((c) => `${c.name} `).join("")
    }<command>\`) for more about a command.`
    : `Use \`${root.name} --help\` for every command.`
  section("LEARN MORE", [
    ...block(more, width, 2),
    ...block(
      opts.readme !== undefined
        ? "Read the manual (flags in depth, exit codes and errors, files and environment):"
        : "Read the manual: README.md in the olares-cli package.",
      width,
      2
    ),
    ...(opts.readme !== undefined ? [`  ${opts.readme}`] : [])
  ])
  return out.join("\n") + "\n"
}

/**
 * The README shipped next to the running CLI: the package root is one level above the script
 * (`dist/bin.cjs`; `npm` installs a symlink to it, hence realpath). Undefined when there is none.
 */
export const readmeNear = (script: string | undefined): string | undefined => {
  if (script === undefined || script === "") return undefined
  try {
    const file = resolve(dirname(realpathSync(script)), "..", "README.md")
    return existsSync(file) ? file : undefined
  } catch {
    return undefined
  }
}
