/**
 * The end-to-end fixture shared by the test files that spawn the built CLI: one loopback server per
 * file, restored to its defaults before each test, and a fresh temp home per test.
 */
import { afterAll, beforeAll, beforeEach } from "vitest"
import { type CliResult, makeTempHome, runCli, type RunOptions, type TempHome } from "./cli.js"
import { type OlaresTestServer, startServer } from "./server.js"

/** The fixture: the current server and home, and the CLI run in that home. */
export interface E2e {
  readonly server: OlaresTestServer
  readonly home: TempHome
  /** Runs `olares-cli ...args` with the temp home's env (plus `opts.env`). */
  readonly cli: (args: ReadonlyArray<string>, opts?: RunOptions) => Promise<CliResult>
}

/** The loopback server alone: one per test file, restored to its defaults before each test. */
export const useServer = (): { readonly server: OlaresTestServer } => {
  let server: OlaresTestServer | undefined
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(async () => {
    await server?.close()
  })
  beforeEach(() => {
    if (server === undefined) return
    server.reset()
    server.setAccessTtl(3600)
    server.setOsVersion("1.12.6")
    server.setRotateRefreshTokens(true)
  })
  return {
    get server() {
      if (server === undefined) throw new Error("the test server was used outside a test")
      return server
    }
  }
}

/** Registers the hooks; call once at the top of a test file. */
export const useE2e = (): E2e => {
  const fixture = useServer()
  let home: TempHome | undefined
  beforeEach(() => {
    const h = makeTempHome()
    home = h
    return () => h.cleanup()
  })
  const currentHome = (): TempHome => {
    if (home === undefined) throw new Error("the e2e home was used outside a test")
    return home
  }
  return {
    get server() {
      return fixture.server
    },
    get home() {
      return currentHome()
    },
    cli: (args, opts = {}) => runCli(args, { ...opts, env: { ...currentHome().env, ...opts.env } })
  }
}
