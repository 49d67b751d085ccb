/**
 * Loads a CommonJS bundle through vm.Script with the V8 code cache made for it at install time
 * (Node 20 has no module compile cache): the one loading mechanism of every Effect-backed command.
 * A cache from another Node version, or a damaged one, is rejected by V8 and simply not used; a
 * missing one means compiling from source.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname } from "node:path"
import * as vm from "node:vm"

/** The cache file next to a bundle. */
export const cacheFileOf = (file: string): string => file.replace(/\.cjs$/, ".cache")

/**
 * Evaluates `file` (a CommonJS script) and returns its exports. With OLARES_CLI_WRITE_CODE_CACHE=1
 * (the build's warm-up run) the cache is written when the process exits, so it covers every function
 * the run compiled.
 */
export const loadCached = <A>(file: string, env: NodeJS.ProcessEnv = process.env): A => {
  const cacheFile = cacheFileOf(file)
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, "utf8")}\n})`
  const script = new vm.Script(source, { filename: file, ...(cachedData !== undefined ? { cachedData } : {}) })
  const mod = { exports: {} as A }
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, dirname(file))
  if (env.OLARES_CLI_WRITE_CODE_CACHE === "1") {
    // temp + rename: a CLI starting meanwhile reads the old cache or the new one, never half of one;
    // on `exit`, because the full CLI ends with process.exit (no `beforeExit`)
    process.once("exit", () => {
      writeFileSync(`${cacheFile}.${process.pid}.tmp`, script.createCachedData())
      renameSync(`${cacheFile}.${process.pid}.tmp`, cacheFile)
    })
  }
  return mod.exports
}
