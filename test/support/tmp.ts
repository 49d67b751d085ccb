/** Temp directories that a test file creates and removes when it is done. */
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { afterAll } from "vitest"

/** Registers cleanup once; returns a maker of fresh temp roots named `<prefix>XXXXXX`. */
export const useTempRoots = (prefix: string): () => string => {
  const roots: Array<string> = []
  afterAll(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true })
  })
  return () => {
    const root = mkdtempSync(join(tmpdir(), prefix))
    roots.push(root)
    return root
  }
}

/**
 * Lets other users reach `paths` (as root, for tests that run the CLI as another uid): every
 * ancestor directory lacking the others' search bit gets it (a checkout under a 0700 `mktemp -d`
 * would otherwise hide dist/ and node_modules from that uid). Returns the undo.
 */
export const letOthersReach = (...paths: ReadonlyArray<string>): () => void => {
  const changed: Array<readonly [string, number]> = []
  for (const path of paths) {
    for (let d = dirname(path);; d = dirname(d)) {
      const mode = statSync(d).mode & 0o7777
      if ((mode & 0o001) === 0 && !changed.some(([c]) => c === d)) {
        chmodSync(d, mode | 0o001)
        changed.push([d, mode])
      }
      if (dirname(d) === d) break
    }
  }
  return () => {
    for (const [d, mode] of changed.reverse()) chmodSync(d, mode)
  }
}

/** The repository's root (dist/, node_modules/): what a CLI run as another uid must be able to reach. */
export const REPO_PARTS = [
  resolve(import.meta.dirname, "../../dist/bin.cjs"),
  resolve(import.meta.dirname, "../../node_modules/koffi/package.json")
] as const
