/**
 * The macOS store (reference notes §5.3) driven by a double of the Keychain that answers like
 * go-keyring (test/support/go-keyring-double.ts): the Go CLI's items, not-found, a locked or
 * read-only Keychain, a prompt nobody answers (5 s), corrupted values; every branch of the master
 * key's read and write order, the `master.key.file` creation race (real processes), the labels and
 * purge; the files under `Library/Application Support` checked against the Linux vectors. A model
 * of the Go CLI's own logic over the same double (`goMac`) proves both directions.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { randomBytes } from "node:crypto"
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll } from "vitest"
import { encryptBlob } from "../../layers/internal/Blob.js"
import { makeLinuxFileKeyStore } from "../../layers/KeyStoreFile.js"
import { decodeKeychainKey, macBackendLabel, makeMacKeyStore } from "../../layers/KeyStoreKeyring.js"
import { resolvePaths, safeAccountFileName } from "../../src/domain/Paths.js"
import { serializeStoredToken, type StoredToken } from "../../src/domain/StoredToken.js"
import type { KeychainError, StorageError } from "../../src/errors.js"
import { ErrNotFound, type KeychainDouble, keychainDouble } from "../support/go-keyring-double.js"
import { removeWorkerBundle, spawnWorker } from "../support/repo-worker.js"
import { useTempRoots } from "../support/tmp.js"
import {
  FIXED_IV,
  FIXED_KEY,
  plainDecrypt,
  plainEncrypt,
  VECTOR_BLOB_HEX,
  VECTOR_PLAINTEXT
} from "../support/vectors.js"

const tempRoot = useTempRoots("olares-ks-mac-")
afterAll(() => removeWorkerBundle())

/** A fresh `~/Library/Application Support/olares-cli`, as resolvePaths computes it on macOS. */
const macDir = (): string => {
  const home = tempRoot()
  return resolvePaths({}, home, "darwin").dataDir
}

const A = "alice@olares.com"
const B = "bob@olares.com"
const ITEM = "olares-cli/master.key"

const token = (over: Partial<StoredToken> = {}): StoredToken => ({
  olaresId: A,
  accessToken: Redacted.make("access.token.aaa"),
  refreshToken: Redacted.make("refresh-token-bbb"),
  grantedAt: 1_700_000_000_000,
  ...over
})

const store = (kc: KeychainDouble, dir: string) => makeMacKeyStore({ dir, keyring: Effect.succeed(kc.keyring) })

/**
 * The Go CLI's macOS logic (keychain_darwin.go) over the double, as an independent model: read =
 * `master.key.file` if it opens the blob, else the Keychain key; write = existing file key, else the
 * Keychain key (created when missing), else a new `master.key.file`.
 */
const goMac = (kc: KeychainDouble, dir: string) => {
  const fileKey = (allowCreate: boolean): Buffer => {
    const path = join(dir, "master.key.file")
    if (existsSync(path)) {
      const key = readFileSync(path)
      if (key.length !== 32) throw new Error("keychain is corrupted")
      return key
    }
    if (!allowCreate) throw new Error("keychain not initialized")
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const key = randomBytes(32)
    writeFileSync(path, key, { mode: 0o600, flag: "wx" })
    return key
  }
  const keychainKey = async (allowCreate: boolean): Promise<Buffer> => {
    try {
      const key = Buffer.from(await kc.go.get("olares-cli", "master.key"), "base64")
      if (key.length !== 32) throw new Error("keychain is corrupted")
      return key
    } catch (e) {
      if (!(e instanceof ErrNotFound)) throw e
      if (!allowCreate) throw new Error("keychain not initialized")
      const key = randomBytes(32)
      await kc.go.set("olares-cli", "master.key", key.toString("base64"))
      return key
    }
  }
  const path = (account: string) => join(dir, `${safeAccountFileName(account)}.enc`)
  return {
    get: async (account: string): Promise<string | undefined> => {
      if (!existsSync(path(account))) return undefined
      const blob = readFileSync(path(account))
      try {
        return plainDecrypt(blob, fileKey(false))
      } catch {
        return plainDecrypt(blob, await keychainKey(false))
      }
    },
    set: async (account: string, json: string): Promise<void> => {
      let key: Buffer
      try {
        key = fileKey(false)
      } catch {
        try {
          key = await keychainKey(true)
        } catch {
          key = fileKey(true)
        }
      }
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      writeFileSync(path(account), plainEncrypt(json, key, randomBytes(12)), { mode: 0o600 })
    }
  }
}

const serialized = (o: Option.Option<StoredToken>) => serializeStoredToken(Option.getOrThrow(o))

/** Lets the double's pending promise be registered, then moves the TestClock past the 5 s bound. */
const pastTheBound = (kc: KeychainDouble, calls: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500 && kc.state.calls.length <= calls; i++) {
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 2)))
    }
    for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
    yield* TestClock.adjust("5 seconds")
  })

describe("macOS: the Go CLI's Keychain item, through a go-keyring double", () => {
  it.effect("a record the Go CLI wrote (key created by go-keyring's Set) opens here, and ours opens there", () =>
    Effect.gen(function*() {
      const dir = macDir()
      const kc = keychainDouble()
      const go = goMac(kc, dir)
      yield* Effect.promise(() => go.set(A, serializeStoredToken(token())))
      // go-keyring's envelope around the base64 key is what the Keychain holds
      expect(kc.items.get(ITEM)).toMatch(/^go-keyring-base64:[A-Za-z0-9+/]+=*$/)
      const ours = store(kc, dir)
      expect(serialized(yield* ours.get(A))).toBe(serializeStoredToken(token()))
      yield* ours.set(token({ olaresId: B }))
      expect(yield* Effect.promise(() => go.get(B))).toBe(serializeStoredToken(token({ olaresId: B })))
      expect(yield* ours.backend).toBe("system-keychain")
    }))

  it.effect("a key this CLI created is read by go-keyring as the same 32 bytes, and the Go CLI opens our records", () =>
    Effect.gen(function*() {
      const dir = macDir()
      const kc = keychainDouble()
      yield* store(kc, dir).set(token())
      const seenByGo = Buffer.from(yield* Effect.promise(() => kc.go.get("olares-cli", "master.key")), "base64")
      expect(seenByGo.length).toBe(32)
      expect(Option.getOrThrow(decodeKeychainKey(kc.items.get(ITEM)!)).equals(seenByGo)).toBe(true)
      expect(yield* Effect.promise(() => goMac(kc, dir).get(A))).toBe(serializeStoredToken(token()))
    }))

  it.effect("older envelopes are read: go-keyring's hex encoding and a bare base64 value", () =>
    Effect.gen(function*() {
      const dir = macDir()
      const kc = keychainDouble()
      yield* Effect.promise(() => goMac(kc, dir).set(A, serializeStoredToken(token())))
      const key = Option.getOrThrow(decodeKeychainKey(kc.items.get(ITEM)!))
      kc.items.set(ITEM, `go-keyring-encoded:${Buffer.from(key.toString("base64")).toString("hex")}`)
      expect(serialized(yield* store(kc, dir).get(A))).toBe(serializeStoredToken(token()))
      kc.items.set(ITEM, `${key.toString("base64")}\n`)
      expect(serialized(yield* store(kc, dir).get(A))).toBe(serializeStoredToken(token()))
    }))

  it.effect("corrupted values are `keychain is corrupted` with the exact fix; writes then fall back to the file", () =>
    Effect.gen(function*() {
      const dir = macDir()
      const kc = keychainDouble()
      yield* store(kc, dir).set(token())
      const corrupt = [
        "go-keyring-base64:!!!not base64!!!",
        `go-keyring-base64:${Buffer.from(randomBytes(31).toString("base64")).toString("base64")}`,
        "go-keyring-encoded:zz",
        randomBytes(32).toString("hex")
      ]
      for (const value of corrupt) {
        kc.items.set(ITEM, value)
        const e = (yield* Effect.flip(store(kc, dir).get(A))) as StorageError
        expect(e._tag).toBe("StorageError")
        expect(e.detail).toBe("keychain is corrupted (the item does not hold 32 base64-encoded bytes)")
        expect(e.hint).toBe(
          `security delete-generic-password -s olares-cli -a master.key && olares-cli profile login --olares-id ${A}`
        )
      }
      yield* store(kc, dir).set(token({ olaresId: B }))
      expect(readFileSync(join(dir, "master.key.file")).length).toBe(32)
      expect(kc.items.get(ITEM)).toBe(corrupt.at(-1)) // never overwritten
      expect(yield* macBackendLabel(dir)).toBe("file-fallback")
    }))

  it.effect("not found: reads say `keychain not initialized`; with writes refused too (sandbox), master.key.file", () =>
    Effect.gen(function*() {
      const dir = macDir()
      const kc = keychainDouble()
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      writeFileSync(join(dir, "alice_olares.com.enc"), encryptBlob("{}", randomBytes(32)), { mode: 0o600 })
      const e = (yield* Effect.flip(store(kc, dir).get(A))) as StorageError
      expect(e.detail).toMatch(/^keychain not initialized/)
      // the Go test's sandbox: Get says not found, Set is blocked
      kc.state.mode = "readOnly"
      yield* store(kc, dir).set(token({ olaresId: B }))
      expect(kc.state.calls.slice(-2)).toEqual([`ts get ${ITEM}`, `ts set ${ITEM}`])
      expect(kc.items.has(ITEM)).toBe(false)
      expect(statSync(join(dir, "master.key.file")).mode & 0o777).toBe(0o600)
      expect(yield* store(kc, dir).backend).toBe("file-fallback")
      // the Go CLI reads it through its own file-first order
      expect(yield* Effect.promise(() => goMac(kc, dir).get(B))).toBe(serializeStoredToken(token({ olaresId: B })))
    }))

  it.effect("a locked Keychain: reads fail with its error (KeychainError), writes fall back to master.key.file", () =>
    Effect.gen(function*() {
      const dir = macDir()
      const kc = keychainDouble()
      yield* store(kc, dir).set(token())
      kc.state.mode = "locked"
      const e = (yield* Effect.flip(store(kc, dir).get(A))) as KeychainError
      expect(e._tag).toBe("KeychainError")
      expect(e.message).toBe("keychain Get failed for olares-cli/master.key: User interaction is not allowed.")
      yield* store(kc, dir).set(token({ olaresId: B }))
      expect(existsSync(join(dir, "master.key.file"))).toBe(true)
      // alice (Keychain key) is still read once the Keychain is unlocked: the file key fails, the Keychain key opens it
      kc.state.mode = "ok"
      expect(serialized(yield* store(kc, dir).get(A))).toBe(serializeStoredToken(token()))
    }))

  it.effect("a prompt nobody answers: reads give up after 5 s (blocked), writes then use master.key.file", () =>
    Effect.gen(function*() {
      const dir = macDir()
      const kc = keychainDouble()
      yield* store(kc, dir).set(token())
      kc.state.mode = "hang"
      let calls = kc.state.calls.length
      const read = yield* Effect.fork(Effect.flip(store(kc, dir).get(A)))
      yield* pastTheBound(kc, calls)
      const e = (yield* Fiber.join(read)) as KeychainError
      expect(e.detail).toBe("keychain access blocked (no answer within 5s)")
      calls = kc.state.calls.length
      const write = yield* Effect.fork(store(kc, dir).set(token({ olaresId: B })))
      yield* pastTheBound(kc, calls)
      yield* Fiber.join(write)
      expect(yield* macBackendLabel(dir)).toBe("file-fallback")
    }))
})

describe("macOS: read and write order, labels, purge", () => {
  it.effect("read order: master.key.file first (the Keychain is not asked), the Keychain key when the file's does not open", () =>
    Effect.gen(function*() {
      const dir = macDir()
      const kc = keychainDouble()
      yield* store(kc, dir).set(token({ olaresId: B })) // under the Keychain key
      writeFileSync(join(dir, "master.key.file"), randomBytes(32), { mode: 0o600 })
      yield* store(kc, dir).set(token()) // under the file key now
      kc.state.calls.length = 0
      expect(serialized(yield* store(kc, dir).get(A))).toBe(serializeStoredToken(token()))
      expect(kc.state.calls).toEqual([])
      expect(serialized(yield* store(kc, dir).get(B))).toBe(serializeStoredToken(token({ olaresId: B })))
      expect(kc.state.calls).toEqual([`ts get ${ITEM}`])
    }))

  it.effect("write order: an existing master.key.file is used and the Keychain never touched", () =>
    Effect.gen(function*() {
      const dir = macDir()
      const kc = keychainDouble()
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      writeFileSync(join(dir, "master.key.file"), FIXED_KEY, { mode: 0o600 })
      yield* store(kc, dir).set(token())
      expect(kc.state.calls).toEqual([])
      expect(plainDecrypt(readFileSync(join(dir, "alice_olares.com.enc")), FIXED_KEY)).toBe(
        serializeStoredToken(token())
      )
    }))

  it.effect("labels: file-fallback only when master.key.file holds exactly 32 bytes; a short one falls back to the Keychain key", () =>
    Effect.gen(function*() {
      const dir = macDir()
      const kc = keychainDouble()
      expect(yield* macBackendLabel(dir)).toBe("system-keychain") // nothing yet
      yield* store(kc, dir).set(token())
      writeFileSync(join(dir, "master.key.file"), randomBytes(31), { mode: 0o600 })
      expect(yield* macBackendLabel(dir)).toBe("system-keychain")
      expect(serialized(yield* store(kc, dir).get(A))).toBe(serializeStoredToken(token()))
      writeFileSync(join(dir, "master.key.file"), randomBytes(32), { mode: 0o600 })
      expect(yield* macBackendLabel(dir)).toBe("file-fallback")
      expect(yield* store(kc, dir).backend).toBe("file-fallback")
    }))

  it.effect("purge: nothing while a record remains; then the Keychain item (missing is fine) and the key file", () =>
    Effect.gen(function*() {
      const dir = macDir()
      const kc = keychainDouble()
      const s = store(kc, dir)
      yield* s.set(token())
      yield* s.set(token({ olaresId: B }))
      writeFileSync(join(dir, "master.key.file"), randomBytes(32), { mode: 0o600 })
      yield* s.remove(A)
      yield* s.purge
      expect(kc.items.has(ITEM)).toBe(true)
      expect(existsSync(join(dir, "master.key.file"))).toBe(true)
      yield* s.remove(B)
      yield* s.purge
      expect(kc.items.has(ITEM)).toBe(false)
      expect(readdirSync(dir)).toEqual([])
      yield* s.purge // the item is gone now: not found is fine
      // go-keyring's Delete of the missing item is ErrNotFound, which the Go CLI ignores too
      const gone = yield* Effect.promise(() => kc.go.delete("olares-cli", "master.key").then(() => "deleted", (e) => e))
      expect(gone).toBeInstanceOf(ErrNotFound)
    }))

  it.live(
    "master.key.file creation race: 6 processes on a locked Keychain share one key",
    () =>
      Effect.gen(function*() {
        const dir = macDir()
        const ids = Array.from({ length: 6 }, (_, i) => `u${i}@olares.com`)
        const runs = yield* Effect.promise(() => Promise.all(ids.map((id) => spawnWorker(["mac-set", dir, id]).exited)))
        for (const r of runs) {
          expect(r.code, r.stderr).toBe(0)
          expect(r.stdout.split("\n")).toContain("ok")
        }
        const key = readFileSync(join(dir, "master.key.file"))
        expect(key.length).toBe(32)
        for (const id of ids) {
          const blob = readFileSync(join(dir, `${safeAccountFileName(id)}.enc`))
          expect(JSON.parse(plainDecrypt(blob, key)).olaresId).toBe(id)
        }
      }),
    60_000
  )

  it.live("a loser that finds the winner's key file still empty re-reads it (3 tries, 5 ms apart), then gives up", () =>
    Effect.gen(function*() {
      const kc = keychainDouble()
      kc.state.mode = "locked"
      // the winner completes its file within the retries: its key is used
      const dir = macDir()
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      const winner = randomBytes(32)
      writeFileSync(join(dir, "master.key.file"), Buffer.alloc(0), { mode: 0o600 })
      setTimeout(() => writeFileSync(join(dir, "master.key.file"), winner), 1)
      yield* store(kc, dir).set(token())
      expect(plainDecrypt(readFileSync(join(dir, "alice_olares.com.enc")), winner)).toBe(serializeStoredToken(token()))
      // a winner that never finishes: `keychain is corrupted`, naming the file and the fix
      const stuck = macDir()
      mkdirSync(stuck, { recursive: true, mode: 0o700 })
      writeFileSync(join(stuck, "master.key.file"), Buffer.alloc(5), { mode: 0o600 })
      const e = (yield* Effect.flip(store(kc, stuck).set(token()))) as StorageError
      expect(e.detail).toBe("keychain is corrupted (master.key.file is 5 bytes, want 32)")
      expect(e.hint).toContain(`mv "${join(stuck, "master.key.file")}"`)
      expect(existsSync(join(stuck, "alice_olares.com.enc"))).toBe(false)
    }))
})

describe("macOS: the files under Library/Application Support are the Linux store's, byte for byte", () => {
  it("the data dir is ~/Library/Application Support/olares-cli", () => {
    expect(resolvePaths({}, "/Users/alice", "darwin").dataDir).toBe(
      "/Users/alice/Library/Application Support/olares-cli"
    )
  })

  it.effect("the Linux vector opens under the Keychain key; our blob is the vector's construction; the Linux store reads our files", () =>
    Effect.gen(function*() {
      const dir = macDir()
      const kc = keychainDouble()
      // the Go CLI put FIXED_KEY in the Keychain through go-keyring
      yield* Effect.promise(() => kc.go.set("olares-cli", "master.key", FIXED_KEY.toString("base64")))
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      writeFileSync(join(dir, "alice_olares.com.enc"), Buffer.from(VECTOR_BLOB_HEX, "hex"), { mode: 0o600 })
      const mac = store(kc, dir)
      const vector = Option.getOrThrow(yield* mac.get(A))
      expect(serializeStoredToken(vector)).toBe(VECTOR_PLAINTEXT)
      // written back by the macOS store: IV(12) || AES-256-GCM(plaintext) || tag(16), no AAD
      yield* mac.set(vector)
      const blob = readFileSync(join(dir, "alice_olares.com.enc"))
      expect(blob.length).toBe(Buffer.from(VECTOR_BLOB_HEX, "hex").length)
      expect(blob.equals(plainEncrypt(VECTOR_PLAINTEXT, FIXED_KEY, blob.subarray(0, 12)))).toBe(true)
      expect(plainEncrypt(VECTOR_PLAINTEXT, FIXED_KEY, FIXED_IV).toString("hex")).toBe(VECTOR_BLOB_HEX)
      expect(encryptBlob(serializeStoredToken(vector), FIXED_KEY, FIXED_IV).toString("hex")).toBe(VECTOR_BLOB_HEX)
      yield* mac.set(token({ olaresId: B }))
      // the same names and modes as the Linux store; only the key lives elsewhere
      expect(readdirSync(dir).sort()).toEqual(["alice_olares.com.enc", "bob_olares.com.enc"])
      expect(statSync(dir).mode & 0o777).toBe(0o700)
      for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)
      const linux = join(tempRoot(), "linux")
      cpSync(dir, linux, { recursive: true })
      writeFileSync(join(linux, "master.key"), FIXED_KEY, { mode: 0o600 })
      const l = makeLinuxFileKeyStore(linux)
      expect(serialized(yield* l.get(A))).toBe(VECTOR_PLAINTEXT)
      expect(serialized(yield* l.get(B))).toBe(serializeStoredToken(token({ olaresId: B })))
    }))
})
