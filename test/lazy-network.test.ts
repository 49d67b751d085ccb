/**
 * Commands that need no network never load the HTTP stack (src/commands/wiring.ts imports it on
 * first use): a copy of the built CLI without its network chunks (`NetworkLive`, `ReachabilityLive`)
 * answers the offline commands byte for byte like the real build, while a command that does talk
 * to a server (the control) fails in the copy because it needs the missing chunk.
 */
import { spawnSync } from "node:child_process"
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, makeTempHome, type TempHome } from "./support/cli.js"

const ROOT = resolve(import.meta.dirname, "..")
let copy: string
// one home per build, seeded alike: use and remove change them
let homes: { readonly real: TempHome; readonly stripped: TempHome }

const seed = (home: TempHome) => {
  mkdirSync(home.home, { recursive: true, mode: 0o700 })
  writeFileSync(
    join(home.home, "config.json"),
    JSON.stringify({ currentProfile: "alice@olares.com", profiles: [{ olaresId: "alice@olares.com" }, { olaresId: "bob@olares.com" }] }),
    { mode: 0o600 }
  )
  return home
}

beforeAll(() => {
  // under the repository's node_modules, so the copy resolves the native packages as dist/ does
  copy = mkdtempSync(join(ROOT, "node_modules", ".offline-dist-"))
  cpSync(join(ROOT, "dist"), copy, { recursive: true })
  const chunks = join(copy, "chunks")
  const network = readdirSync(chunks).filter((n) => /^(NetworkLive|ReachabilityLive)-.*\.js$/.test(n))
  expect(network.length).toBe(2)
  for (const n of network) rmSync(join(chunks, n))
  homes = { real: seed(makeTempHome()), stripped: seed(makeTempHome()) }
})
afterAll(() => {
  rmSync(copy, { recursive: true, force: true })
  homes.real.cleanup()
  homes.stripped.cleanup()
})

/** Runs one build in its own home; the home's path reads `<root>` so the two can be compared. */
const run = (which: "real" | "stripped", args: ReadonlyArray<string>) => {
  const home = homes[which]
  const r = spawnSync(process.execPath, [which === "real" ? BIN : join(copy, "bin.cjs"), ...args], {
    env: { PATH: process.env.PATH ?? "", ...home.env, OLARES_CLI_KEYSTORE: "file" },
    encoding: "utf8",
    timeout: 30_000
  })
  const plain = (s: string) => s.split(home.root).join("<root>")
  return { code: r.status, stdout: plain(r.stdout), stderr: plain(r.stderr) }
}

describe("the HTTP stack loads only when a command talks to a server", () => {
  it("offline commands answer the same without the network chunks", () => {
    const offline: ReadonlyArray<ReadonlyArray<string>> = [
      ["profile", "list", "--no-input"],
      ["profile", "list", "-o", "json", "--no-input"],
      ["profile", "doctor", "--offline", "-o", "json"],
      ["profile", "use", "bob@olares.com", "--no-input"],
      ["profile", "use", "-", "--no-input"],
      ["profile", "use", "nobody", "--no-input"],
      ["profile", "remove", "nobody", "--yes"]
    ]
    for (const args of offline) {
      const real = run("real", args)
      expect(run("stripped", args), args.join(" ")).toEqual(real)
    }
  })

  it("the control: whoami needs the network chunk, so the copy fails where the real build does not", () => {
    const real = run("real", ["profile", "whoami", "--no-input"])
    const stripped = run("stripped", ["profile", "whoami", "--no-input"])
    expect(real.stderr).toContain("no access token for alice@olares.com")
    expect(stripped.stderr).toContain("NetworkLive")
  })
})
