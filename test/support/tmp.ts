/** Temp directories that a test file creates and removes when it is done. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"

/** Registers cleanup once; returns a maker of fresh temp roots named `<prefix>XXXXXX`. */
export const useTempRoots = (prefix: string): (() => string) => {
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
