/**
 * The Windows store `registry+dpapi` over fakes of DPAPI, the registry and the Credential Manager:
 * the Go CLI's layout (key, value names, base64 of the sealed record, entropy), records of any
 * length, corrupt values, purge only when the key is empty, and the migration of Credential Manager
 * items written by earlier versions. The real Win32 calls run under Wine in
 * test/e2e/windows-wine.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto"
import {
  type Dpapi,
  type RegValue,
  type UserRegistry,
  WinError,
  type WinVault
} from "../../layers/internal/WinVault.js"
import { decodeStdBase64 } from "../../layers/KeyStoreKeyring.js"
import { makeKeyStore } from "../../layers/KeyStoreLive.js"
import {
  dpapiEntropy,
  makeRegistryKeyStore,
  REGISTRY_KEY_DISPLAY,
  registryKeyPath,
  registryValueName,
  safeRegistryComponent
} from "../../layers/KeyStoreRegistry.js"
import { serializeStoredToken, type StoredToken } from "../../src/domain/StoredToken.js"
import type { KeychainError, StorageError } from "../../src/errors.js"
import { fakeKeyring } from "../support/fake-keyring.js"
import { captureLogs } from "../support/logs.js"

const ALICE = "alice@olares.com"
const KEY = "Software\\OlaresCli\\keychain\\olares-cli"

const token = (over: Partial<StoredToken> = {}): StoredToken => ({
  olaresId: ALICE,
  accessToken: Redacted.make("access.token.aaa"),
  refreshToken: Redacted.make("refresh-token-bbb"),
  sessionId: "sess-1",
  grantedAt: 1_700_000_000_000,
  ...over
})

/**
 * DPAPI as far as the store can tell: sealed under a per-user secret, bound to the entropy (a
 * wrong one fails with ERROR_INVALID_DATA, as Windows does).
 */
const fakeDpapi = (userSecret: Buffer = randomBytes(32)): Dpapi & { calls: Array<string> } => {
  const calls: Array<string> = []
  return {
    calls,
    protect: (plain, entropy) => {
      calls.push(`protect ${Buffer.from(entropy).toString("utf8")}`)
      const iv = randomBytes(12)
      const c = createCipheriv("aes-256-gcm", userSecret, iv)
      c.setAAD(entropy)
      const body = Buffer.concat([c.update(plain), c.final()])
      return Buffer.concat([Buffer.from([1, 0, 0, 0]), iv, body, c.getAuthTag()])
    },
    unprotect: (blob, entropy) => {
      calls.push(`unprotect ${Buffer.from(entropy).toString("utf8")}`)
      const b = Buffer.from(blob)
      try {
        const d = createDecipheriv("aes-256-gcm", userSecret, b.subarray(4, 16))
        d.setAAD(entropy)
        d.setAuthTag(b.subarray(b.length - 16))
        return Buffer.concat([d.update(b.subarray(16, b.length - 16)), d.final()])
      } catch {
        throw new WinError("CryptUnprotectData", 13)
      }
    }
  }
}

/** HKCU as nested maps; `deny` makes every call fail with ERROR_ACCESS_DENIED. */
const fakeRegistry = () => {
  const keys = new Map<string, Map<string, RegValue>>()
  const state = { deny: false, beforeGet: (): void => {} }
  const gate = (fn: string) => {
    if (state.deny) throw new WinError(fn, 5)
  }
  const registry: UserRegistry = {
    get: (path, name) => {
      gate("RegOpenKeyExW")
      state.beforeGet()
      return keys.get(path)?.get(name)
    },
    ensureKey: (path) => {
      gate("RegCreateKeyExW")
      if (!keys.has(path)) keys.set(path, new Map())
    },
    setString: (path, name, data) => {
      registry.ensureKey(path)
      keys.get(path)!.set(name, { kind: "string", data })
    },
    deleteValue: (path, name) => {
      gate("RegOpenKeyExW")
      keys.get(path)?.delete(name)
    },
    valueNames: (path) => {
      gate("RegOpenKeyExW")
      return Array.from(keys.get(path)?.keys() ?? [])
    },
    deleteKey: (path) => {
      gate("RegDeleteKeyW")
      keys.delete(path)
    }
  }
  return { keys, state, registry }
}

const setup = (opts: { legacy?: boolean } = {}) => {
  const dpapi = fakeDpapi()
  const reg = fakeRegistry()
  const cm = fakeKeyring() // the Windows Credential Manager of earlier versions
  const vault: WinVault = { dpapi, registry: reg.registry }
  const store = makeRegistryKeyStore({
    vault: Effect.succeed(vault),
    ...(opts.legacy === false ? {} : { legacy: cm.keyring })
  })
  const raw = (account: string) => {
    const v = reg.keys.get(KEY)?.get(registryValueName(account))
    return v?.kind === "string" ? v.data : undefined
  }
  const open = (account: string) =>
    dpapi.unprotect(Option.getOrThrow(decodeStdBase64(raw(account)!)), dpapiEntropy(account)).toString("utf8")
  return { dpapi, reg, cm, vault, store, raw, open }
}

describe("registry+dpapi: the Go CLI's layout", () => {
  it("names: key, value name (unpadded base64url of the UTF-8 account), entropy", () => {
    expect(registryKeyPath()).toBe(KEY)
    expect(REGISTRY_KEY_DISPLAY).toBe(`HKCU\\${KEY}`)
    expect(safeRegistryComponent("a\\b c/d@e.f-g_h")).toBe("a_b_c_d_e.f-g_h")
    expect(registryKeyPath("we\\ird name")).toBe("Software\\OlaresCli\\keychain\\we_ird_name")
    expect(registryValueName(ALICE)).toBe("YWxpY2VAb2xhcmVzLmNvbQ")
    // `?` and `>` bytes make base64 use `-` and `_` in the URL-safe alphabet; no padding ever
    expect(registryValueName("a?>")).toBe("YT8-")
    expect(registryValueName("ü~")).toBe("w7x-")
    expect(registryValueName("ab")).toBe("YWI")
    expect(dpapiEntropy(ALICE)).toEqual(Buffer.from("olares-cli\u0000alice@olares.com"))
  })

  it("decodeStdBase64 is as strict as Go's StdEncoding", () => {
    expect(Option.getOrThrow(decodeStdBase64("aGk="))).toEqual(Buffer.from("hi"))
    expect(decodeStdBase64("aGk")).toEqual(Option.none()) // missing padding
    expect(decodeStdBase64("aG-k")).toEqual(Option.none()) // URL alphabet
    expect(decodeStdBase64("a Gk=")).toEqual(Option.none())
    expect(decodeStdBase64("%%%%")).toEqual(Option.none())
  })

  it.effect("set writes REG_SZ = base64(DPAPI(compact JSON)) under the value name; get reads it back", () =>
    Effect.gen(function*() {
      const t = setup()
      expect(yield* t.store.get(ALICE)).toEqual(Option.none())
      yield* t.store.set(token({ invalidatedAt: 5 }))
      expect(Array.from(t.reg.keys.keys())).toEqual([KEY])
      expect(Array.from(t.reg.keys.get(KEY)!.keys())).toEqual(["YWxpY2VAb2xhcmVzLmNvbQ"])
      expect(t.raw(ALICE)).toMatch(/^[A-Za-z0-9+/]+=*$/)
      expect(t.open(ALICE)).toBe(serializeStoredToken(token()))
      expect(t.dpapi.calls).toContain("protect olares-cli\u0000alice@olares.com")
      expect(serializeStoredToken(Option.getOrThrow(yield* t.store.get(ALICE)))).toBe(serializeStoredToken(token()))
      expect(yield* t.store.backend).toBe("registry+dpapi")
      const d = yield* t.store.describe
      expect(d.backend).toBe("registry+dpapi")
      expect(d.location).toContain("HKCU\\Software\\OlaresCli\\keychain\\olares-cli")
    }))

  it.effect("a value sealed the Go CLI's way (by another writer) is read", () =>
    Effect.gen(function*() {
      const t = setup()
      const json = "{\"olaresId\":\"bob@olares.com\",\"accessToken\":\"a.b.c\",\"refreshToken\":\"r\",\"grantedAt\":1}"
      const sealed = t.dpapi.protect(Buffer.from(json), Buffer.from("olares-cli\u0000bob@olares.com"))
      t.reg.registry.setString(KEY, "Ym9iQG9sYXJlcy5jb20", sealed.toString("base64"))
      const got = Option.getOrThrow(yield* t.store.get("bob@olares.com"))
      expect(serializeStoredToken(got)).toBe(json)
    }))

  it.effect("records of any length (a 200 KiB access token) round-trip", () =>
    Effect.gen(function*() {
      const t = setup()
      const big = token({ accessToken: Redacted.make(`h.${"x".repeat(200 * 1024)}.s`) })
      yield* t.store.set(big)
      expect(t.raw(ALICE)!.length).toBeGreaterThan(200 * 1024)
      expect(serializeStoredToken(Option.getOrThrow(yield* t.store.get(ALICE)))).toBe(serializeStoredToken(big))
    }))

  it.effect("markInvalidated stamps only the record holding the rejected token; set revives", () =>
    Effect.gen(function*() {
      const t = setup()
      yield* t.store.markInvalidated(ALICE, 9)
      expect(t.reg.keys.size).toBe(0)
      yield* t.store.set(token())
      yield* t.store.markInvalidated(ALICE, 7, Redacted.make("some-older-refresh-token"))
      expect(Option.getOrThrow(yield* t.store.get(ALICE)).invalidatedAt).toBeUndefined()
      yield* t.store.markInvalidated(ALICE, 1_800_000_000_000, Redacted.make("refresh-token-bbb"))
      const marked = Option.getOrThrow(yield* t.store.get(ALICE))
      expect(t.open(ALICE)).toBe(serializeStoredToken(token({ invalidatedAt: 1_800_000_000_000 })))
      yield* t.store.set(marked)
      expect(Option.getOrThrow(yield* t.store.get(ALICE)).invalidatedAt).toBeUndefined()
    }))

  it.effect("an empty value is absent (as the reference reads it); remove of a missing value is fine", () =>
    Effect.gen(function*() {
      const t = setup()
      t.reg.registry.setString(KEY, registryValueName(ALICE), "")
      expect(yield* t.store.get(ALICE)).toEqual(Option.none())
      yield* t.store.remove("nobody@olares.com")
      yield* t.store.set(token())
      yield* t.store.remove(ALICE)
      expect(yield* t.store.get(ALICE)).toEqual(Option.none())
      expect(t.reg.keys.get(KEY)!.size).toBe(0)
    }))

  it.effect("corrupt values are a StorageError naming the value and the fix, never the content", () =>
    Effect.gen(function*() {
      const t = setup()
      const name = registryValueName(ALICE)
      const where = `registry value HKCU\\${KEY}\\${name}`
      const hint = `olares-cli profile remove ${ALICE} && olares-cli profile login --olares-id ${ALICE}`
      const fails = function*(expected: string) {
        const e = (yield* Effect.flip(t.store.get(ALICE))) as StorageError
        expect(e._tag).toBe("StorageError")
        expect(e.path).toBe(where)
        expect(e.detail).toContain(expected)
        expect(e.hint).toBe(hint)
        expect(`${e.message} ${e.hint}`).not.toContain("secret-refresh-xyz")
      }
      t.reg.keys.set(KEY, new Map([[name, { kind: "other", type: 3 }]]))
      yield* fails("is of registry type 3, not REG_SZ")
      t.reg.registry.setString(KEY, name, "not base64 at all!")
      yield* fails("is not standard base64")
      // sealed for bob, stored under alice: the entropy does not match
      const forBob = t.dpapi.protect(Buffer.from("{}"), dpapiEntropy("bob@olares.com"))
      t.reg.registry.setString(KEY, name, forBob.toString("base64"))
      yield* fails("cannot be decrypted by DPAPI (CryptUnprotectData failed: the data is invalid (ERROR_INVALID_DATA))")
      // another Windows user's seal
      const other = fakeDpapi().protect(Buffer.from("{}"), dpapiEntropy(ALICE))
      t.reg.registry.setString(KEY, name, other.toString("base64"))
      yield* fails("cannot be decrypted by DPAPI")
      const seal = (text: string) => t.dpapi.protect(Buffer.from(text), dpapiEntropy(ALICE)).toString("base64")
      t.reg.registry.setString(KEY, name, seal("{\"refreshToken\":\"secret-refresh-xyz\""))
      yield* fails("stored token record is not valid JSON")
      t.reg.registry.setString(KEY, name, seal("{\"refreshToken\":\"secret-refresh-xyz\"}"))
      yield* fails("stored token record has missing or mistyped fields: accessToken")
      // remove clears it, so the hint works
      yield* t.store.remove(ALICE)
      expect(yield* t.store.get(ALICE)).toEqual(Option.none())
    }))

  it.effect("a registry that refuses is a KeychainError with the reference's wording", () =>
    Effect.gen(function*() {
      const t = setup()
      t.reg.state.deny = true
      const e = (yield* Effect.flip(t.store.set(token()))) as KeychainError
      expect(e._tag).toBe("KeychainError")
      expect(e.message).toBe(
        `keychain Set failed for olares-cli/${ALICE}: RegCreateKeyExW failed: access denied (ERROR_ACCESS_DENIED)`
      )
      expect(((yield* Effect.flip(t.store.get(ALICE))) as KeychainError).op).toBe("Get")
      expect(((yield* Effect.flip(Effect.scoped(t.store.reserve(ALICE)))) as KeychainError).op).toBe("Set")
      expect(((yield* Effect.flip(t.store.purge)) as KeychainError).message).toMatch(
        /^keychain Purge failed for olares-cli\/\*: /
      )
    }))

  it.effect("reserve creates the key and writes no value (a live record is never replaced before the exchange)", () =>
    Effect.gen(function*() {
      const t = setup()
      yield* Effect.scoped(t.store.reserve(ALICE))
      expect(t.reg.keys.get(KEY)!.size).toBe(0)
      yield* t.store.set(token())
      const before = t.raw(ALICE)
      yield* Effect.scoped(t.store.reserve(ALICE))
      expect(t.raw(ALICE)).toBe(before)
    }))

  it.effect("purge deletes the key only when no value (of any config home, or of the Go CLI) remains", () =>
    Effect.gen(function*() {
      const t = setup()
      yield* t.store.purge // no key: fine
      yield* t.store.set(token())
      yield* t.store.set(token({ olaresId: "bob@olares.com" }))
      yield* t.store.remove(ALICE)
      yield* t.store.purge
      expect(t.reg.keys.has(KEY)).toBe(true)
      expect(Option.isSome(yield* t.store.get("bob@olares.com"))).toBe(true)
      yield* t.store.remove("bob@olares.com")
      yield* t.store.purge
      expect(t.reg.keys.has(KEY)).toBe(false)
    }))

  it.effect("a vault that cannot load is a KeychainError (op Load) on every operation", () =>
    Effect.gen(function*() {
      const store = yield* makeKeyStore({ kind: "registry", reason: "forced" }, "/nowhere")
      // Not Windows: DPAPI and the registry do not exist here.
      if (process.platform !== "win32") {
        const e = (yield* Effect.flip(store.get(ALICE))) as KeychainError
        expect(e._tag).toBe("KeychainError")
        expect(e.op).toBe("Load")
        expect(e.detail).toContain("exist on Windows only")
        expect(((yield* Effect.flip(store.set(token()))) as KeychainError).op).toBe("Load")
      }
      expect(yield* store.backend).toBe("registry+dpapi")
    }))
})

describe("registry+dpapi: Credential Manager items of earlier versions", () => {
  const LEGACY = `olares-cli/${ALICE}`

  it.effect("are moved into the registry on first read, as is (invalidatedAt kept), then deleted", () =>
    Effect.gen(function*() {
      const t = setup()
      const old = token({ invalidatedAt: 42 })
      t.cm.items.set(LEGACY, serializeStoredToken(old))
      t.cm.items.set("olares-cli/bob@olares.com", serializeStoredToken(token({ olaresId: "bob@olares.com" })))
      const got = Option.getOrThrow(yield* t.store.get(ALICE))
      expect(serializeStoredToken(got)).toBe(serializeStoredToken(old))
      expect(t.open(ALICE)).toBe(serializeStoredToken(old))
      expect(t.cm.items.has(LEGACY)).toBe(false)
      // bob is moved only when bob is read
      expect(t.cm.items.has("olares-cli/bob@olares.com")).toBe(true)
      // from now on the registry answers; the Credential Manager is not asked again
      t.cm.state.calls.length = 0
      expect(serializeStoredToken(Option.getOrThrow(yield* t.store.get(ALICE)))).toBe(serializeStoredToken(old))
      expect(t.cm.state.calls).toEqual([])
    }))

  it.effect("a registry value wins over an old item; set and remove delete the old item", () =>
    Effect.gen(function*() {
      const t = setup()
      t.cm.items.set(LEGACY, serializeStoredToken(token({ sessionId: "old" })))
      yield* t.store.set(token({ sessionId: "new" }))
      expect(t.cm.items.has(LEGACY)).toBe(false) // it would come back once the value is removed
      expect(Option.getOrThrow(yield* t.store.get(ALICE)).sessionId).toBe("new")
      t.cm.items.set(LEGACY, serializeStoredToken(token({ sessionId: "old" })))
      expect(Option.getOrThrow(yield* t.store.get(ALICE)).sessionId).toBe("new")
      yield* t.store.remove(ALICE)
      expect(t.cm.items.has(LEGACY)).toBe(false)
      expect(yield* t.store.get(ALICE)).toEqual(Option.none())
    }))

  it.effect("a record another process migrated (and refreshed) meanwhile is not overwritten", () =>
    Effect.gen(function*() {
      const t = setup()
      t.cm.items.set(LEGACY, serializeStoredToken(token({ sessionId: "old" })))
      // The other process writes the registry between our Credential Manager read and our write.
      let reads = 0
      t.reg.state.beforeGet = () => {
        if (++reads !== 2) return
        const sealed = t.dpapi.protect(
          Buffer.from(serializeStoredToken(token({ sessionId: "rotated" }))),
          dpapiEntropy(ALICE)
        )
        t.reg.keys.set(KEY, new Map([[registryValueName(ALICE), { kind: "string", data: sealed.toString("base64") }]]))
      }
      expect(Option.getOrThrow(yield* t.store.get(ALICE)).sessionId).toBe("rotated")
      expect(reads).toBe(2)
      expect(t.open(ALICE)).toContain("\"sessionId\":\"rotated\"")
      expect(Option.getOrThrow(yield* t.store.get(ALICE)).sessionId).toBe("rotated")
    }))

  it.effect("a corrupt old item is a StorageError naming it; profile remove's delete clears it", () =>
    Effect.gen(function*() {
      const t = setup()
      t.cm.items.set(LEGACY, "{\"refreshToken\":\"secret-refresh-xyz\"")
      const e = (yield* Effect.flip(t.store.get(ALICE))) as StorageError
      expect(e._tag).toBe("StorageError")
      expect(e.path).toBe(`credential store item olares-cli/${ALICE}`)
      expect(e.hint).toBe(`olares-cli profile remove ${ALICE} && olares-cli profile login --olares-id ${ALICE}`)
      expect(t.reg.keys.size).toBe(0)
      yield* t.store.remove(ALICE)
      expect(yield* t.store.get(ALICE)).toEqual(Option.none())
    }))

  it.effect("an unreachable or hung Credential Manager means no old record, after the 5 s bound", () => {
    const { layer, lines } = captureLogs()
    return Effect.gen(function*() {
      const t = setup()
      t.cm.state.mode = "fail"
      expect(yield* t.store.get(ALICE)).toEqual(Option.none())
      yield* t.store.set(token()) // the failed delete only warns
      expect(lines.some((l) => l.startsWith("WARN could not delete the Windows Credential Manager item"))).toBe(true)
      yield* t.store.remove(ALICE)
      t.cm.state.mode = "hang"
      const fiber = yield* Effect.fork(t.store.get(ALICE))
      for (let i = 0; i < 50 && t.cm.state.calls.at(-1) !== `get ${LEGACY}`; i++) yield* Effect.yieldNow()
      yield* TestClock.adjust("5 seconds")
      expect(yield* Fiber.join(fiber)).toEqual(Option.none())
    }).pipe(Effect.provide(layer))
  })

  it.effect("without a legacy keyring nothing is looked up", () =>
    Effect.gen(function*() {
      const t = setup({ legacy: false })
      t.cm.items.set(LEGACY, serializeStoredToken(token()))
      expect(yield* t.store.get(ALICE)).toEqual(Option.none())
      expect(t.cm.state.calls).toEqual([])
    }))
})
