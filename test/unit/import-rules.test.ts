/**
 * The one-way flow, enforced: walks the import graph of src/ and layers/ (static imports, type-only
 * imports, `export ... from` and dynamic `import()`, read by TypeScript's own pre-processor) and
 * fails on an edge against the house rules. No build, no processes.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import ts from "typescript"
import { describe, expect, it } from "vitest"

const ROOT = resolve(import.meta.dirname, "../..")

/** The one module under src/commands that wires layers to verbs. */
const COMPOSITION = "src/commands/wiring.ts"

/** One import: repo-relative paths of the importing and the imported module. */
interface Edge {
  readonly from: string
  readonly to: string
}

type Area = "domain" | "services" | "commands" | "layers" | "cli" | "other"

const areaOf = (file: string): Area =>
  file.startsWith("src/domain/")
    ? "domain"
    : file.startsWith("src/services/")
    ? "services"
    : file.startsWith("src/commands/")
    ? "commands"
    : file.startsWith("layers/")
    ? "layers"
    : file === "src/Cli.ts"
    ? "cli"
    : "other"

/** What each area may not import, and why (the message says it). */
const FORBIDDEN: Readonly<Record<Area, ReadonlyArray<Area>>> = {
  domain: ["services", "layers", "commands", "cli"],
  services: ["layers", "commands"],
  commands: ["layers"],
  layers: ["commands"],
  cli: [],
  other: []
}

/** Every edge that breaks a rule, as one line each. */
export const violations = (edges: ReadonlyArray<Edge>): Array<string> =>
  edges.flatMap(({ from, to }) => {
    const a = areaOf(from)
    const b = areaOf(to)
    if (!FORBIDDEN[a].includes(b)) return []
    if (a === "commands" && b === "layers" && from === COMPOSITION) return []
    return [
      `${from} imports ${to}: ${a} must not import ${b}${a === "commands" ? ` (only ${COMPOSITION} wires layers)` : ""}`
    ]
  })

const sources = (dir: string): Array<string> =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []
  )

/** The graph of relative imports among src/ and layers/ (packages are not edges). */
const importGraph = (): Array<Edge> =>
  [...sources("src"), ...sources("layers")].flatMap((from) => {
    const info = ts.preProcessFile(readFileSync(join(ROOT, from), "utf8"), true, true)
    return info.importedFiles
      .map((f) => f.fileName)
      .filter((spec) => spec.startsWith("."))
      .map((spec) => ({ from, to: relative(ROOT, resolve(ROOT, dirname(from), spec)).replace(/\.js$/, ".ts") }))
  })

describe("import rules", () => {
  it("src/ and layers/ keep the one-way flow", () => {
    const graph = importGraph()
    // the walk really sees the tree: the root wires the local layers, the composition module the network
    expect(graph).toContainEqual({ from: "src/Cli.ts", to: "layers/Main.ts" })
    expect(graph).toContainEqual({ from: COMPOSITION, to: "layers/NetworkLive.ts" })
    expect(graph.length).toBeGreaterThan(200)
    const found = violations(graph)
    expect(found, `import rule violations:\n${found.join("\n")}`).toEqual([])
  })

  it("reports each kind of violation, and the composition module is the only exception", () => {
    expect(
      violations([
        { from: "src/commands/list/index.ts", to: "layers/Main.ts" },
        { from: "src/domain/Paths.ts", to: "src/services/AppPaths.ts" },
        { from: "src/domain/Config.ts", to: "src/Cli.ts" },
        { from: "src/services/HttpAuth.ts", to: "layers/HttpAuthLive.ts" },
        { from: "src/services/Prompt.ts", to: "src/commands/options.ts" },
        { from: "layers/Main.ts", to: "src/commands/doctor/index.ts" },
        { from: COMPOSITION, to: "layers/NetworkLive.ts" },
        { from: "src/Cli.ts", to: "layers/Main.ts" },
        { from: "src/commands/list/index.ts", to: "src/services/HttpAuth.ts" },
        { from: "layers/HttpAuthLive.ts", to: "src/domain/Config.ts" }
      ])
    ).toEqual([
      "src/commands/list/index.ts imports layers/Main.ts: commands must not import layers (only src/commands/wiring.ts wires layers)",
      "src/domain/Paths.ts imports src/services/AppPaths.ts: domain must not import services",
      "src/domain/Config.ts imports src/Cli.ts: domain must not import cli",
      "src/services/HttpAuth.ts imports layers/HttpAuthLive.ts: services must not import layers",
      "src/services/Prompt.ts imports src/commands/options.ts: services must not import commands",
      "layers/Main.ts imports src/commands/doctor/index.ts: layers must not import commands"
    ])
  })

  it("reads static, type-only, re-export and dynamic imports alike", () => {
    const info = ts.preProcessFile(
      [
        `import * as A from "./a.js"`,
        `import type { B } from "./b.js"`,
        `export { C } from "./c.js"`,
        `import "./d.js"`,
        `const e = () => import("./e.js")`,
        `// import "./commented.js"`
      ].join("\n"),
      true,
      true
    )
    expect(info.importedFiles.map((f) => f.fileName).sort()).toEqual(["./a.js", "./b.js", "./c.js", "./d.js", "./e.js"])
  })
})
