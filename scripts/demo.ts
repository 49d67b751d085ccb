/**
 * `npm run demo`: a complete session against an embedded Olares-compatible server, with the real
 * CLI (dist/bin.cjs) in a throwaway home: login, login with TOTP, list, use -, an expired token
 * refreshed transparently, invalidation, remove. Secrets are piped, never shown.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { makeLinuxFileKeyStore } from "../layers/KeyStoreFile.js"
import { ALICE, BOB, startServer } from "../test/support/server.js"

const BIN = resolve(import.meta.dirname, "../dist/bin.cjs")
const root = mkdtempSync(join(tmpdir(), "olares-demo-"))
const env = {
  PATH: process.env.PATH ?? "",
  HOME: root,
  OLARES_CLI_HOME: join(root, "config"),
  OLARES_CLI_DATA_DIR: join(root, "data")
}
const bold = (s: string) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s)

/** Runs the CLI, echoing the command line (with `shown` in place of piped secrets) and its output. */
const step = (note: string, args: ReadonlyArray<string>, opts: { input?: string; shown?: string } = {}) =>
  new Promise<number | null>((done) => {
    console.log(`\n${bold(`# ${note}`)}`)
    console.log(`$ ${opts.shown ?? ""}olares-cli ${args.join(" ")}`)
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (out += d))
    child.on("close", (code) => {
      process.stdout.write(out === "" || out.endsWith("\n") ? out : `${out}\n`)
      console.log(`(exit ${code})`)
      done(code)
    })
    child.stdin.end(opts.input ?? "")
  })

const main = async () => {
  const server = await startServer({ port: 0 })
  const auth = ["--auth-url-override", server.url]
  console.log(bold(`olares-cli demo: an Olares-compatible server on ${server.url}, a scratch home in ${root}`))
  try {
    await step("log in with a password piped on stdin (never on argv)", [
      "profile",
      "login",
      "--olares-id",
      "alice@olares.com",
      ...auth,
      "--password-stdin"
    ], {
      input: `${ALICE.password}\n`,
      shown: "printf '%s\\n' \"$PASSWORD\" | "
    })
    await step("bob has two-factor authentication: without a code and without a terminal it says what to do", [
      "profile",
      "login",
      "--olares-id",
      "bob@olares.com",
      ...auth,
      "--password-stdin"
    ], { input: `${BOB.password}\n`, shown: "printf '%s\\n' \"$PASSWORD\" | " })
    await step("with the current TOTP code (single-use, never stored)", [
      "profile",
      "login",
      "--olares-id",
      "bob@olares.com",
      "--name",
      "work",
      ...auth,
      "--password-stdin",
      "--totp",
      server.totpNow("bob")
    ], { input: `${BOB.password}\n`, shown: "printf '%s\\n' \"$PASSWORD\" | " })
    await step("every profile, its status computed locally from the stored JWT", ["profile", "list"])
    await step("switch back to the previous profile, like cd -", ["profile", "use", "-"])
    await step("a still-valid token is not overwritten", [
      "profile",
      "login",
      "--olares-id",
      "alice@olares.com",
      ...auth,
      "--password-stdin"
    ], {
      input: `${ALICE.password}\n`,
      shown: "printf '%s\\n' \"$PASSWORD\" | "
    })

    // Age alice's access token past its expiry, as time would.
    const store = makeLinuxFileKeyStore(join(env.OLARES_CLI_DATA_DIR, "olares-cli"))
    const rec = await Effect.runPromise(store.get("alice@olares.com"))
    if (rec._tag === "Some") {
      const expired = await server.mintJwt({ username: "alice", ttl: -300 })
      await Effect.runPromise(store.set({ ...rec.value, accessToken: Redacted.make(expired) }))
    }
    await step("five minutes past expiry: the list shows it, no network involved", ["profile", "list"])
    server.reset()
    await step("the next authenticated call refreshes once and retries, transparently", ["api", "/api/olares-info"])
    console.log(`(the server saw ${server.hits("/api/refresh")} /api/refresh call)`)
    await step("fresh again", ["profile", "list"])
    await step("who am I, from the server", ["profile", "whoami", "--refresh"])

    server.revokeGrants("alice")
    if (rec._tag === "Some") {
      const expired = await server.mintJwt({ username: "alice", ttl: -300 })
      const now = await Effect.runPromise(store.get("alice@olares.com"))
      if (now._tag === "Some") await Effect.runPromise(store.set({ ...now.value, accessToken: Redacted.make(expired) }))
    }
    await step("the server revoked alice's grant: the refresh is refused and the profile is marked", [
      "api",
      "/api/olares-info"
    ])
    await step("invalidated profiles fail fast with the recovery command, no network", ["profile", "whoami"])
    await step("errors are machine-readable too", ["profile", "whoami", "-o", "json"])
    await step("remove is the logout", ["profile", "remove", "alice@olares.com", "--yes"])
    await step("removing the last profile also deletes the master key (no record remains)", [
      "profile",
      "remove",
      "work",
      "--yes"
    ])
    await step("nothing left", ["profile", "list"])
  } finally {
    await server.close()
    rmSync(root, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
