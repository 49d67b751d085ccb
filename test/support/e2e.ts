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

/** Registers the hooks; call once at the top of a test file. */
export const useE2e = (): E2e => {
  let server: OlaresTestServer | undefined
  let home: TempHome | undefined
  const current = <A>(a: A | undefined, what: string): A => {
    if (a === undefined) throw new Error(`e2e ${what} used outside a test`)
    return a
  }
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(async () => {
    await server?.close()
  })
  beforeEach(() => {
    const s = current(server, "server")
    s.reset()
    s.setAccessTtl(3600)
    s.setOsVersion("1.12.6")
    s.setRotateRefreshTokens(true)
    const h = makeTempHome()
    home = h
    return () => h.cleanup()
  })
  return {
    get server() {
      return current(server, "server")
    },
    get home() {
      return current(home, "home")
    },
    cli: (args, opts = {}) => runCli(args, { ...opts, env: { ...current(home, "home").env, ...opts.env } })
  }
}
