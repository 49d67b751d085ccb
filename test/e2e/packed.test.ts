/**
 * The package as a consumer gets it: `npm pack`, install the tarball into a fresh app next to
 * `effect@^3` (npm resolves the other peers), then type-check the example skill (NodeNext and
 * Bundler, strict, without skipLibCheck), run it through a refresh, require the package from
 * CommonJS, bundle the skill with esbuild (ESM and CJS) and run each bundle through a refresh, run
 * an @effect/vitest suite that imports only `olares-cli/testing`, run the bin, and check that the
 * app holds exactly one `effect` and that an Effect 4 install is refused at `npm install`.
 * Needs the built dist/ (npm test builds first) and the npm registry (or its local cache).
 */
import * as esbuild from "esbuild"
import { spawn } from "node:child_process"
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeTempHome, type TempHome } from "../support/cli.js"
import { recordOutput } from "../support/leaks.js"
import { seedProfile } from "../support/seed.js"
import { type OlaresTestServer, startServer } from "../support/server.js"

const REPO = resolve(import.meta.dirname, "../..")
const TSC = join(REPO, "node_modules/typescript/bin/tsc")

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command (no shell) with a clean env, recording its output for the leak scan. */
const run = (cmd: string, args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) =>
  new Promise<Run>((done) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), NO_COLOR: "1", ...env }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("close", (code) => {
      recordOutput(`packed: ${cmd} ${args.join(" ")}`, stdout + stderr)
      done({ code, stdout, stderr })
    })
  })

const npm = (args: ReadonlyArray<string>, cwd: string) =>
  run("npm", [...args, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], cwd)

let root: string
let app: string
let tarball: string
let server: OlaresTestServer
const timings: Record<string, number> = {}
const homes: Array<TempHome> = []

const timed = async <A>(label: string, f: () => Promise<A>): Promise<A> => {
  const start = performance.now()
  try {
    return await f()
  } finally {
    timings[label] = Math.round(performance.now() - start)
  }
}

/** A temp home whose current profile (alice on the loopback server) holds an expired access token. */
const expiredHome = async (): Promise<TempHome> => {
  const home = makeTempHome()
  homes.push(home)
  const grant = await server.issueGrant("alice", { ttlSeconds: -120 })
  await seedProfile(home, {
    olaresId: "alice@olares.com",
    accessToken: grant.accessToken,
    refreshToken: grant.refreshToken,
    authUrlOverride: server.url
  })
  return home
}

/** Runs a built skill against a fresh expired-token home: one JSON line, exactly one /api/refresh. */
const runsThroughRefresh = async (file: string) => {
  const home = await expiredHome()
  server.reset()
  const r = await run(process.execPath, [file], app, home.env)
  expect(r.stderr).toBe("")
  expect(r.code).toBe(0)
  // nothing but the skill's own line: no warning, no "Executing an Effect versioned ..." noise
  expect(r.stdout).toBe(`${JSON.stringify({ olaresId: "alice@olares.com", status: 200, osVersion: "1.12.6" })}\n`)
  expect(server.hits("/api/refresh")).toBe(1)
}

const tsconfig = (compilerOptions: Record<string, unknown>, files: ReadonlyArray<string>) =>
  JSON.stringify({
    // skipLibCheck as most apps set it (checking all of effect's .d.ts takes a minute); that the
    // package's types are real and not `any` is asserted by src/cjs-consumer.cts below
    compilerOptions: { strict: true, skipLibCheck: true, types: ["node"], target: "ES2022", ...compilerOptions },
    files
  })

const KIT_SUITE = `
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as Fiber from "effect/Fiber"
import { FileLock, HttpAuth, KeyStore, OlaresCliTest, seedProfile, testServer } from "olares-cli/testing"

describe("a consumer's suite on olares-cli/testing", () => {
  it.scoped("an expired token is refreshed once against the loopback server", () =>
    Effect.gen(function*() {
      const server = yield* testServer()
      yield* seedProfile(server, { state: "expired" })
      const { client } = yield* (yield* HttpAuth).current
      const res = yield* client.get("/api/olares-info")
      expect(res.status).toBe(200)
      expect(server.hits("/api/refresh")).toBe(1)
    }).pipe(Effect.provide(OlaresCliTest)))

  it.scoped("a revoked grant is stamped at TestClock 0 and sticks", () =>
    Effect.gen(function*() {
      const server = yield* testServer()
      const { olaresId } = yield* seedProfile(server, { state: "expired" })
      server.revokeGrants("alice")
      const { client } = yield* (yield* HttpAuth).current
      expect((yield* Effect.flip(client.get("/api/olares-info")))._tag).toBe("TokenInvalidated")
      const stored = yield* (yield* KeyStore).get(olaresId)
      expect(stored._tag === "Some" && stored.value.invalidatedAt).toBe(1)
      expect((yield* Effect.flip(Effect.flatMap(HttpAuth, (a) => a.current)))._tag).toBe("TokenInvalidated")
    }).pipe(Effect.provide(OlaresCliTest)))

  it.scoped("a contended lock times out on the TestClock", () =>
    Effect.gen(function*() {
      const locks = yield* FileLock
      yield* locks.lock("/x.lock", { timeout: "1 second" })
      const waiter = yield* Effect.fork(Effect.scoped(locks.lock("/x.lock", { timeout: "10 seconds" })))
      yield* TestClock.adjust("11 seconds")
      expect((yield* Effect.flip(Fiber.join(waiter)))._tag).toBe("LockTimeout")
    }).pipe(Effect.provide(OlaresCliTest)))
})
`

beforeAll(async () => {
  server = await startServer()
  root = mkdtempSync(join(tmpdir(), "olares-packed-"))
  app = join(root, "app")
  mkdirSync(join(app, "src"), { recursive: true })
  mkdirSync(join(app, "test"), { recursive: true })
  // dist/ is already built by `npm test`; do not let pack rebuild it under the other test files
  const pack = await timed(
    "npm pack",
    () => run("npm", ["pack", "--ignore-scripts", "--pack-destination", root, "--loglevel=error"], REPO)
  )
  expect(pack.code, pack.stderr).toBe(0)
  tarball = join(root, pack.stdout.trim().split("\n").pop()!)
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "skill-app", private: true, type: "module" }))
  copyFileSync(join(REPO, "examples/skill.ts"), join(app, "src/skill.ts"))
  const install = await timed(
    "npm install",
    () => npm(["install", tarball, "effect@^3", "@types/node@^20", "vitest@^3.2.4", "@effect/vitest@~0.30.0"], app)
  )
  expect(install.code, install.stderr).toBe(0)
}, 240_000)

afterAll(async () => {
  await server?.close()
  for (const h of homes) h.cleanup()
  if (root !== undefined) rmSync(root, { recursive: true, force: true })
  // a figure to watch, not an assertion (benchmarks are never timed assertions)
  process.stderr.write(`packed-tarball timings (ms): ${JSON.stringify(timings)}\n`)
})

describe("the packed tarball in a fresh app", () => {
  it("ships only what a consumer or the bin needs", async () => {
    const r = await run("tar", ["-tzf", tarball], root)
    const files = r.stdout.trim().split("\n").map((f) => f.replace(/^package\//, ""))
    expect(files).toContain("LICENSE")
    expect(files).toContain("dist/bin.cjs")
    expect(files).toContain("dist/index.cjs")
    expect(files).toContain("dist/types/esm/src/testing.d.ts")
    const stray = files.filter((f) => !/^(LICENSE|README\.md|package\.json|dist\/.+)$/.test(f))
    expect(stray).toEqual([])
    expect(files.filter((f) => /\.tmp|\.old|\.map$|\.test\./.test(f))).toEqual([])
    // every `types` condition points at a shipped file
    const manifest = JSON.parse(readFileSync(join(app, "node_modules/olares-cli/package.json"), "utf8"))
    const types = [...JSON.stringify(manifest.exports).matchAll(/"types":"([^"]+)"/g)].map((m) => m[1]!)
    expect(types.length).toBe(4)
    for (const t of [...types, manifest.types]) expect(files).toContain(t.replace(/^\.\//, ""))
  })

  it("holds exactly one copy of effect (the peers resolved, nothing pinned)", () => {
    const found: Array<string> = []
    const walk = (dir: string) => {
      if (!existsSync(dir)) return
      for (const name of readdirSync(dir)) {
        if (name.startsWith(".")) continue
        const sub = join(dir, name)
        if (name.startsWith("@")) {
          walk(sub)
          continue
        }
        const pkg = join(sub, "package.json")
        if (existsSync(pkg) && JSON.parse(readFileSync(pkg, "utf8")).name === "effect") found.push(sub)
        walk(join(sub, "node_modules"))
      }
    }
    walk(join(app, "node_modules"))
    expect(found).toEqual([join(app, "node_modules/effect")])
  })

  it("type-checks the skill under NodeNext and Bundler (strict), and runs it through one refresh", async () => {
    writeFileSync(
      join(app, "src/cjs-consumer.cts"),
      [
        "import olares = require(\"olares-cli\")",
        "import testing = require(\"olares-cli/testing\")",
        "type IsAny<T> = 0 extends 1 & T ? true : false",
        "export const notAny: [IsAny<typeof olares.HttpAuth>, IsAny<typeof olares.OlaresCliLive>, IsAny<typeof testing.seedProfile>] =",
        "  [false, false, false]",
        "export const layers: ReadonlyArray<unknown> = [olares.OlaresCliLive, testing.OlaresCliTest]",
        ""
      ].join("\n")
    )
    writeFileSync(
      join(app, "tsconfig.nodenext.json"),
      tsconfig({ module: "NodeNext", moduleResolution: "NodeNext", outDir: "out" }, [
        "src/skill.ts",
        "src/cjs-consumer.cts"
      ])
    )
    writeFileSync(
      join(app, "tsconfig.bundler.json"),
      tsconfig({ module: "ESNext", moduleResolution: "Bundler", noEmit: true }, ["src/skill.ts"])
    )
    const [nodeNext, bundler] = await timed("tsc x2", () =>
      Promise.all([
        run(process.execPath, [TSC, "-p", "tsconfig.nodenext.json"], app),
        run(process.execPath, [TSC, "-p", "tsconfig.bundler.json"], app)
      ]))
    expect(nodeNext.stdout + nodeNext.stderr).toBe("")
    expect(nodeNext.code).toBe(0)
    expect(bundler.stdout + bundler.stderr).toBe("")
    expect(bundler.code).toBe(0)
    await timed("run skill", () => runsThroughRefresh(join(app, "out/skill.js")))
  }, 120_000)

  it("requires from CommonJS", async () => {
    const r = await run(process.execPath, [
      "-e",
      "const o = require('olares-cli'); const t = require('olares-cli/testing');" +
      "console.log([typeof o.HttpAuth, typeof o.OlaresCliLive, typeof t.OlaresCliTest, typeof t.seedProfile].join(' '))"
    ], app)
    expect(r.stderr).toBe("")
    expect(r.stdout.trim()).toBe("function object object function")
  })

  it("bundles the skill with esbuild, ESM and CJS, and each bundle runs through one refresh", async () => {
    for (const format of ["esm", "cjs"] as const) {
      const outfile = join(app, `bundle/skill.${format === "esm" ? "mjs" : "cjs"}`)
      await timed(`esbuild ${format}`, () =>
        esbuild.build({
          absWorkingDir: app,
          entryPoints: [join(app, "src/skill.ts")],
          outfile,
          bundle: true,
          platform: "node",
          target: "node20",
          format,
          logLevel: "error",
          // native modules stay outside the bundle (loaded lazily, only where needed)
          external: ["@napi-rs/keyring", "koffi"],
          // CommonJS dependencies inside an ESM bundle call require() for Node builtins
          ...(format === "esm"
            ? {
              banner: {
                js: "import { createRequire } from \"node:module\";const require = createRequire(import.meta.url);"
              }
            }
            : {})
        }))
      await timed(`run bundle ${format}`, () => runsThroughRefresh(outfile))
    }
  })

  it("runs an @effect/vitest suite that uses only olares-cli/testing", async () => {
    writeFileSync(join(app, "test/kit.test.ts"), KIT_SUITE)
    const r = await timed(
      "vitest",
      () => run(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--reporter=dot"], app)
    )
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/3 passed/)
  })

  it("the bin runs from the install and from a global install without the peers", async () => {
    const home = makeTempHome()
    homes.push(home)
    const local = await run(join(app, "node_modules/.bin/olares-cli"), ["profile", "list", "-o", "json"], app, home.env)
    expect(local.stderr).toBe("")
    expect(JSON.parse(local.stdout)).toMatchObject({ profiles: [] })
    const viaNpx = await run("npx", ["--no-install", "olares-cli", "--version"], app, home.env)
    expect(viaNpx.code, viaNpx.stderr).toBe(0)
    const prefix = join(root, "global")
    // --legacy-peer-deps: install no peer at all (npm 7+ would otherwise add them)
    const g = await timed(
      "npm install -g",
      () => npm(["install", "-g", "--prefix", prefix, "--legacy-peer-deps", tarball], root)
    )
    expect(g.code, g.stderr).toBe(0)
    // the bin bundles its framework: it works even where no peer was installed
    expect(existsSync(join(prefix, "lib/node_modules/olares-cli/node_modules/effect"))).toBe(false)
    const global = await run(join(prefix, "bin/olares-cli"), ["api", "/api/olares-info"], root, home.env)
    expect(global.code).toBe(3)
    expect(global.stderr).toContain("no Olares profile is configured")
  })

  it("an Effect 4 install next to it is refused by npm (peer conflict), not crashed at runtime", async () => {
    const fresh = join(root, "effect4-app")
    mkdirSync(fresh)
    writeFileSync(join(fresh, "package.json"), JSON.stringify({ name: "effect4-app", private: true }))
    const r = await timed(
      "npm install effect@4 (dry run)",
      () => npm(["install", "--dry-run", tarball, "effect@4"], fresh)
    )
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain("ERESOLVE")
    expect(r.stderr).toMatch(/peer effect@"\^3/)
  })
})
