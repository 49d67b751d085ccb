/**
 * Loads a CommonJS bundle through vm.Script with the V8 code cache made for it at install time
 * (Node 20 has no module compile cache): the one loading mechanism of every Effect-backed command.
 * A cache from another Node version, or a damaged one, is rejected by V8 and simply not used (and
 * replaced); a missing one means compiling from source (and making one).
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname } from "node:path"
import * as vm from "node:vm"

/** The cache file next to a bundle. */
export const cacheFileOf = (file: string): string => file.replace(/\.cjs$/, ".cache")

/** Writes the script's code cache next to it: temp + rename, so a CLI starting meanwhile reads the old cache or the new one. */
const writeCache = (script: vm.Script, cacheFile: string) => {
  const temp = `${cacheFile}.${process.pid}.tmp`
  try {
    writeFileSync(temp, script.createCachedData())
    renameSync(temp, cacheFile)
  } catch {
    // a read-only install (a system-wide package) simply keeps compiling from source
    try {
      unlinkSync(temp)
    } catch {
      // never created
    }
  }
}

/**
 * Evaluates `file` (a CommonJS script) and returns its exports. When there is no cache, or V8
 * rejects it (the package was built on another Node), this run writes one for the Node running it
 * when the process exits, so the cache ends up made for the installing Node whichever Node built
 * the package. OLARES_CLI_WRITE_CODE_CACHE=1 (the build's warm-up runs) always writes it, so it
 * covers every function the run compiled on top of the previous cache.
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
  if (env.OLARES_CLI_WRITE_CODE_CACHE === "1" || cachedData === undefined || script.cachedDataRejected === true) {
    // on `exit`, because the full CLI ends with process.exit (no `beforeExit`)
    process.once("exit", () => writeCache(script, cacheFile))
  }
  return mod.exports
}
