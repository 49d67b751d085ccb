/**
 * The start-up route (src/startup/route.ts), the @effect/cli workarounds' argv rewrite
 * (src/startup/cliFixes.ts) and `wantsJson`, in process (no build, no processes). The route serves
 * a few argv shapes without @effect/cli; the grammar test proves it is not a second grammar: over
 * command lines generated from every command, option, alias and argument of the @effect/cli tree
 * (plus fast-check variations: orders, `--opt=value`, aliases, unknown flags, `--`, repeats), every
 * line the route serves is one @effect/cli accepts, after the full path's own argv rewrite, as the
 * same command with the same values and every other option at its default.
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { root } from "../../src/Cli.js"
import { allCommands, describeCommand } from "../../src/help.js"
import { normalizeArgv, rewriteArgv } from "../../src/startup/cliFixes.js"
import { type FastCommand, parseRoute, wantsJson, wantsJson as wantsJsonOutput } from "../../src/startup/route.js"

/** What @effect/cli makes of `argv` (after the full path's rewrite): the command's words and its values, or why not. */
type Parsed =
  | {
    readonly _tag: "Command"
    readonly words: ReadonlyArray<string>
    readonly values: ReadonlyArray<Record<string, unknown>>
  }
  | { readonly _tag: "Other"; readonly why: string }

const parse = (argv: ReadonlyArray<string>): Parsed => {
  const rewritten = rewriteArgv(argv)
  if (Either.isLeft(rewritten)) return { _tag: "Other", why: "usage error before parsing" }
  const directive = Effect.runSync(
    Effect.either(Descriptor.parse(root.descriptor, ["olares-cli", ...rewritten.right], CliConfig.defaultConfig)).pipe(
      Effect.provide(NodeContext.layer)
    )
  )
  if (Either.isLeft(directive)) return { _tag: "Other", why: "rejected" }
  const d = directive.right
  if (d._tag !== "UserDefined") return { _tag: "Other", why: d.option._tag }
  // Command.run refuses leftover words as unknown arguments
  if (d.leftover.length > 0) return { _tag: "Other", why: "leftover" }
  const words: Array<string> = []
  const values: Array<Record<string, unknown>> = []
  // at run time each level is `[its Tag, its values]` (the static type says only the values)
  let level = d.value as unknown as {
    readonly subcommand?: Option.Option<readonly [{ readonly key: string }, Record<string, unknown>]>
  }
  while (level.subcommand !== undefined && Option.isSome(level.subcommand)) {
    const [tag, value] = level.subcommand.value
    words.push(/\((.*)\)$/.exec(tag.key)![1]!)
    const { subcommand: _, ...own } = value
    values.push(own)
    level = value
  }
  return { _tag: "Command", words, values }
}

/** The values of the command's own options and arguments @effect/cli must have parsed. */
const ownValues = (cmd: FastCommand): Record<string, unknown> => {
  switch (cmd._tag) {
    case "list":
      return { output: cmd.output }
    case "use":
      return { key: cmd.key }
    case "whoami":
      return { refresh: false, output: cmd.output }
    case "remove":
      return { key: cmd.key, yes: true }
    case "doctor":
      return { output: cmd.output, offline: true }
  }
}

/** What @effect/cli must have parsed for a line the route serves: the command, its values, defaults elsewhere. */
const expected = (cmd: FastCommand): Parsed => {
  const versionDefaults = { olaresVersion: Option.none(), refreshVersion: false }
  return {
    _tag: "Command",
    words: ["profile", cmd._tag],
    values: [versionDefaults, { ...ownValues(cmd), ...versionDefaults, noInput: false }]
  }
}

/** The route of `argv` in a plain environment. */
const route = (argv: ReadonlyArray<string>) => parseRoute(argv, {})

/** Asserts the one-grammar rule for one command line. */
const agrees = (argv: ReadonlyArray<string>) => {
  const r = route(argv)
  if (r._tag !== "Fast") return
  expect(parse(argv), JSON.stringify(argv)).toEqual(expected(r.command))
}

// ---------------------------------------------------------------------------------------------
// Command lines from the tree
// ---------------------------------------------------------------------------------------------

const tree = describeCommand(root)
const commands = allCommands(tree).map((path) => path.slice(1).map((c) => c.name))
const leaves = allCommands(tree).filter((p) => p[p.length - 1]!.children.length === 0)
const VALUES = ["json", "table", "JSON", "Table", "yaml", "", " json", "-", "alice@olares.com", "work", "a b"]
/** Every spelling of every flag of the tree: `--name`, each alias, `--name=<value>`, `-a<value>`. */
const flagTokens = [
  ...new Set(
    leaves.flatMap((p) =>
      p.flatMap((c) =>
        c.flags.flatMap((f) => [
          `--${f.name}`,
          ...f.aliases.map((a) => (a.length === 1 ? `-${a}` : `--${a}`)),
          ...(f.placeholder !== undefined ? VALUES.map((v) => `--${f.name}=${v}`) : []),
          ...f.aliases.filter((a) => a.length === 1).flatMap((a) => [`-${a}json`, `-${a}=json`])
        ])
      )
    )
  )
]
const TOKENS = [
  ...new Set([
    ...commands.flat(),
    ...flagTokens,
    ...VALUES,
    "--",
    "--bogus",
    "-x",
    "-h",
    "--help",
    "--version",
    "--password",
    "help"
  ])
]

describe("parseRoute", () => {
  it("serves exactly the list, use, whoami, remove --yes and doctor --offline shapes, with @effect/cli's values", () => {
    expect(route(["profile", "list"])).toEqual({ _tag: "Fast", command: { _tag: "list", output: "table" } })
    expect(route(["profile", "list", "-o", "json"])).toEqual({
      _tag: "Fast",
      command: { _tag: "list", output: "json" }
    })
    expect(route(["profile", "list", "--output", "JSON"])).toEqual({
      _tag: "Fast",
      command: { _tag: "list", output: "json" }
    })
    expect(route(["profile", "list", "--output=table"])).toEqual({
      _tag: "Fast",
      command: { _tag: "list", output: "table" }
    })
    expect(route(["profile", "use", "-"])).toEqual({ _tag: "Fast", command: { _tag: "use", key: "-" } })
    expect(route(["profile", "use", "work"])).toEqual({ _tag: "Fast", command: { _tag: "use", key: "work" } })
    for (const argv of [["profile", "remove", "work", "--yes"], ["profile", "remove", "-y", "work"]]) {
      expect(route(argv), JSON.stringify(argv)).toEqual({ _tag: "Fast", command: { _tag: "remove", key: "work" } })
    }
    expect(route(["profile", "whoami"])).toEqual({ _tag: "Fast", command: { _tag: "whoami", output: "table" } })
    expect(route(["profile", "whoami", "-o", "Json"])).toEqual({
      _tag: "Fast",
      command: { _tag: "whoami", output: "json" }
    })
    expect(route(["profile", "doctor", "--offline"])).toEqual({
      _tag: "Fast",
      command: { _tag: "doctor", output: "table" }
    })
    for (
      const argv of [
        ["profile", "doctor", "--offline", "-o", "JSON"],
        ["profile", "doctor", "--output=json", "--offline"],
        ["profile", "doctor", "--output", "json", "--offline"]
      ]
    ) {
      expect(route(argv), JSON.stringify(argv)).toEqual({ _tag: "Fast", command: { _tag: "doctor", output: "json" } })
    }
    for (
      const argv of [
        ["profile", "list", "-o", "yaml"],
        ["profile", "list", "--no-input"],
        ["profile", "use"],
        ["profile", "use", "--x"],
        ["profile", "use", "a", "b"],
        ["profile", "use", ""],
        ["profile", "whoami", "--refresh"],
        ["profile", "whoami", "-o", "yaml"],
        ["profile", "whoami", "--no-input"],
        ["api", "/x"],
        [],
        ["--help"],
        ["profile", "list", "-h"],
        ["profile", "remove", "work"],
        ["profile", "remove", "--yes"],
        ["profile", "remove", "work", "--yes", "--no-input"],
        ["profile", "remove", "-", "--yes"],
        ["profile", "remove", "--yes", "-y"],
        ["profile", "doctor"],
        ["profile", "doctor", "-o", "json"],
        ["profile", "doctor", "--offline", "--offline"],
        ["profile", "doctor", "--offline", "-o"],
        ["profile", "doctor", "-o", "--offline", "json"],
        ["profile", "doctor", "--offline", "-o", "yaml"]
      ]
    ) {
      expect(route(argv), JSON.stringify(argv)).toEqual({ _tag: "Full", argv })
    }
  })

  it("refuses a password on argv before anything loads, wherever it stands", () => {
    for (const argv of [["profile", "login", "--password", "x"], ["--password=x"], ["api", "/x", "--password="]]) {
      const r = route(argv)
      expect(r._tag).toBe("Refuse")
      if (r._tag === "Refuse") {
        expect(r.exitCode).toBe(2)
        expect(r.message).toMatch(/^Error: there is no --password flag/)
        expect(r.message).not.toContain("x\n")
      }
    }
    // a value that merely looks like it is not the flag
    expect(route(["profile", "use", "--passwords"])._tag).toBe("Full")
  })

  it("sends a platform-mounted container to the full CLI (it imports the mount first)", () => {
    expect(parseRoute(["profile", "list"], { OLARES_CLI_CREDENTIALS_DIR: "/run/creds" })._tag).toBe("Full")
    expect(parseRoute(["profile", "list"], { OLARES_CLI_CREDENTIALS_DIR: "  " })._tag).toBe("Fast")
  })
})

describe("one grammar: the route against the @effect/cli tree", () => {
  it("the tree has the commands and flags the generator draws from", () => {
    expect(commands).toContainEqual(["profile", "list"])
    expect(commands).toContainEqual(["profile", "use"])
    expect(commands).toContainEqual(["profile", "whoami"])
    expect(commands).toContainEqual(["profile", "remove"])
    expect(commands).toContainEqual(["profile", "doctor"])
    expect(flagTokens).toContain("--yes")
    expect(flagTokens).toContain("-y")
    expect(flagTokens).toContain("--offline")
    expect(flagTokens).toContain("-o")
    expect(flagTokens).toContain("--no-input")
  })

  it("every command with every one of its flags (each spelling, each value) agrees", () => {
    let served = 0
    for (const path of leaves) {
      const words = path.slice(1).map((c) => c.name)
      for (const a of TOKENS) {
        for (const b of ["", ...VALUES]) {
          const argv = b === "" ? [...words, a] : [...words, a, b]
          agrees(argv)
          agrees([...words, b, a].filter((x, i) => i < words.length || x !== "" || b !== ""))
          if (route(argv)._tag === "Fast") served++
        }
      }
      agrees(words)
    }
    // the walk reaches the served shapes, so the comparison above is not empty
    expect(served).toBeGreaterThan(10)
  })

  it("every line of up to three of remove's and doctor's words agrees, and each served shape is reached", () => {
    const words = ["--offline", "-o", "--output", "--output=json", "json", "JSON", "table", "yaml", "--yes", "-y"]
    const more = [...words, "work", "alice@olares.com", "-", "", "--no-input", "--", "--bogus", "-h"]
    const reached = new Set<string>()
    for (const verb of ["remove", "doctor"]) {
      for (const a of more) {
        for (const b of ["", ...more]) {
          for (const c of ["", ...more]) {
            const argv = ["profile", verb, a, b, c].filter((x, i) => i < 3 || x !== "")
            agrees(argv)
            const r = route(argv)
            if (r._tag === "Fast") reached.add(`${r.command._tag} ${JSON.stringify(r.command)}`)
          }
        }
      }
    }
    expect([...reached].sort()).toEqual([
      "doctor {\"_tag\":\"doctor\",\"output\":\"json\"}",
      "doctor {\"_tag\":\"doctor\",\"output\":\"table\"}",
      "remove {\"_tag\":\"remove\",\"key\":\"alice@olares.com\"}",
      "remove {\"_tag\":\"remove\",\"key\":\"json\"}",
      "remove {\"_tag\":\"remove\",\"key\":\"JSON\"}",
      "remove {\"_tag\":\"remove\",\"key\":\"table\"}",
      "remove {\"_tag\":\"remove\",\"key\":\"work\"}",
      "remove {\"_tag\":\"remove\",\"key\":\"yaml\"}"
    ].sort())
  })

  it("any mix of the tree's words, flags and values agrees (fast-check)", () => {
    const token = fc.constantFrom(...TOKENS)
    const line = fc.oneof(
      fc.array(token, { maxLength: 6 }),
      fc.tuple(fc.constantFrom(...leaves.map((p) => p.slice(1).map((c) => c.name))), fc.array(token, { maxLength: 4 }))
        .map(([words, rest]) => [...words, ...rest]),
      fc.tuple(
        fc.constantFrom("list", "use", "whoami", "remove", "doctor"),
        fc.array(fc.oneof(token, fc.string()), { maxLength: 3 })
      )
        .map(([verb, rest]) => ["profile", verb, ...rest])
    )
    fc.assert(fc.property(line, (argv) => agrees(argv)), { numRuns: 1500 })
  })
})

describe("normalizeArgv", () => {
  it("moves a lone `-` of `profile use` after the options, and touches nothing else", () => {
    expect(normalizeArgv(["profile", "use", "-", "--no-input"])).toEqual(["profile", "use", "--no-input", "-"])
    expect(normalizeArgv(["profile", "use", "--no-input", "-"])).toEqual(["profile", "use", "--no-input", "-"])
    expect(normalizeArgv(["profile", "use", "alice"])).toEqual(["profile", "use", "alice"])
    expect(normalizeArgv(["profile", "list", "-"])).toEqual(["profile", "list", "-"])
    expect(normalizeArgv(["api", "-", "-X", "POST"])).toEqual(["api", "-", "-X", "POST"])
  })

  it("`profile use - <flags>` then parses as @effect/cli parses `profile use <flags> -`", () => {
    expect(parse(["profile", "use", "-", "--no-input"])).toEqual(parse(["profile", "use", "--no-input", "-"]))
    expect(parse(["profile", "use", "-", "--no-input"])._tag).toBe("Command")
  })
})

describe("rewriteArgv", () => {
  it("lower-cases -o values for the output verbs and refuses others with the reference's text", () => {
    expect(rewriteArgv(["profile", "whoami", "-o", "JSON"])).toEqual(Either.right(["profile", "whoami", "-o", "json"]))
    expect(rewriteArgv(["profile", "list", "--output=Table"])).toEqual(
      Either.right(["profile", "list", "--output", "table"])
    )
    const bad = rewriteArgv(["profile", "doctor", "-o", "yaml"])
    expect(Either.isLeft(bad) && bad.left.message).toBe("unsupported --output \"yaml\" (allowed: table, json)")
    // other verbs keep their argv (api has no -o)
    expect(rewriteArgv(["api", "/x", "-o", "yaml"])).toEqual(Either.right(["api", "/x", "-o", "yaml"]))
  })
})

describe("wantsJson", () => {
  it("reads every spelling of JSON output, in any case", () => {
    for (
      const argv of [["-o", "json"], ["--output", "JSON"], ["--output=json"], ["-o=json"], ["-ojson"], ["--json"], [
        "x",
        "-o",
        " Json "
      ]]
    ) {
      expect(wantsJson(argv), JSON.stringify(argv)).toBe(true)
    }
    for (const argv of [[], ["-o", "table"], ["-o"], ["json"], ["--output=table"], ["-x", "json"]]) {
      expect(wantsJson(argv), JSON.stringify(argv)).toBe(false)
    }
  })

  it("is the one output.ts exports (one implementation)", () => {
    expect(wantsJsonOutput).toBe(wantsJson)
  })
})
