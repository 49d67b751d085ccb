/** layers/internal/AtomicFile.ts: the one atomic writer and temp sweep, and every store using the sweep. */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import {
  abandonSync,
  commitSync,
  openTempSync,
  preallocateSync,
  publishOnceSync,
  stillLinkedSync,
  sweepTempsSync,
  TEMP_GRACE_MS,
  TEMP_PREFIX,
  writeFileAtomicSync
} from "../../layers/internal/AtomicFile.js"
import { makeLinuxFileKeyStore } from "../../layers/KeyStoreFile.js"
import { useTempRoots } from "../support/tmp.js"

const tempRoot = useTempRoots("olares-atomic-")
const posix = process.platform !== "win32"

/** A leftover temp file, `ageMs` old. */
const leftover = (dir: string, name: string, ageMs: number) => {
  const p = join(dir, name)
  writeFileSync(p, "half-written")
  const t = (Date.now() - ageMs) / 1000
  utimesSync(p, t, t)
  return p
}

describe("writeFileAtomicSync", () => {
  it("replaces the target whole, 0600, and leaves no temp behind", () => {
    const dir = tempRoot()
    const file = join(dir, "config.json")
    writeFileSync(file, "old", { mode: 0o644 })
    writeFileAtomicSync(file, "new text")
    expect(readFileSync(file, "utf8")).toBe("new text")
    if (posix) expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(["config.json"])
  })

  it("a failed write leaves the target untouched and no temp (the target is a directory)", () => {
    const dir = tempRoot()
    const target = join(dir, "busy")
    mkdirSync(join(target, "inside"), { recursive: true })
    expect(() => writeFileAtomicSync(target, "x")).toThrow()
    expect(readdirSync(dir)).toEqual(["busy"])
    expect(readdirSync(target)).toEqual(["inside"])
  })
})

describe("temp files", () => {
  it("a temp is named like the target's length, preallocated, committed over the target", () => {
    const dir = tempRoot()
    const target = join(dir, "a-rather-long-record-name.enc")
    const t = openTempSync(target)
    expect(t.tmp.startsWith(join(dir, TEMP_PREFIX))).toBe(true)
    expect(t.tmp.length).toBeGreaterThanOrEqual(target.length)
    preallocateSync(t, 4096)
    expect(statSync(t.tmp).size).toBe(4096)
    expect(stillLinkedSync(t)).toBe(true)
    commitSync(t, target, Buffer.from("sealed"))
    expect(readFileSync(target, "utf8")).toBe("sealed")
    expect(readdirSync(dir)).toEqual(["a-rather-long-record-name.enc"])
  })

  it("an abandoned temp is gone; one removed under it is no longer linked", () => {
    const dir = tempRoot()
    const a = openTempSync(join(dir, "x.enc"))
    abandonSync(a)
    expect(existsSync(a.tmp)).toBe(false)
    const b = openTempSync(join(dir, "y.enc"))
    sweepTempsSync(dir, Date.now() + TEMP_GRACE_MS + 1000)
    expect(stillLinkedSync(b)).toBe(false)
    abandonSync(b)
  })

  it("publishOnceSync publishes once: a second writer finds the first's bytes and changes nothing", () => {
    const dir = tempRoot()
    const file = join(dir, "master.key")
    expect(publishOnceSync(file, Buffer.from("first"))).toBe(true)
    expect(publishOnceSync(file, Buffer.from("second"))).toBe(false)
    expect(readFileSync(file, "utf8")).toBe("first")
    expect(readdirSync(dir)).toEqual(["master.key"])
  })

  it("sweepTempsSync removes old temps only: young ones may be a live writer's, other files are not temps", () => {
    const dir = tempRoot()
    const old = leftover(dir, `${TEMP_PREFIX}dead-1`, 60_000)
    const young = leftover(dir, `${TEMP_PREFIX}live-2`, 0)
    const other = leftover(dir, "alice_olares.com.enc", 60_000)
    sweepTempsSync(dir, Date.now())
    expect(existsSync(old)).toBe(false)
    expect(existsSync(young)).toBe(true)
    expect(existsSync(other)).toBe(true)
    sweepTempsSync(join(dir, "missing"), Date.now()) // nothing there: nothing to do
  })
})

describe("the key store sweeps its temp files on every write", () => {
  it.live("set (no reservation) removes a crashed writer's old temp and keeps a young one", () =>
    Effect.gen(function*() {
      const dir = join(tempRoot(), "olares-cli")
      const store = makeLinuxFileKeyStore(dir)
      const token = {
        olaresId: "alice@olares.com",
        accessToken: Redacted.make("access.token.sweep"),
        refreshToken: Redacted.make("refresh-token-sweep"),
        sessionId: "s",
        grantedAt: 1_700_000_000_000
      }
      yield* store.set(token)
      const old = leftover(dir, `${TEMP_PREFIX}dead-record-temp`, 60_000)
      const oldKeyTemp = leftover(dir, `${TEMP_PREFIX}dead-key-temp`, 60_000)
      const young = leftover(dir, `${TEMP_PREFIX}live-record-temp`, 0)
      yield* store.set({ ...token, sessionId: "s2" })
      expect(existsSync(old)).toBe(false)
      expect(existsSync(oldKeyTemp)).toBe(false)
      expect(existsSync(young)).toBe(true)
      expect(readdirSync(dir).sort()).toEqual([`${TEMP_PREFIX}live-record-temp`, "alice_olares.com.enc", "master.key"])
    }))
})
