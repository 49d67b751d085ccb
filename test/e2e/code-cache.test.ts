/**
 * The code-cache loader (src/startup/codeCache.ts): a script loads the same with a cache that
 * matches, with none, and with one V8 rejects (another Node, a damaged file); and the built CLI,
 * given a damaged or no dist/fast.cache or dist/cli.cache, prints exactly what it prints with the cache it was built
 * with, and leaves a cache behind that the next run uses (and so does not rewrite).
 */
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import * as vm from "node:vm"
import { afterAll, describe, expect, it } from "vitest"
import { cacheFileOf, loadCached } from "../../src/startup/codeCache.js"
import { BIN, makeTempHome } from "../support/cli.js"
import { recordOutput, recordSecret } from "../support/leaks.js"
import { seedProfile } from "../support/seed.js"
import { mintJwt } from "../support/server.js"

const ROOT = resolve(import.meta.dirname, "../..")
// Under the repository, so the copied bundle still finds node_modules (koffi) the way dist/ does.
const scratchRoot = join(ROOT, ".scratch")
mkdirSync(scratchRoot, { recursive: true })
const scratch = mkdtempSync(join(scratchRoot, "code-cache-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const SOURCE =
  "module.exports = { twice: (x) => x * 2, dir: __dirname, file: __filename, hasRequire: typeof require('node:path').join }\n"

describe("loadCached", () => {
  const file = join(scratch, "mod.cjs")
  writeFileSync(file, SOURCE)
  const check = () => {
    const m = loadCached<{ twice: (x: number) => number; dir: string; file: string; hasRequire: string }>(file, {})
    expect(m.twice(21)).toBe(42)
    expect(m.dir).toBe(scratch)
    expect(m.file).toBe(file)
    expect(m.hasRequire).toBe("function")
  }

  it("loads a CommonJS script without a cache", () => {
    rmSync(cacheFileOf(file), { force: true })
    check()
  })

  it("loads it with a cache V8 accepts, and with one it rejects", () => {
    expect(cacheFileOf(file)).toBe(join(scratch, "mod.cache"))
    const wrapped = `(function (exports, require, module, __filename, __dirname) {${SOURCE}\n})`
    const script = new vm.Script(wrapped, { filename: file })
    writeFileSync(cacheFileOf(file), script.createCachedData())
    check()
    writeFileSync(cacheFileOf(file), Buffer.from("not a V8 code cache at all, but the same length or not"))
    check()
  })
})

describe("the built CLI with a damaged or missing code cache", () => {
  it("prints the same as with its own cache, and makes a cache V8 accepts for the next run", async () => {
    const home = makeTempHome()
    try {
      const refreshToken = "refresh-token-of-the-code-cache-test"
      recordSecret(refreshToken)
      await seedProfile(home, { olaresId: "alice@olares.com", accessToken: await mintJwt({ ttl: 3600 }), refreshToken })
      const copy = join(scratch, "dist")
      cpSync(resolve(BIN, ".."), copy, { recursive: true })
      // the header kept, the body garbage: what a truncated or bit-rotten file looks like
      const damage = (name: string) => {
        const damaged = readFileSync(join(copy, name)).subarray(0, 4096)
        damaged.fill(0x5a, 64)
        writeFileSync(join(copy, name), damaged)
        return damaged
      }
      const run = (bin: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
        const r = spawnSync(process.execPath, [bin, ...args], {
          env: { PATH: process.env.PATH ?? "", ...home.env, ...env },
          encoding: "utf8"
        })
        recordOutput(`olares-cli ${args.join(" ")}`, r.stdout + r.stderr)
        return { code: r.status, stdout: r.stdout, stderr: r.stderr }
      }
      const same = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
        const ours = run(BIN, args, env)
        expect(run(join(copy, "bin.cjs"), args, env), args.join(" ")).toEqual(ours)
        return ours
      }
      // the fast tier's bundle and the full CLI's, each with a command it serves
      const served = [
        { cache: "fast.cache", args: ["profile", "list"], env: { OLARES_CLI_QUICK: "0" } },
        { cache: "cli.cache", args: ["profile", "doctor", "--offline", "-o", "json"], env: { OLARES_CLI_FAST: "0" } }
      ] as const
      for (const { args, cache, env } of served) {
        const cacheFile = join(copy, cache)
        const damaged = damage(cache)
        // rejected: the run works, then replaces the damaged cache with one for this Node
        expect(same(args, env).code, args.join(" ")).toBe(0)
        const made = readFileSync(cacheFile)
        expect(made.equals(damaged)).toBe(false)
        // accepted: a cache V8 uses is left alone
        same(args, env)
        expect(readFileSync(cacheFile).equals(made)).toBe(true)
      }
      // missing: made again, and usage errors are unchanged
      rmSync(join(copy, "cli.cache"))
      same(["profile", "bogus"])
      expect(existsSync(join(copy, "cli.cache"))).toBe(true)
      expect(readdirSync(copy).filter((f) => f.endsWith(".tmp"))).toEqual([])
    } finally {
      home.cleanup()
    }
  })
})
