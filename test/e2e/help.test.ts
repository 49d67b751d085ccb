/**
 * The help screens (src/help.ts). In process: the screens are read from the @effect/cli tree, so a
 * walk of that tree through @effect/cli's own public API (subcommands, its built-in help text) must
 * find every subcommand, flag, alias and argument on our screens, and every command has a summary
 * and examples. Through the built CLI: every screen is snapshotted (test/e2e/__snapshots__/help/*.txt,
 * reviewed in the diff), `-h`, `--help`, `help <command>` and a bare group print the same screen,
 * piped output and NO_COLOR / TERM=dumb carry no escape, a terminal gets bold headings.
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import fc from "fast-check"
import { readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { helpData, helpTree, root } from "../../src/Cli.js"
import { stripAnsi } from "../../src/commands/style.js"
import { allCommands, type CommandDoc, commandPath, MAX_WIDTH, pathKey, renderHelp, wrapWords } from "../../src/help.js"
import { BIN, makeTempHome, runCli } from "../support/cli.js"
import { hasScript, runInPty } from "../support/pty.js"

const ESC = "\u001b"
const PACKAGE = resolve(dirname(BIN), "..")
const README = resolve(PACKAGE, "README.md")

/** @effect/cli's own view of a command: the help it would print, and its subcommands. */
interface ParserCommand {
  readonly words: ReadonlyArray<string>
  readonly helpText: string
  readonly children: ReadonlyArray<string>
}

/** What the parser itself answers to `<words> --help` (its public API, not our walk of its tree). */
const parserHelp = (words: ReadonlyArray<string>) =>
  Descriptor.parse(root.descriptor, ["olares-cli", ...words, "--help"], CliConfig.defaultConfig).pipe(
    Effect.flatMap((d) =>
      d._tag === "BuiltIn" && d.option._tag === "ShowHelp"
        ? Effect.succeed(stripAnsi(HelpDoc.toAnsiText(d.option.helpDoc)))
        : Effect.die(`no help for ${words.join(" ")}`)
    ),
    Effect.provide(NodeContext.layer)
  )

/** Every command, found by asking the parser for help and following the COMMANDS it lists. */
const parserCommands = async (): Promise<ReadonlyArray<ParserCommand>> => {
  const out: Array<ParserCommand> = []
  const visit = async (words: ReadonlyArray<string>) => {
    const helpText = await Effect.runPromise(parserHelp(words))
    const listed = helpText.split(/^COMMANDS$/m)[1] ?? ""
    const children = [...new Set([...listed.matchAll(/^ {2}- (\S+)/gm)].map((m) => m[1]!))]
    out.push({ words, helpText, children })
    for (const child of children) await visit([...words, child])
  }
  await visit([])
  return out
}

const PARSER_COMMANDS = await parserCommands()

/** The part of @effect/cli's help about the command itself (its COMMANDS list is about the children). */
const ownPart = (helpText: string) => helpText.split(/^COMMANDS$/m)[0]!

/** Flags @effect/cli adds to every command: ours are listed separately, two are disabled. */
const BUILT_INS = new Set(["--help", "--version", "--completions", "--wizard", "--log-level"])

const render = (path: ReadonlyArray<CommandDoc>, width = 100, color = false) =>
  renderHelp(path, helpData, { width, color, readme: "/opt/olares-cli/README.md" })

const pathTo = (words: ReadonlyArray<string>) =>
  allCommands(helpTree()).find((p) => p.slice(1).map((c) => c.name).join(" ") === words.join(" "))!

describe("help screens read from the @effect/cli tree", () => {
  const commands = PARSER_COMMANDS

  it("the tree has the commands we ship (a sanity check of the walk itself)", () => {
    expect(commands.map((c) => c.words.join(" "))).toEqual(expect.arrayContaining([
      "",
      "profile",
      "profile login",
      "profile import",
      "profile list",
      "profile use",
      "profile remove",
      "profile whoami",
      "profile doctor",
      "api"
    ]))
    expect(commands).toHaveLength(10)
    expect(allCommands(helpTree()).map((p) => p.slice(1).map((c) => c.name).join(" ")).sort())
      .toEqual(commands.map((c) => c.words.join(" ")).sort())
  })

  it.each(PARSER_COMMANDS.map((c) => [c.words.join(" ") || "(root)", c] as const))(
    "%s: every subcommand, flag, alias and argument the parser knows is on the screen",
    (_, cmd) => {
      const screen = render(pathTo(cmd.words))
      const own = ownPart(cmd.helpText)
      const flags = [...new Set(own.match(/--[a-z][a-z-]*/g) ?? [])].filter((f) => !BUILT_INS.has(f))
      const aliases = [...new Set(own.match(/(?<![\w-])-[A-Za-z](?![\w-])/g) ?? [])].filter((a) => a !== "-h")
      const args = [...new Set(own.match(/<[^>\s]+>/g) ?? [])]
      // the walk found something to check wherever the parser declares anything
      if (cmd.words.length > 0) expect(flags.length, own).toBeGreaterThan(0)
      for (const f of flags) expect(screen, f).toMatch(new RegExp(`^ .*${f}\\b`, "m"))
      for (const a of aliases) expect(screen, a).toMatch(new RegExp(`^  ${a}, --`, "m"))
      for (const a of args) expect(screen, a).toContain(a)
      for (const child of cmd.children) expect(screen, child).toMatch(new RegExp(`^  ${child} +\\S`, "m"))
    }
  )

  it("every command has a summary and examples; the data names no command or flag that does not exist", () => {
    const paths = allCommands(helpTree())
    expect(Object.keys(helpData).sort()).toEqual(paths.map(pathKey).sort())
    for (const path of paths) {
      const help = helpData[pathKey(path)]!
      expect(help.summary.length, pathKey(path)).toBeGreaterThan(10)
      expect(help.summary.length, pathKey(path)).toBeLessThan(75)
      expect(help.examples.length, pathKey(path)).toBeGreaterThan(0)
      for (const e of help.examples) expect(e.command).toContain("olares-cli ")
      for (const name of help.required ?? []) {
        expect(path[path.length - 1]!.flags.map((f) => f.name), pathKey(path)).toContain(name)
      }
    }
  })

  it("examples only use commands and flags the parser knows, under the command they illustrate", () => {
    const tree = helpTree()
    for (const path of allCommands(tree)) {
      for (const e of helpData[pathKey(path)]!.examples) {
        const words = e.command.slice(e.command.indexOf("olares-cli ")).split(" | ")[0]!.split(" ").slice(1)
        const used = commandPath(tree, words)
        // the example runs this command or one below it
        expect(pathKey(used.slice(0, path.length)), e.command).toBe(pathKey(path))
        const node = used[used.length - 1]!
        expect(node.children, e.command).toHaveLength(0)
        const known = new Set(
          used.flatMap((c) => c.flags.flatMap((f) => [`--${f.name}`, ...f.aliases.map((a) => `-${a}`)]))
        )
        for (const w of words.filter((w) => /^-[A-Za-z]$|^--[a-z]/.test(w))) {
          expect(known, `${e.command}: ${w}`).toContain(w)
        }
      }
    }
  })

  it("no type annotations, no framework built-ins nobody should use, at most 100 columns", () => {
    for (const path of allCommands(helpTree())) {
      const screen = render(path)
      expect(screen).not.toMatch(
        /true or false|This setting is optional|user-defined piece of text|One of the following/
      )
      expect(screen).not.toContain("--wizard")
      expect(screen).not.toContain("--log-level")
      expect(screen).toMatch(/^USAGE\n {2}olares-cli/m)
      expect(screen).toMatch(/^EXAMPLES\n/m)
      expect(screen).toMatch(/^EXIT CODES\n/m)
      expect(screen).toContain("/opt/olares-cli/README.md")
      for (const line of screen.split("\n")) expect(line.length, line).toBeLessThanOrEqual(MAX_WIDTH)
      expect(screen).not.toContain(ESC)
      expect(render(path, 100, true)).toContain(`${ESC}[1mUSAGE${ESC}[0m`)
    }
  })

  it("the profile verbs list the group's version flags once, as inherited flags", () => {
    const screen = render(pathTo(["profile", "list"]))
    const [own, inherited] = screen.split("INHERITED FLAGS")
    expect(own).not.toContain("--olares-version")
    expect(inherited).toContain("--olares-version <version>")
    expect(inherited).toContain("--refresh-version")
    expect(own).toMatch(/^ {2}-o, --output <table\|json> +Output format: table/m)
    expect(own).toContain("(default: table)")
    expect(render(pathTo(["profile"]))).toMatch(/^FLAGS\n {6}--olares-version <version>/m)
  })

  it("narrower terminals: every line fits (a single word wider than the screen keeps its line)", () => {
    const paths = allCommands(helpTree())
    fc.assert(
      fc.property(fc.integer({ min: 40, max: 140 }), fc.constantFrom(...paths), (width, path) => {
        const screen = render(path, width)
        const limit = Math.min(width, MAX_WIDTH)
        for (const line of screen.split("\n")) {
          if (line.length > limit && line.trim().split(/\s+/).length > 1) throw new Error(`${width}: ${line}`)
        }
        // nothing is lost by wrapping: the words are those of the widest screen
        expect(screen.replace(/ \\\n/g, " ").split(/\s+/).join(" ")).toBe(
          render(path, 100).replace(/ \\\n/g, " ").split(/\s+/).join(" ")
        )
      }),
      { numRuns: 60 }
    )
  })

  it("wrapWords: greedy, no word lost, no line over the width unless one word is", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{1,15}$/), { maxLength: 40 }),
        fc.integer({ min: 10, max: 100 }),
        (words, width) => {
          const lines = wrapWords(words.join(" "), width)
          expect(lines.join(" ").split(" ").filter((w) => w !== "")).toEqual(words)
          for (const l of lines) expect(l.length <= width || !l.includes(" ")).toBe(true)
          for (let i = 0; i + 1 < lines.length; i++) {
            expect(lines[i]!.length + 1 + lines[i + 1]!.split(" ")[0]!.length)
              .toBeGreaterThan(width)
          }
        }
      )
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Through the built CLI
// ---------------------------------------------------------------------------------------------

const home = makeTempHome()
afterAll(() => home.cleanup())

/** The CLI run piped, as a script or an agent sees it (the README path made machine-independent). */
const piped = async (args: ReadonlyArray<string>, env: Record<string, string | undefined> = {}) => {
  const r = await runCli(args, { env: { ...home.env, NO_COLOR: undefined, ...env } })
  return { ...r, stdout: r.stdout.split(README).join("<package>/README.md") }
}

const SCREENS = allCommands(helpTree()).map((p) => p.slice(1).map((c) => c.name))

describe("help screens of the built CLI", () => {
  it.each(SCREENS.map((words) => [words.join(" ") || "olares-cli", words] as const))(
    "%s --help",
    async (name, words) => {
      const r = await piped([...words, "--help"])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toBe("")
      expect(r.stdout).not.toContain(ESC)
      expect(r.stdout).toContain("<package>/README.md")
      await expect(r.stdout).toMatchFileSnapshot(`__snapshots__/help/${name.replace(/ /g, "-")}.txt`)
      // the same screen however it is asked for
      const group = pathTo(words)[pathTo(words).length - 1]!.children.length > 0
      for (const other of [[...words, "-h"], ["help", ...words], ...(group ? [words] : [])]) {
        const again = await piped(other)
        expect(again.code, other.join(" ")).toBe(0)
        expect(again.stdout, other.join(" ")).toBe(r.stdout)
      }
    }
  )

  it("the README shows the first screen as it is", async () => {
    const r = await piped(["--help"])
    expect(readFileSync(README, "utf8")).toContain("```text\n" + r.stdout + "```\n")
  })

  it("--help after flags and values, and before the verb's own flags, still shows the verb", async () => {
    const list = await piped(["profile", "list", "--help"])
    for (
      const args of [["profile", "--olares-version", "1.12.6", "list", "--help"], [
        "profile",
        "list",
        "-o",
        "json",
        "--help"
      ], ["profile", "-h", "list"]]
    ) {
      const r = await piped(args)
      expect(r.code, args.join(" ")).toBe(0)
      expect(r.stdout, args.join(" ")).toBe(list.stdout)
    }
  })

  it("usage errors are unchanged: exit 2, the parser's words, no help screen", async () => {
    const bogus = await piped(["profile", "list", "--bogus"])
    expect(bogus.code).toBe(2)
    expect(bogus.stderr).toContain("Received unknown argument: '--bogus'")
    expect(bogus.stdout).toBe("")
    const missing = await piped(["profile", "use"])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("Missing argument <name|olaresId|->")
    const help = await piped(["help", "profile", "nope"])
    expect(help.code).toBe(2)
    expect(help.stderr).toContain(`unknown command "profile nope" for "olares-cli help"`)
    const json = await piped(["help", "nope", "-o", "json"])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: "usage", exitCode: 2 } })
  })

  it("--wizard and --log-level are refused like any unknown flag, before anything runs", async () => {
    for (
      const args of [["--wizard"], ["profile", "list", "--wizard"], ["profile", "--log-level", "debug", "list"], [
        "api",
        "--log-level=debug",
        "/x"
      ], ["api", "/x", "--", "--wizard"]]
    ) {
      const r = await piped(args)
      expect(r.code, args.join(" ")).toBe(2)
      expect(r.stderr, args.join(" ")).toMatch(/Received unknown argument: '--(wizard|log-level)/)
    }
    const json = await piped(["profile", "list", "-o", "json", "--wizard"])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stderr.slice(json.stderr.indexOf("{")))).toMatchObject({
      error: { code: "usage", exitCode: 2 }
    })
    // after `--` it is an argument, not a flag: the parser decides (here: a path the profile lacks)
    const after = await piped(["api", "--", "--wizard"])
    expect(after.stderr).not.toContain("Received unknown argument: '--wizard'")
  })

  it("colour: bold headings on a terminal; none with NO_COLOR=1 or TERM=dumb; the same text as piped", async () => {
    if (!hasScript()) return expect.fail("util-linux `script` is needed for the pty tests")
    const plain = (await piped(["profile", "--help"])).stdout
    const tty = await runInPty(["profile", "--help"], { env: { ...home.env, NO_COLOR: undefined } }).exited
    expect(tty.code).toBe(0)
    expect(tty.screen).toContain(`${ESC}[1mUSAGE${ESC}[0m`)
    expect(tty.screen).toContain(`${ESC}[1mINHERITED FLAGS${ESC}[0m`)
    expect(stripAnsi(tty.screen).split(README).join("<package>/README.md")).toBe(plain)
    for (const env of [{ NO_COLOR: "1" }, { TERM: "dumb" }]) {
      const r = await runInPty(["profile", "--help"], { env: { ...home.env, NO_COLOR: undefined, ...env } }).exited
      expect(r.code).toBe(0)
      expect(r.screen).toContain("INHERITED FLAGS")
      expect(r.screen).not.toContain(ESC)
    }
  })
})
