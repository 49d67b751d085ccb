// Sorts the flat test/*.test.ts files into the two vitest projects (vitest.config.ts):
//   unit: no build, no processes (in-process layers, fakes, the in-process loopback server);
//   e2e:  spawns processes (dist/bin.cjs, tsx workers, the Go programs, Wine, script(1)) or reads dist/.
// A test is e2e when it imports node:child_process / node:worker_threads / node:cluster, names dist/,
// or uses an export of a test/support module that (transitively) reaches one of those modules: only
// the names it imports count, so `useServer` (in-process) keeps a suite unit while `useE2e` does not.
// src/ and layers/ are not followed: the code under test spawning a one-off helper (openssl for TLS
// certificates) does not make the suite an end-to-end one.
//
//   node scripts/classify-tests.mjs           prints "<unit|e2e> <file>  # reason" per test/*.test.ts
//   node scripts/classify-tests.mjs --move    git mv's them into test/unit/ and test/e2e/ and rewrites
//                                             their relative imports (and snapshot folders) to match
// vitest.config.ts imports `classifyFlatTests` so `--project unit` works before the move too.
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const TEST = join(ROOT, "test")
const PROCESS_MODULES = /^node:(child_process|worker_threads|cluster)$|^(child_process|worker_threads|cluster)$/

/** The import declarations of a source text: module, whether type-only, and the bindings it brings in. */
const importsOf = (text) => {
  const out = []
  const re = /^import\s+(type\s+)?([^"';]*?)\s*(?:from\s*)?["']([^"']+)["']/gm
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const clause = m[2].trim()
    const bindings = [] // { local, imported } with imported "*" for a namespace or default
    const named = /\{([^}]*)\}/.exec(clause)
    if (named !== null) {
      for (const part of named[1].split(",").map((x) => x.trim()).filter((x) => x !== "")) {
        if (m[1] !== undefined || part.startsWith("type ")) continue
        const [imported, local = imported] = part.split(/\s+as\s+/)
        bindings.push({ imported, local })
      }
    }
    const rest = clause.replace(/\{[^}]*\}/, "").replace(/,/g, " ").trim()
    const ns = /\*\s+as\s+(\w+)/.exec(rest)
    if (ns !== null) bindings.push({ imported: "*", local: ns[1] })
    else if (rest !== "" && m[1] === undefined) bindings.push({ imported: "*", local: rest.split(/\s+/)[0] })
    out.push({ bindings, module: m[3], typeOnly: m[1] !== undefined })
  }
  // Dynamic imports pull in the whole module.
  for (const d of text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g)) {
    out.push({ bindings: [{ imported: "*", local: "" }], dynamic: true, module: d[1], typeOnly: false })
  }
  return out
}

/** The file a relative `.js` specifier names (TypeScript sources are imported as `.js`). */
const resolveTs = (from, spec) => {
  const base = resolve(dirname(from), spec)
  for (const cand of [base.replace(/\.js$/, ".ts"), base, `${base}.ts`, join(base, "index.ts")]) {
    if (existsSync(cand) && cand.endsWith(".ts")) return cand
  }
  return undefined
}

const isSupport = (file) => file !== undefined && file.startsWith(join(TEST, "support") + "/")
const supportCache = new Map()

/**
 * The exported names of a test/support module that start processes, each with the reason: a name is
 * process-bound when its top-level declaration refers to something imported from a process module or
 * to another process-bound name (of this module, or of a support module it imports), to a fixpoint.
 */
const processExports = (file, seen = new Set()) => {
  if (supportCache.has(file)) return supportCache.get(file)
  if (seen.has(file)) return new Map()
  seen.add(file)
  const text = readFileSync(file, "utf8")
  const tainted = new Map() // local name -> reason
  for (const imp of importsOf(text)) {
    if (imp.typeOnly) continue
    if (PROCESS_MODULES.test(imp.module)) {
      for (const b of imp.bindings) tainted.set(b.local, `${relative(ROOT, file)} imports ${imp.module}`)
    } else if (imp.module.startsWith(".")) {
      const target = resolveTs(file, imp.module)
      if (!isSupport(target)) continue
      const theirs = processExports(target, seen)
      for (const b of imp.bindings) {
        const why = b.imported === "*" ? theirs.values().next().value : theirs.get(b.imported)
        if (why !== undefined) tainted.set(b.local, why)
      }
    }
  }
  // Top-level declarations (a segment runs to the next one); types never run anything.
  const decl = /^(?:export\s+)?(?:default\s+)?(?:async\s+)?(const|let|var|function\*?|class|interface|type)\s+(\w+)/gm
  const segments = []
  const starts = [...text.matchAll(decl)]
  starts.forEach((m, i) => {
    const body = text.slice(m.index, i + 1 < starts.length ? starts[i + 1].index : text.length)
    if (m[1] !== "interface" && m[1] !== "type") segments.push({ body, exported: /^export/.test(m[0]), name: m[2] })
  })
  const refers = (body, name) =>
    name !== "" && new RegExp(`(?<![\\w$.])${name.replace(/\$/g, "\\$")}(?![\\w$])`).test(body)
  for (let changed = true; changed;) {
    changed = false
    for (const seg of segments) {
      if (tainted.has(seg.name)) continue
      const hit = [...tainted.keys()].find((t) => t !== seg.name && refers(seg.body, t))
      if (hit !== undefined) {
        tainted.set(seg.name, tainted.get(hit))
        changed = true
      }
    }
  }
  const result = new Map(
    segments.filter((s) => s.exported && tainted.has(s.name)).map((s) => [s.name, tainted.get(s.name)])
  )
  supportCache.set(file, result)
  return result
}

/** Classifies one test file: `{ kind: "unit" | "e2e", reason }`. */
export const classify = (file) => {
  const abs = resolve(ROOT, file)
  const text = readFileSync(abs, "utf8")
  const e2e = (reason) => ({ kind: "e2e", reason })
  if (/["'`/]dist\//.test(text)) return e2e("reads dist/")
  for (const imp of importsOf(text)) {
    if (imp.typeOnly) continue
    if (PROCESS_MODULES.test(imp.module)) return e2e(`imports ${imp.module}`)
    if (!imp.module.startsWith(".")) continue
    const target = resolveTs(abs, imp.module)
    if (!isSupport(target)) continue
    const theirs = processExports(target)
    for (const b of imp.bindings) {
      const why = b.imported === "*" ? theirs.values().next().value : theirs.get(b.imported)
      if (why !== undefined) return e2e(`uses ${b.imported === "*" ? relative(ROOT, target) : b.imported} (${why})`)
    }
  }
  return { kind: "unit", reason: "no process, no dist/" }
}

/** The flat test/*.test.ts files (paths relative to the repo root), split by kind. */
export const classifyFlatTests = () => {
  const result = { unit: [], e2e: [] }
  if (!existsSync(TEST)) return result
  for (const name of readdirSync(TEST).filter((n) => n.endsWith(".test.ts")).sort()) {
    result[classify(join(TEST, name)).kind].push(`test/${name}`)
  }
  return result
}

/** Rewrites the relative specifiers (and `import.meta.dirname`-relative paths) of a file moved one folder down. */
const rewriteForMove = (text) =>
  text
    .replace(/(\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(["'])(\.\.?\/[^"']*)\2/gm, (_m, pre, q, spec) =>
      `${pre}${q}${spec.startsWith("./") ? `../${spec.slice(2)}` : `../${spec}`}${q}`)
    .replace(/(import\.meta\.dirname,\s*)(["'])(\.\.?(?:\/[^"']*)?)\2/g, (_m, pre, q, p) =>
      `${pre}${q}${p === "." ? ".." : p.startsWith("./") ? `../${p.slice(2)}` : `../${p}`}${q}`)

const move = () => {
  const { e2e, unit } = classifyFlatTests()
  const git = (...args) => execFileSync("git", args, { cwd: ROOT, stdio: "inherit" })
  for (const [kind, files] of [["unit", unit], ["e2e", e2e]]) {
    if (files.length === 0) continue
    mkdirSync(join(TEST, kind), { recursive: true })
    for (const file of files) {
      const name = file.slice("test/".length)
      const to = `test/${kind}/${name}`
      git("mv", file, to)
      const abs = join(ROOT, to)
      const before = readFileSync(abs, "utf8")
      const after = rewriteForMove(before)
      if (after !== before) writeFileSync(abs, after)
      // File snapshots named relative to the test (`__snapshots__/...`) move with it.
      for (const m of after.matchAll(/[`"']__snapshots__\/([^/`"']+)\//g)) {
        const snap = join(TEST, "__snapshots__", m[1])
        if (existsSync(snap)) {
          mkdirSync(join(TEST, kind, "__snapshots__"), { recursive: true })
          git("mv", relative(ROOT, snap), `test/${kind}/__snapshots__/${m[1]}`)
        }
      }
      if (/import\.meta\.dirname|__dirname/.test(after)) console.log(`check by hand (paths): ${to}`)
    }
  }
  const snapshots = join(TEST, "__snapshots__")
  if (existsSync(snapshots) && readdirSync(snapshots).length === 0) rmdirSync(snapshots)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--move")) {
    move()
  } else {
    for (const name of readdirSync(TEST).filter((n) => n.endsWith(".test.ts")).sort()) {
      const { kind, reason } = classify(join(TEST, name))
      console.log(`${kind.padEnd(4)} test/${name}  # ${reason}`)
    }
  }
}
