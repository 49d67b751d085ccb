/**
 * The Windows code paths for real, under Wine (runs when OLARES_TEST_WINDOWS=1: `npm run
 * test:windows`, and .ci/run): node.exe runs the built CLI against the loopback server, the
 * records land in Wine's registry sealed by Wine's DPAPI (checked with Wine's `reg`), and an
 * independent Go implementation of the Go CLI's store (test/support/gowinvault, cross-compiled)
 * reads what we write and writes what we read; a record an earlier version kept in the Windows
 * Credential Manager (through @napi-rs/keyring's Windows binary, with a stand-in for the
 * bcryptprimitives.dll Wine 8 lacks) is moved into the registry.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ALICE, type OlaresTestServer, startServer } from "../support/server.js"
import { prepareWine, type WineEnv, winPath, type WinResult } from "../support/wine.js"

const KEY = "HKCU\\Software\\OlaresCli\\keychain\\olares-cli"
const A = "alice@olares.com"
const B = "bob@olares.com"
const C = "carol@olares.com"
const name = (account: string) => Buffer.from(account).toString("base64url")

let w: WineEnv
let server: OlaresTestServer
let scratch: string
let env: Record<string, string>
let n = 0

beforeAll(async () => {
  server = await startServer()
  w = prepareWine()
  scratch = join(w.root, "scratch")
  mkdirSync(scratch)
  env = { OLARES_CLI_HOME: winPath(join(w.root, "home")), OLARES_CLI_DATA_DIR: winPath(join(w.root, "data")) }
}, 180_000)

afterAll(async () => {
  w?.dispose()
  await server?.close()
})

/** Fails with the process's stderr in the message, so a broken Wine run says why. */
const ok = (r: WinResult): WinResult => {
  expect(r.code, `exit ${r.code}; stderr: ${r.stderr}`).toBe(0)
  return r
}

const cli = (args: ReadonlyArray<string>, opts: { env?: Record<string, string>; input?: string } = {}) =>
  w.cli(args, { ...opts, env: { ...env, ...opts.env } })

/** The values of the key as Wine's `reg query` lists them; `undefined` when the key does not exist. */
const regValues = async (): Promise<Map<string, { type: string; data: string }> | undefined> => {
  const r = await w.exe("reg", ["query", KEY])
  if (r.code !== 0) return undefined
  const values = new Map<string, { type: string; data: string }>()
  for (const line of r.stdout.split("\n")) {
    const m = /^\s+(\S+)\s+(REG_\w+)\s+(.*)$/.exec(line)
    if (m !== null) values.set(m[1]!, { type: m[2]!, data: m[3]!.trim() })
  }
  return values
}

/** The record as the Go program reads it (the reference's reader); `undefined` when it reads nothing. */
const goRead = async (account: string): Promise<Record<string, unknown> | undefined> => {
  const out = join(scratch, `go-read-${n++}.json`)
  const r = await w.goVault(["read", account, winPath(out)])
  if (r.code === 3) return undefined
  ok(r)
  return JSON.parse(readFileSync(out, "utf8"))
}

const goWrite = async (record: Record<string, unknown>) => {
  const file = join(scratch, `go-write-${n++}.json`)
  writeFileSync(file, JSON.stringify(record))
  ok(await w.goVault(["write", String(record.olaresId), winPath(file)]))
}

const statuses = async (): Promise<Record<string, string>> => {
  const r = ok(await cli(["profile", "list", "-o", "json"]))
  const rows = JSON.parse(r.stdout).profiles as Array<{ olaresId: string; status: string }>
  return Object.fromEntries(rows.map((row) => [row.olaresId, row.status]))
}

const login = (extra: ReadonlyArray<string> = []) =>
  cli(["profile", "login", "--olares-id", A, "--auth-url-override", server.url, "--password-stdin", ...extra], {
    input: `${ALICE.password}\n`
  })

describe("Windows under Wine: registry+dpapi", () => {
  it("login stores one REG_SZ value named by base64url(account), holding base64 of a DPAPI blob", async () => {
    const r = ok(await login())
    expect(r.stdout).toContain(`token stored via registry+dpapi (service "olares-cli", account "${A}").`)
    const values = (await regValues())!
    expect(Array.from(values.keys())).toEqual(["YWxpY2VAb2xhcmVzLmNvbQ"])
    const v = values.get(name(A))!
    expect(v.type).toBe("REG_SZ")
    const sealed = Buffer.from(v.data, "base64")
    expect(sealed.toString("base64")).toBe(v.data) // canonical standard base64
    // The Go reader (CryptUnprotectData with entropy "olares-cli\0<account>") opens it...
    const record = (await goRead(A))!
    expect(record.olaresId).toBe(A)
    expect(Object.keys(record)).toEqual(["olaresId", "accessToken", "refreshToken", "sessionId", "grantedAt"])
    // ...and nothing of it is readable without DPAPI.
    for (const secret of [record.accessToken, record.refreshToken, A] as Array<string>) {
      expect(sealed.includes(Buffer.from(secret))).toBe(false)
    }
  })

  it("import (with --no-switch) adds a second value; list and doctor read the registry", async () => {
    const g = await server.issueGrant("bob")
    const r = ok(
      await cli(["profile", "import", "--olares-id", B, "--auth-url-override", server.url, "--no-switch"], {
        env: { OLARES_REFRESH_TOKEN: g.refreshToken }
      })
    )
    expect(r.stdout).toContain(`token stored via registry+dpapi (service "olares-cli", account "${B}").`)
    expect(Array.from((await regValues())!.keys()).sort()).toEqual([name(A), name(B)].sort())
    expect((await goRead(B))!.olaresId).toBe(B)
    expect(await statuses()).toEqual({ [A]: "logged-in", [B]: "logged-in" })
    const doctor = JSON.parse((await cli(["profile", "doctor", "-o", "json", "--offline"])).stdout)
    expect(doctor.store.backend).toBe("registry+dpapi")
    expect(doctor.store.location).toContain(KEY)
  })

  it("a stale record written by the Go side is refreshed by `api`; the Go side reads the rotated grant", async () => {
    const g = await server.issueGrant("alice", { ttlSeconds: -60 })
    await goWrite({
      olaresId: A,
      accessToken: g.accessToken,
      refreshToken: g.refreshToken,
      sessionId: g.sessionId,
      grantedAt: 1
    })
    expect((await statuses())[A]).toBe("expired")
    server.reset()
    ok(await cli(["api", "/api/echo/x"]))
    expect(server.hits("/api/refresh")).toBe(1)
    const after = (await goRead(A))!
    expect(after.accessToken).not.toBe(g.accessToken)
    expect(server.isRefreshTokenLive(String(after.refreshToken))).toBe(true)
    expect((await statuses())[A]).toBe("logged-in")
  })

  it("a value sealed for another account does not open (DPAPI entropy): unknown for us, absent for Go", async () => {
    const values = (await regValues())!
    const aliceData = values.get(name(A))!.data
    ok(await w.exe("reg", ["add", KEY, "/v", name(B), "/t", "REG_SZ", "/d", aliceData, "/f"]))
    expect((await statuses())[B]).toBe("unknown")
    expect(await goRead(B)).toBeUndefined()
    const doctor = await cli(["profile", "doctor", "-o", "json", "--offline"])
    const problems = JSON.parse(doctor.stdout).problems as Array<{ code: string; subject: string; fix: string }>
    expect(problems.find((p) => p.subject === B)).toMatchObject({
      code: "token_unreadable",
      fix: expect.stringContaining(`olares-cli profile remove ${B} --yes && olares-cli profile login --olares-id ${B}`)
    })
  })

  it("records of any length: 200 KiB records cross both ways", async () => {
    const big = await server.mintJwt({ username: "alice", claims: { pad: "p".repeat(200 * 1024) } })
    await goWrite({ olaresId: A, accessToken: big, refreshToken: "r-big", grantedAt: 2 })
    // read whole and decoded: its exp is an hour away (the test server's headers cannot carry it: HTTP 431)
    expect((await statuses())[A]).toBe("logged-in")
    // ours -> Go: this CLI's store writes it, the Go reader opens it
    const carol = { olaresId: C, accessToken: `h.${"c".repeat(200 * 1024)}.s`, refreshToken: "r-carol", grantedAt: 3 }
    const file = join(scratch, "carol.json")
    writeFileSync(file, JSON.stringify(carol))
    ok(await w.storeTool(["set", winPath(file)]))
    expect(await goRead(C)).toEqual(carol)
    expect((await regValues())!.get(name(C))!.data.length).toBeGreaterThan(200 * 1024)
  })

  it("remove deletes the value; the last removal keeps a key that still holds another's record", async () => {
    ok(await cli(["profile", "remove", B, "--yes"]))
    expect(Array.from((await regValues())!.keys()).sort()).toEqual([name(A), name(C)].sort())
    ok(await cli(["profile", "remove", A, "--yes"]))
    // carol is not this home's: another home's or the Go CLI's record, so the key stays
    expect(Array.from((await regValues())!.keys())).toEqual([name(C)])
    ok(await w.exe("reg", ["delete", KEY, "/v", name(C), "/f"]))
    ok(await login())
    ok(await cli(["profile", "remove", A, "--yes"]))
    // the last record of all is gone: so is the key, as the Go CLI's purge leaves it
    expect(await regValues()).toBeUndefined()
    ok(await w.goVault(["purge"])) // and the Go purge of a missing key is a success
  })

  it("a record an earlier version kept in the Credential Manager moves into the registry on first read", async () => {
    // what earlier versions did by default on Windows (still there when forced)
    const legacy = { OLARES_CLI_KEYSTORE: "keyring" }
    const r = ok(
      await cli(["profile", "login", "--olares-id", A, "--auth-url-override", server.url, "--password-stdin"], {
        env: legacy,
        input: `${ALICE.password}\n`
      })
    )
    expect(r.stdout).toContain(`token stored via keychain (service "olares-cli", account "${A}").`)
    expect(await regValues()).toBeUndefined()
    // the default backend reads it: moved into the registry, then deleted from the Credential Manager
    expect(await statuses()).toEqual({ [A]: "logged-in" })
    expect(Array.from((await regValues())!.keys())).toEqual([name(A)])
    const moved = (await goRead(A))!
    expect(moved.olaresId).toBe(A)
    expect(server.isRefreshTokenLive(String(moved.refreshToken))).toBe(true)
    const old = JSON.parse(ok(await cli(["profile", "list", "-o", "json"], { env: legacy })).stdout)
    expect(old.profiles.map((p: { status: string }) => p.status)).toEqual(["never"])
    ok(await cli(["profile", "remove", A, "--yes"]))
    expect(await regValues()).toBeUndefined()
  })
})
