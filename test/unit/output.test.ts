/** How an unexpected defect is reported: one line and a pointer to OLARES_CLI_DEBUG, or, with it, the full cause. */
import { afterEach, describe, expect, it, vi } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import { reportCause } from "../../src/output.js"

const report = (json: boolean, debug: boolean) => {
  vi.stubEnv("OLARES_CLI_DEBUG", debug ? "1" : "")
  let err = ""
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    err += String(chunk)
    return true
  })
  const code = Effect.runSync(reportCause(Cause.die(new Error("boom in the store")), json))
  vi.restoreAllMocks()
  return { code, err }
}

describe("reportCause on a defect", () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it("prints one line and says how to see more; exit 1", () => {
    const { code, err } = report(false, false)
    expect(code).toBe(1)
    expect(err).toBe("Error: unexpected: boom in the store\n(set OLARES_CLI_DEBUG=1 for details)\n")
  })

  it("with OLARES_CLI_DEBUG prints the full cause instead of the pointer", () => {
    const { err } = report(false, true)
    expect(err.startsWith("Error: unexpected: boom in the store\n")).toBe(true)
    expect(err).toContain("at ")
    expect(err).not.toContain("set OLARES_CLI_DEBUG=1")
  })

  it("under -o json the envelope's message stays one line, with or without OLARES_CLI_DEBUG", () => {
    for (const debug of [false, true]) {
      const { err } = report(true, debug)
      const end = err.indexOf("\n}\n") + 3
      const envelope = JSON.parse(err.slice(0, end)) as { error: { message: string; code: string } }
      expect(envelope.error).toMatchObject({ code: "unclassified", message: "boom in the store" })
      expect(err.slice(end) === "").toBe(!debug)
    }
  })
})
