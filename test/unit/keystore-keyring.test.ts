/**
 * The keyring backends with an injected fake keyring (macOS and Windows cannot run here): master-key
 * placement and fallback, labels, the 5 s bound, the direct credential-store records, and the
 * backend selection of KeyStoreLive.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { createDecipheriv, randomBytes } from "node:crypto"
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { selectBackend } from "../../layers/internal/Backend.js"
import { encryptBlob } from "../../layers/internal/Blob.js"
import {
  decodeKeychainKey,
  keychainMasterKey,
  macBackendLabel,
  makeKeyringKeyStore,
  makeMacKeyStore
} from "../../layers/KeyStoreKeyring.js"
import { KeyStoreLive } from "../../layers/KeyStoreLive.js"
import { serializeStoredToken, type StoredToken } from "../../src/domain/StoredToken.js"
import { KeychainError, type StorageError } from "../../src/errors.js"
import { AppPaths } from "../../src/services/AppPaths.js"
import { KeyStore, type KeyStoreError } from "../../src/services/KeyStore.js"
import { fakeKeyring } from "../support/fake-keyring.js"
import { captureLogs } from "../support/logs.js"
import { useTempRoots } from "../support/tmp.js"

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const tempRoot = useTempRoots("olares-ks-keyring-")

const freshDir = (): string => {
  const root = tempRoot()
  return join(root, "Library", "Application Support", "olares-cli")
}

const ALICE = "alice@olares.com"

const token = (over: Partial<StoredToken> = {}): StoredToken => ({
  olaresId: ALICE,
  accessToken: Redacted.make("access.token.aaa"),
  refreshToken: Redacted.make("refresh-token-bbb"),
  sessionId: "sess-1",
  grantedAt: 1_700_000_000_000,
  ...over
})

const plainDecrypt = (blob: Buffer, key: Buffer): string => {
  const d = createDecipheriv("aes-256-gcm", key, blob.subarray(0, 12))
  d.setAuthTag(blob.subarray(blob.length - 16))
  return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]).toString("utf8")
}

/** Lets real I/O (fs promises) progress until `cond` holds, without touching the TestClock. */
const waitFor = (cond: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500 && !cond(); i++) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 2)))
    expect(cond()).toBe(true)
    // Give the timeout's sleep a chance to be registered with the TestClock.
    for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
  })

const tagOf = (e: KeyStoreError) => e._tag
const KC = "olares-cli/master.key"

// ---------------------------------------------------------------------------------------------
// macOS
// ---------------------------------------------------------------------------------------------

describe("macOS: master key in the Keychain", () => {
  it("decodeKeychainKey reads as go-keyring's Get does: trimmed, then canonical base64 of 32 bytes", () => {
    const k = randomBytes(32)
    expect(Option.getOrThrow(decodeKeychainKey(k.toString("base64"))).equals(k)).toBe(true)
    expect(Option.getOrThrow(decodeKeychainKey(`${k.toString("base64")}\n`)).equals(k)).toBe(true)
    expect(decodeKeychainKey(k.toString("base64url"))).toEqual(Option.none())
    expect(decodeKeychainKey(randomBytes(31).toString("base64"))).toEqual(Option.none())
    expect(decodeKeychainKey("not base64 at all")).toEqual(Option.none())
    expect(decodeKeychainKey("")).toEqual(Option.none())
  })

  it.effect("a usable Keychain holds the key (base64); records are the Linux envelope; label system-keychain", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const kc = fakeKeyring()
      const store = makeMacKeyStore({ dir, keyring: kc.keyring })
      expect(yield* store.get(ALICE)).toEqual(Option.none())
      expect(kc.state.loads).toBe(0) // nothing to read, so the keychain was never touched
      yield* store.set(token())
      const key = Option.getOrThrow(decodeKeychainKey(kc.items.get(KC)!))
      expect(kc.items.get(KC)).toBe(`go-keyring-base64:${Buffer.from(key.toString("base64")).toString("base64")}`)
      expect(existsSync(join(dir, "master.key.file"))).toBe(false)
      expect(existsSync(join(dir, "master.key"))).toBe(false)
      const blob = readFileSync(join(dir, "alice_olares.com.enc"))
      expect(plainDecrypt(blob, key)).toBe(serializeStoredToken(token()))
      expect(statSync(join(dir, "alice_olares.com.enc")).mode & 0o777).toBe(0o600)
      expect(serializeStoredToken(Option.getOrThrow(yield* store.get(ALICE)))).toBe(serializeStoredToken(token()))
      expect(yield* store.backend).toBe("system-keychain")
      expect((yield* store.describe).location).toContain("macOS Keychain item olares-cli/master.key")
      // The key is created once.
      yield* store.set(token({ olaresId: "bob@olares.com" }))
      expect(Option.getOrThrow(decodeKeychainKey(kc.items.get(KC)!)).equals(key)).toBe(true)
    }))

  it.effect("an unusable Keychain falls back to master.key.file (32 raw bytes, 0600), label file-fallback, with a warning", () => {
    const { layer, lines } = captureLogs()
    return Effect.gen(function*() {
      const dir = freshDir()
      const kc = fakeKeyring()
      kc.state.mode = "fail"
      const store = makeMacKeyStore({ dir, keyring: kc.keyring })
      yield* store.set(token())
      const file = join(dir, "master.key.file")
      const key = readFileSync(file)
      expect(key.length).toBe(32)
      expect(statSync(file).mode & 0o777).toBe(0o600)
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      expect(kc.items.size).toBe(0)
      expect(plainDecrypt(readFileSync(join(dir, "alice_olares.com.enc")), key)).toBe(serializeStoredToken(token()))
      expect(yield* store.backend).toBe("file-fallback")
      expect(yield* macBackendLabel(dir)).toBe("file-fallback")
      expect((yield* store.describe).location).toContain(file)
      expect(lines.some((l) => l.startsWith("WARN the macOS Keychain is unusable") && l.includes(file))).toBe(true)
      // From now on the file key is used first: no more keychain prompts for reads or writes.
      const before = kc.state.calls.length
      expect(Option.isSome(yield* store.get(ALICE))).toBe(true)
      yield* store.set(token({ sessionId: "s2" }))
      expect(kc.state.calls.length).toBe(before)
      expect(readFileSync(file).equals(key)).toBe(true)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a Keychain that never answers is abandoned after 5 s (TestClock) and the file fallback is used", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const kc = fakeKeyring()
      kc.state.mode = "hang"
      const store = makeMacKeyStore({ dir, keyring: kc.keyring })
      const fiber = yield* Effect.fork(store.set(token()))
      yield* waitFor(() => kc.state.calls.length > 0)
      yield* TestClock.adjust("4999 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(fiber)
      expect(readFileSync(join(dir, "master.key.file")).length).toBe(32)
      expect(yield* store.backend).toBe("file-fallback")
    }))

  it.effect("a Keychain that never answers on read is KeychainError 'keychain access blocked'", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const kc = fakeKeyring()
      const store = makeMacKeyStore({ dir, keyring: kc.keyring })
      yield* store.set(token())
      kc.state.mode = "hang"
      const before = kc.state.calls.length
      const fiber = yield* Effect.fork(Effect.flip(store.get(ALICE)))
      yield* waitFor(() => kc.state.calls.length > before)
      yield* TestClock.adjust("5 seconds")
      const err = (yield* Fiber.join(fiber)) as KeychainError
      expect(err._tag).toBe("KeychainError")
      expect(err.message).toBe(
        "keychain Get failed for olares-cli/master.key: keychain access blocked (no answer within 5s)"
      )
    }))

  it.effect("read order: master.key.file first, the Keychain key as the alternate", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const kc = fakeKeyring()
      const store = makeMacKeyStore({ dir, keyring: kc.keyring })
      // bob was written while the Keychain worked...
      yield* store.set(token({ olaresId: "bob@olares.com" }))
      // ...then the Keychain failed and alice went to the fallback file.
      const fileKey = randomBytes(32)
      writeFileSync(join(dir, "master.key.file"), fileKey, { mode: 0o600 })
      yield* store.set(token())
      expect(plainDecrypt(readFileSync(join(dir, "alice_olares.com.enc")), fileKey)).toBe(serializeStoredToken(token()))
      kc.state.calls.length = 0
      expect(Option.isSome(yield* store.get(ALICE))).toBe(true)
      expect(kc.state.calls).toEqual([]) // the file key opened it
      const bob = yield* store.get("bob@olares.com")
      expect(Option.getOrThrow(bob).olaresId).toBe("bob@olares.com")
      expect(kc.state.calls).toEqual([`get ${KC}`])
    }))

  it.effect("a corrupt Keychain value: reads fail with the exact fix, writes fall back to the file", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const kc = fakeKeyring()
      const store = makeMacKeyStore({ dir, keyring: kc.keyring })
      yield* store.set(token())
      kc.items.set(KC, "AAAA")
      const err = (yield* Effect.flip(store.get(ALICE))) as StorageError
      expect(err._tag).toBe("StorageError")
      expect(err.detail).toBe("keychain is corrupted (the item does not hold 32 base64-encoded bytes)")
      expect(err.hint).toBe(
        `security delete-generic-password -s olares-cli -a master.key && olares-cli profile login --olares-id ${ALICE}`
      )
      yield* store.set(token())
      expect(existsSync(join(dir, "master.key.file"))).toBe(true)
      expect(kc.items.get(KC)).toBe("AAAA") // never rewritten
    }))

  it.effect("a record with no key anywhere is 'keychain not initialized'", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const kc = fakeKeyring()
      const store = makeMacKeyStore({ dir, keyring: kc.keyring })
      yield* store.set(token())
      kc.items.clear()
      const err = (yield* Effect.flip(store.get(ALICE))) as StorageError
      expect(err.detail).toMatch(/keychain not initialized/)
      expect(err.path).toBe(join(dir, "alice_olares.com.enc"))
    }))

  it.effect("purge deletes the Keychain key and master.key.file only once no record remains", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const kc = fakeKeyring()
      const store = makeMacKeyStore({ dir, keyring: kc.keyring })
      yield* store.set(token())
      // another config home's record in the same store: the key it needs stays
      yield* store.set(token({ olaresId: "bob@olares.com" }))
      yield* store.remove(ALICE)
      yield* store.purge
      expect(kc.items.has(KC)).toBe(true)
      expect(Option.isSome(yield* store.get("bob@olares.com"))).toBe(true)
      yield* store.remove("bob@olares.com")
      yield* store.purge
      expect(kc.items.has(KC)).toBe(false)
      yield* store.set(token())
      yield* store.remove(ALICE)
      kc.state.mode = "fail"
      const err = yield* Effect.flip(store.purge)
      expect(tagOf(err)).toBe("KeychainError")
    }))

  it.effect("purge when the native module cannot load removes the fallback key file", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const kc = fakeKeyring()
      kc.state.mode = "fail"
      const store = makeMacKeyStore({ dir, keyring: kc.keyring })
      yield* store.set(token())
      expect(existsSync(join(dir, "master.key.file"))).toBe(true)
      yield* store.remove(ALICE)
      const broken = makeMacKeyStore({
        dir,
        keyring: Effect.fail(
          new KeychainError({ op: "Load", account: "*", detail: "cannot load @napi-rs/keyring: nope" })
        )
      })
      yield* broken.purge
      expect(readdirSync(dir)).toEqual([])
    }))

  // Live clock: a loser that finds the winner's file still empty sleeps 5 ms before re-reading it,
  // which the TestClock would never let end.
  it.live("racing first writers on a dead Keychain share one master.key.file", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const kc = fakeKeyring()
      kc.state.mode = "fail"
      const ids = Array.from({ length: 6 }, (_, i) => `u${i}@olares.com`)
      yield* Effect.all(ids.map((id) => makeMacKeyStore({ dir, keyring: kc.keyring }).set(token({ olaresId: id }))), {
        concurrency: "unbounded"
      })
      const reader = makeMacKeyStore({ dir, keyring: kc.keyring })
      for (const id of ids) expect(Option.isSome(yield* reader.get(id))).toBe(true)
    }))

  it.effect("the master-key source alone: read is None before the first write", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const kc = fakeKeyring()
      const src = keychainMasterKey({ dir, keyring: kc.keyring, timeout: Duration.seconds(1) })
      expect(yield* src.read).toEqual(Option.none())
      const k = yield* src.readOrCreate
      expect(Option.getOrThrow(yield* src.read).equals(k)).toBe(true)
      expect(yield* src.readAlternate!).toEqual(Option.none()) // no file key, so no alternate
    }))
})

// ---------------------------------------------------------------------------------------------
// Windows-style direct records
// ---------------------------------------------------------------------------------------------

describe("credential store records (Windows)", () => {
  it.effect("one item per olaresId holding the compact JSON; label keychain", () =>
    Effect.gen(function*() {
      const kc = fakeKeyring()
      const store = makeKeyringKeyStore({ keyring: kc.keyring })
      expect(yield* store.get(ALICE)).toEqual(Option.none())
      yield* store.set(token({ invalidatedAt: 5 }))
      expect(kc.items.get(`olares-cli/${ALICE}`)).toBe(
        "{\"olaresId\":\"alice@olares.com\",\"accessToken\":\"access.token.aaa\",\"refreshToken\":\"refresh-token-bbb\",\"sessionId\":\"sess-1\",\"grantedAt\":1700000000000}"
      )
      expect(serializeStoredToken(Option.getOrThrow(yield* store.get(ALICE)))).toBe(serializeStoredToken(token()))
      expect(yield* store.backend).toBe("keychain")
      expect((yield* store.describe).backend).toBe("keychain")
    }))

  it.effect("markInvalidated keeps fields, absent is a no-op; set revives", () =>
    Effect.gen(function*() {
      const kc = fakeKeyring()
      const store = makeKeyringKeyStore({ keyring: kc.keyring })
      yield* store.markInvalidated(ALICE, 9)
      expect(kc.items.size).toBe(0)
      yield* store.set(token())
      yield* store.markInvalidated(ALICE, 1_800_000_000_000)
      const marked = Option.getOrThrow(yield* store.get(ALICE))
      expect(serializeStoredToken(marked)).toBe(serializeStoredToken(token({ invalidatedAt: 1_800_000_000_000 })))
      yield* store.set(marked)
      expect(Option.getOrThrow(yield* store.get(ALICE)).invalidatedAt).toBeUndefined()
    }))

  it.effect("an empty item is absent; remove of a missing item is fine; purge leaves every item (other homes' records)", () =>
    Effect.gen(function*() {
      const kc = fakeKeyring()
      const store = makeKeyringKeyStore({ keyring: kc.keyring })
      kc.items.set(`olares-cli/${ALICE}`, "")
      expect(yield* store.get(ALICE)).toEqual(Option.none())
      yield* store.remove("nobody@olares.com")
      yield* store.set(token())
      yield* store.set(token({ olaresId: "bob@olares.com" }))
      kc.items.set("other-app/x", "keep")
      yield* store.remove(ALICE)
      expect(yield* store.get(ALICE)).toEqual(Option.none())
      yield* store.purge
      expect(Array.from(kc.items.keys()).sort()).toEqual(["olares-cli/bob@olares.com", "other-app/x"])
    }))

  it.effect("a corrupt item is a StorageError naming the item and the fix, never its content", () =>
    Effect.gen(function*() {
      const kc = fakeKeyring()
      const store = makeKeyringKeyStore({ keyring: kc.keyring })
      kc.items.set(`olares-cli/${ALICE}`, "{\"refreshToken\":\"secret-refresh-xyz\"")
      const e1 = (yield* Effect.flip(store.get(ALICE))) as StorageError
      expect(e1._tag).toBe("StorageError")
      expect(e1.path).toBe(`credential store item olares-cli/${ALICE}`)
      expect(e1.detail).toBe("stored token record is not valid JSON")
      expect(e1.hint).toBe(`olares-cli profile remove ${ALICE} && olares-cli profile login --olares-id ${ALICE}`)
      kc.items.set(`olares-cli/${ALICE}`, "{\"refreshToken\":\"secret-refresh-xyz\"}")
      const e2 = (yield* Effect.flip(store.get(ALICE))) as StorageError
      expect(e2.detail).toBe("stored token record has missing or mistyped fields: accessToken")
      expect(`${e2.message} ${e2.hint}`).not.toContain("secret-refresh-xyz")
    }))

  it.effect("keyring failures are KeychainError with the reference's wording", () =>
    Effect.gen(function*() {
      const kc = fakeKeyring()
      kc.state.mode = "fail"
      const store = makeKeyringKeyStore({ keyring: kc.keyring })
      const err = (yield* Effect.flip(store.set(token()))) as KeychainError
      expect(err._tag).toBe("KeychainError")
      expect(err.message).toBe(`keychain Set failed for olares-cli/${ALICE}: User interaction is not allowed.`)
      expect(tagOf(yield* Effect.flip(store.remove(ALICE)))).toBe("KeychainError")
    }))

  it.effect("a hung credential store is abandoned after 5 s", () =>
    Effect.gen(function*() {
      const kc = fakeKeyring()
      kc.state.mode = "hang"
      const store = makeKeyringKeyStore({ keyring: kc.keyring })
      const fiber = yield* Effect.fork(Effect.flip(store.get(ALICE)))
      yield* waitFor(() => kc.state.calls.length > 0)
      yield* TestClock.adjust("5 seconds")
      const err = (yield* Fiber.join(fiber)) as KeychainError
      expect(err.detail).toBe("keychain access blocked (no answer within 5s)")
    }))
})

// ---------------------------------------------------------------------------------------------
// Backend selection
// ---------------------------------------------------------------------------------------------

describe("KeyStoreLive backend selection", () => {
  it("selectBackend: forced values win on every platform; otherwise by platform", () => {
    for (const p of ["linux", "darwin", "win32"] as const) {
      expect(selectBackend("file", p)).toEqual({ kind: "file", reason: "forced by OLARES_CLI_KEYSTORE=file" })
      expect(selectBackend("keyring", p).kind).toBe("keyring")
      expect(selectBackend("memory", p).reason).toBe("forced by OLARES_CLI_KEYSTORE=memory")
    }
    expect(selectBackend("", "darwin").kind).toBe("mac")
    expect(selectBackend("", "win32").kind).toBe("registry")
    expect(selectBackend("", "linux").kind).toBe("file")
    expect(selectBackend("", "freebsd").kind).toBe("file")
    const odd = selectBackend("vault", "linux")
    expect(odd.kind).toBe("file")
    expect(odd.ignored).toBe("OLARES_CLI_KEYSTORE=vault is not one of file, registry, keyring, memory; ignored")
  })

  const pathsFor = (dir: string) =>
    Layer.succeed(AppPaths, {
      home: "/nowhere",
      configFile: "/nowhere/config.json",
      locksDir: "/nowhere/locks",
      dataDir: dir,
      dataDirSource: "OLARES_CLI_DATA_DIR"
    })

  const withEnv = (env: Record<string, string>) =>
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

  it.effect("OLARES_CLI_KEYSTORE=memory gives the memory store with the forced reason", () =>
    Effect.gen(function*() {
      const store = yield* KeyStore
      yield* store.set(token())
      expect(yield* store.backend).toBe("memory")
      expect((yield* store.describe).reason).toBe("forced by OLARES_CLI_KEYSTORE=memory")
    }).pipe(
      Effect.provide(KeyStoreLive.pipe(Layer.provide(pathsFor(freshDir())))),
      withEnv({ OLARES_CLI_KEYSTORE: "memory" })
    ))

  it.effect("OLARES_CLI_KEYSTORE=file writes the encrypted files into the data dir", () => {
    const dir = freshDir()
    return Effect.gen(function*() {
      const store = yield* KeyStore
      yield* store.set(token())
      expect(yield* store.backend).toBe("file")
      const d = yield* store.describe
      expect(d.reason).toContain("forced by OLARES_CLI_KEYSTORE=file")
      expect(existsSync(join(dir, "master.key"))).toBe(true)
    }).pipe(Effect.provide(KeyStoreLive.pipe(Layer.provide(pathsFor(dir)))), withEnv({ OLARES_CLI_KEYSTORE: "file" }))
  })

  it.effect.runIf(process.platform === "linux")("Linux default is the file store; an unknown value warns", () => {
    const { layer, lines } = captureLogs()
    return Effect.gen(function*() {
      const store = yield* KeyStore
      expect(yield* store.backend).toBe("file")
      expect((yield* store.describe).reason).toContain("default on linux")
      expect(lines).toContain("WARN OLARES_CLI_KEYSTORE=vault is not one of file, registry, keyring, memory; ignored")
    }).pipe(
      Effect.provide(KeyStoreLive.pipe(Layer.provide(pathsFor(freshDir())))),
      Effect.provide(layer),
      withEnv({ OLARES_CLI_KEYSTORE: "vault" })
    )
  })

  it.effect("the envelope is shared with the file backend (a record sealed under the Keychain key opens)", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const kc = fakeKeyring()
      const key = randomBytes(32)
      kc.items.set(KC, key.toString("base64"))
      const store = makeMacKeyStore({ dir, keyring: kc.keyring })
      yield* store.set(token({ olaresId: "seed@olares.com" })) // creates the dir
      writeFileSync(join(dir, "alice_olares.com.enc"), encryptBlob(serializeStoredToken(token()), key), { mode: 0o600 })
      expect(serializeStoredToken(Option.getOrThrow(yield* store.get(ALICE)))).toBe(serializeStoredToken(token()))
    }))
})
