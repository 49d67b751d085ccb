/** Vitest global setup: a leak directory for the whole run, scanned at teardown; a directory for the Go lock program. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export default function setup() {
  const dir = mkdtempSync(join(tmpdir(), "olares-leaks-"))
  process.env.OLARES_LEAK_DIR = dir
  // test/support/golock.ts builds its Go program here once per run
  const goDir = mkdtempSync(join(tmpdir(), "olares-golock-"))
  process.env.OLARES_GOLOCK_DIR = goDir
  return () => {
    rmSync(goDir, { recursive: true, force: true })
    const secrets = new Set<string>()
    const outputs: Array<{ label: string; text: string }> = []
    for (const f of readdirSync(dir)) {
      const lines = readFileSync(join(dir, f), "utf8").split("\n").filter((l) => l !== "")
      if (f.startsWith("secrets-")) { for (const l of lines) secrets.add(JSON.parse(l)) }
      if (f.startsWith("output-")) { for (const l of lines) outputs.push(JSON.parse(l)) }
    }
    rmSync(dir, { recursive: true, force: true })
    const leaks: Array<string> = []
    for (const o of outputs) {
      for (const s of secrets) {
        if (o.text.includes(s)) leaks.push(`${o.label}: printed a secret (${s.slice(0, 3)}...)`)
      }
    }
    console.log(`leak scan: ${secrets.size} secrets checked against ${outputs.length} captured outputs`)
    if (leaks.length > 0) throw new Error(`secret leak scan failed:\n${leaks.slice(0, 20).join("\n")}`)
  }
}
