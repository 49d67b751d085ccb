/** Helpers shared by the hardening suites: byte-exact snapshots of a temp home, and "no stack trace". */
import { createHash } from "node:crypto"
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs"
import { join, relative } from "node:path"
import { expect } from "vitest"

/** Every file and directory under `root` with its mode and content hash: "touched nothing" is equality. */
export const snapshot = (root: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name)
      const st = lstatSync(p)
      const rel = relative(root, p)
      if (st.isDirectory()) {
        out[rel] = `dir ${(st.mode & 0o777).toString(8)}`
        walk(p)
      } else if (st.isSymbolicLink()) {
        out[rel] = `link ${readlinkSync(p)}`
      } else {
        out[rel] = `file ${(st.mode & 0o777).toString(8)} ${createHash("sha256").update(readFileSync(p)).digest("hex")}`
      }
    }
  }
  walk(root)
  return out
}

/** A stack frame or an internal module path: something escaped the typed error rendering. */
export const STACK_TRACE = /^\s+at \S|node:internal|Error: unexpected/m

/** Asserts that nothing was printed but typed messages. */
export const expectNoStack = (r: { readonly stdout: string; readonly stderr: string }) => {
  expect(r.stdout + r.stderr).not.toMatch(STACK_TRACE)
}
