/**
 * Commands that need no network never load the HTTP stack: src/commands/wiring.ts imports
 * `NetworkLive` / `ReachabilityLive` on first use. The full CLI is one code-cached bundle
 * (dist/cli.cjs), where such an import initialises the bundled module only when it runs; the
 * loader says so at Debug (`loading NetworkLive on first use`), so the built CLI shows, under
 * OLARES_CLI_DEBUG=1, which commands paid for it. The offline commands never do; `whoami` (the
 * control) does, so the probe is real.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, makeTempHome, type TempHome } from "../support/cli.js"

let home: TempHome

beforeAll(() => {
  home = makeTempHome()
  mkdirSync(home.home, { recursive: true, mode: 0o700 })
  writeFileSync(
    join(home.home, "config.json"),
    JSON.stringify({
      currentProfile: "alice@olares.com",
      profiles: [{ olaresId: "alice@olares.com" }, { olaresId: "bob@olares.com" }]
    }),
    { mode: 0o600 }
  )
})
afterAll(() => home.cleanup())

/** Runs the built CLI (the full CLI: the quick and fast tiers are off) with Debug logging on. */
const run = (args: ReadonlyArray<string>) => {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      ...home.env,
      OLARES_CLI_KEYSTORE: "file",
      OLARES_CLI_QUICK: "0",
      OLARES_CLI_FAST: "0",
      OLARES_CLI_DEBUG: "1"
    },
    encoding: "utf8",
    timeout: 30_000
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const LOADED = /loading (NetworkLive|ReachabilityLive) on first use/

describe("the HTTP stack loads only when a command talks to a server", () => {
  it("offline commands never load it", () => {
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
      const r = run(args)
      expect(r.stderr, args.join(" ")).toContain("debug: served by the full path")
      expect(r.stderr, args.join(" ")).not.toMatch(LOADED)
    }
  })

  it("the control: whoami needs the network layer and loads it, once", () => {
    const r = run(["profile", "whoami", "--no-input"])
    expect(r.stderr).toContain("no access token for alice@olares.com")
    expect(r.stderr.match(/debug: loading NetworkLive on first use/g)).toHaveLength(1)
  })
})
