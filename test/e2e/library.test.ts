/**
 * The library surface used as an outside program would: a separate Node process runs the example
 * skill (examples/skill.ts), which imports the built package (`olares-cli` -> dist/index.js),
 * provides `OlaresCliLive`, and makes an authenticated call as the profile the CLI created,
 * including a transparent refresh of an expired token. test/e2e/packed.test.ts does the same from the
 * packed tarball in a fresh app.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import { resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeLinuxFileKeyStore } from "../../layers/KeyStoreFile.js"
import { makeTempHome, runCli } from "../support/cli.js"
import { recordOutput } from "../support/leaks.js"
import { type OlaresTestServer, startServer } from "../support/server.js"

let server: OlaresTestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const runExample = (env: Record<string, string>, args: ReadonlyArray<string> = []) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [
      "--import",
      "tsx",
      resolve(import.meta.dirname, "../../examples/skill.ts"),
      ...args
    ], {
      env: { PATH: process.env.PATH ?? "", ...env },
      cwd: resolve(import.meta.dirname, "../..")
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("close", (code) => {
      recordOutput("examples/skill.ts", stdout + stderr)
      done({ code, stdout, stderr })
    })
  })

describe("library surface", () => {
  it("an outside program provides OlaresCliLive and calls as the current profile, refreshing an expired token", async () => {
    const home = makeTempHome()
    try {
      const g = await server.issueGrant("alice")
      const imp = await runCli([
        "profile",
        "import",
        "--olares-id",
        "alice@olares.com",
        "--auth-url-override",
        server.url
      ], {
        env: { ...home.env, OLARES_REFRESH_TOKEN: g.refreshToken }
      })
      expect(imp.code).toBe(0)
      // Make the stored access token stale, keeping its refresh token.
      const store = makeLinuxFileKeyStore(resolve(home.data, "olares-cli"))
      const rec = await Effect.runPromise(store.get("alice@olares.com"))
      if (rec._tag !== "Some") throw new Error("no record")
      const stale = await server.mintJwt({ ttl: -120 })
      await Effect.runPromise(store.set({ ...rec.value, accessToken: Redacted.make(stale) }))
      server.reset()

      const r = await runExample(home.env)
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(`${JSON.stringify({ olaresId: "alice@olares.com", status: 200, osVersion: "1.12.6" })}\n`)
      expect(server.hits("/api/refresh")).toBe(1)
      expect(server.hits("/api/olares-info")).toBe(2)
      const after = await Effect.runPromise(store.get("alice@olares.com"))
      expect(after._tag === "Some" && Redacted.value(after.value.accessToken)).not.toBe(stale)
    } finally {
      home.cleanup()
    }
  })

  it("without a profile the program gets the typed NoProfile error and its exit code", async () => {
    const home = makeTempHome()
    try {
      const r = await runExample(home.env)
      expect(r.code).toBe(3)
      expect(r.stderr).toContain("skill: no Olares profile is configured")
      expect(r.stdout).toBe("")
    } finally {
      home.cleanup()
    }
  })
})
