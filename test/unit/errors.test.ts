/**
 * src/errors.ts: the one table from tag to exit code, JSON code, retryability and recovery is
 * exhaustive (every error class has exactly one row, and the type says so), each instance reads its
 * row, and the README's "Exit codes and errors" table names exactly the same tags under the same
 * exit codes. No build, no processes.
 */
import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import * as Errors from "../../src/errors.js"
import { ERRORS, type ErrorTable, ExitCode, isCliFailure } from "../../src/errors.js"

const README = readFileSync(resolve(import.meta.dirname, "../..", "README.md"), "utf8")

/** The rows of the first markdown table under `heading`, as cells (header and separator dropped). */
const tableUnder = (markdown: string, heading: string): Array<Array<string>> => {
  const start = markdown.indexOf(`\n${heading}\n`)
  expect(start, heading).toBeGreaterThan(0)
  const lines = markdown.slice(start).split("\n")
  const first = lines.findIndex((l) => l.startsWith("|"))
  const rows: Array<string> = []
  for (const line of lines.slice(first)) {
    if (!line.startsWith("|")) break
    rows.push(line)
  }
  // `\|` is a pipe inside a cell
  return rows.slice(2).map((r) => r.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()))
}

/** The README's claims: each typed error (a backticked CamelCase name) with the exit code of its row. */
const readmeExits = (): Map<string, number> => {
  const claims = new Map<string, number>()
  for (const [exit, , errors] of tableUnder(README, "## Exit codes and errors")) {
    for (const [, name] of (errors ?? "").matchAll(/`([A-Z][A-Za-z]+)`/g)) {
      expect(claims.has(name!), `${name} is listed twice in the README`).toBe(false)
      claims.set(name!, Number(exit))
    }
  }
  return claims
}

/** Every error class errors.ts exports (a constructor whose instances are `Error`s with a `_tag`). */
const exportedClasses = Object.entries(Errors).filter(([, v]) =>
  typeof v === "function" && v.prototype instanceof Error
) as Array<[string, new(args: any) => Errors.CliFailure]>

/** The smallest valid fields of each error: enough to construct it. */
const sample: { readonly [Tag in keyof typeof ERRORS]: Record<string, unknown> } = {
  TransportError: { endpoint: "/api/refresh", detail: "connection refused" },
  TimeoutError: { endpoint: "/api/refresh", seconds: 5 },
  HttpStatusError: { endpoint: "/api/refresh", status: 502, body: "" },
  ResponseDecodeError: { endpoint: "/api/refresh", detail: "not JSON" },
  BackendVersionInvalid: { quoted: "\"x\"", reason: "not a version" },
  StorageError: { path: "/p", detail: "corrupt", hint: "olares-cli profile doctor" },
  KeychainError: { op: "get", account: "a@b.c", detail: "locked" },
  LockTimeout: { path: "/l", seconds: 30 },
  ProblemsFound: { errors: 1, warnings: 0 },
  UsageError: { message: "bad", hint: "olares-cli --help" },
  ForeignUrl: { olaresId: "a@b.c", target: "https://evil.example", reason: "another host", allowed: "https://*.a.b.c" },
  MissingOlaresId: {},
  InvalidOlaresId: { input: "x", reason: "no @" },
  InvalidOlaresVersion: { quoted: "\"x\"", reason: "not a version" },
  EmptySecret: { what: "password" },
  TotpRequired: {},
  NotATerminal: { message: "stdin is not a terminal", hint: "pass --password-stdin" },
  InvalidUrlOption: { flag: "--local-url-prefix", quoted: "\"x@\"", reason: "userinfo" },
  InputTooLong: { what: "password", limitBytes: 65536 },
  UnsendableToken: { what: "refresh token", source: "--refresh-token" },
  AliasConflict: { name: "n", other: "o@b.c", as: "alias" },
  AmbiguousProfile: { key: "k", byAlias: "a@b.c", byOlaresId: "k@b.c" },
  NoProfile: {},
  NotLoggedIn: { olaresId: "a@b.c" },
  TokenInvalidated: { olaresId: "a@b.c", invalidatedAt: 1767225600000 },
  AccessTokenRejected: { olaresId: "a@b.c", status: 401 },
  LoginRejected: { endpoint: "/api/firstfactor", detail: "bad password", status: 401 },
  ManagedNotSecondFactor: { olaresId: "a@b.c" },
  AlreadyAuthenticated: { olaresId: "a@b.c", remainingMs: 60_000 },
  ExpiryUnknown: { olaresId: "a@b.c" },
  ManagedProfileRefused: { verb: "remove", olaresId: "a@b.c", appName: "files" },
  ProfileNotFound: { key: "k" },
  NoPreviousProfile: {},
  PermissionDenied: { olaresId: "a@b.c" }
}

describe("the error table", () => {
  it("has exactly one row per exported error class, and each instance carries its row", () => {
    expect(exportedClasses.map(([name]) => name).sort()).toEqual(Object.keys(ERRORS).sort())
    for (const [name, Class] of exportedClasses) {
      const row = ERRORS[name as keyof typeof ERRORS]
      const e = new Class(sample[name as keyof typeof ERRORS])
      expect(e._tag).toBe(name)
      expect(isCliFailure(e), name).toBe(true)
      expect(e.exitCode, name).toBe(row.exitCode)
      expect(e.code, name).toBe(typeof row.code === "function" ? row.code(e as never) : row.code)
      expect(e.retryable, name).toBe(typeof row.retryable === "function" ? row.retryable(e as never) : row.retryable)
      expect(e.recovery, name).toBe(typeof row.recovery === "function" ? row.recovery(e as never) : row.recovery)
      expect(e.message.length, name).toBeGreaterThan(0)
    }
  })

  it("computes what depends on the fields (an HTTP status's class, a platform-issued profile's fix)", () => {
    const http = (status: number) => new Errors.HttpStatusError({ endpoint: "/x", status, body: "" })
    expect([http(500).code, http(500).retryable, http(500).recovery]).toEqual([
      "http_5xx",
      true,
      "retry later; the server reported an internal error"
    ])
    expect([http(404).code, http(404).retryable, http(404).recovery]).toEqual(["http_4xx", false, undefined])
    expect(new Errors.NotLoggedIn({ olaresId: "a@b.c" }).recovery).toBe("olares-cli profile login --olares-id a@b.c")
    expect(new Errors.NotLoggedIn({ olaresId: "a@b.c", managedApp: "files" }).recovery).toBe(
      "reinstall or repair application \"files\", which requested this platform-issued credential"
    )
  })

  it("keeps constants as own fields, as class fields were (an error serialises and inspects as before)", () => {
    const e = new Errors.TransportError({ endpoint: "/api/refresh", detail: "refused" })
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      _tag: "TransportError",
      endpoint: "/api/refresh",
      detail: "refused",
      exitCode: 1,
      code: "transport",
      retryable: true
    })
  })

  it("is exhaustive by type: a table without a row does not compile", () => {
    const { NoProfile: _dropped, ...partial } = ERRORS
    // @ts-expect-error the row for NoProfile is missing
    const incomplete: ErrorTable = partial
    expect(Object.keys(incomplete)).not.toContain("NoProfile")
  })
})

describe("the README's exit-code table", () => {
  it("names every typed error once, under the exit code the table gives it, and nothing else", () => {
    const fromCode = new Map(Object.entries(ERRORS).map(([tag, row]) => [tag, row.exitCode as number]))
    expect(Object.fromEntries(readmeExits())).toEqual(Object.fromEntries(fromCode))
  })

  it("has one row per exit code, the same codes as ExitCode", () => {
    const exits = tableUnder(README, "## Exit codes and errors").map(([exit]) => Number(exit))
    expect(exits).toEqual([...new Set(Object.values(ExitCode))].sort((a, b) => a - b))
  })
})
