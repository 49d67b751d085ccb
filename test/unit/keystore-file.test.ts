/** The AES-256-GCM file store: Go compatibility vectors, modes, corruption handling, semantics. */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { encryptBlob } from "../../layers/internal/Blob.js"
import { decryptBlob, KeyStoreFile, makeLinuxFileKeyStore } from "../../layers/KeyStoreFile.js"
import { recordPath, safeAccountFileName } from "../../src/domain/Paths.js"
import { serializeStoredToken, type StoredToken } from "../../src/domain/StoredToken.js"
import type { StorageError } from "../../src/errors.js"
import { AppPaths } from "../../src/services/AppPaths.js"
import { KeyStore, type KeyStoreError } from "../../src/services/KeyStore.js"
import { captureLogs } from "../support/logs.js"
import { useTempRoots } from "../support/tmp.js"
import {
  FIXED_IV,
  FIXED_KEY,
  plainDecrypt,
  plainEncrypt,
  VECTOR_BLOB_HEX,
  VECTOR_PLAINTEXT
} from "../support/vectors.js"

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const tempRoot = useTempRoots("olares-ks-file-")

/** A fresh, not yet existing data dir (two levels below a temp root, so creation is exercised). */
const freshDir = (): string => {
  const root = tempRoot()
  return join(root, "share", "olares-cli")
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

/** Captures every log line (level + text) for permission-warning assertions. */
const mode = (p: string) => statSync(p).mode & 0o777

const expectStorageError = (e: KeyStoreError): StorageError => {
  expect(e._tag).toBe("StorageError")
  return e as StorageError
}

/** Lays out a data dir as the Go CLI would: master.key + one record. */
const seedGoLayout = (dir: string, key: Buffer, account: string, blob: Buffer) => {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  writeFileSync(join(dir, "master.key"), key, { mode: 0o600 })
  writeFileSync(join(dir, `${safeAccountFileName(account)}.enc`), blob, { mode: 0o600 })
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe("file names", () => {
  it("replaces @ like the reference", () => {
    expect(safeAccountFileName("alice@olares.com")).toBe("alice_olares.com")
    expect(safeAccountFileName("a b/c:d-e_f.g")).toBe("a_b_c_d-e_f.g")
    expect(recordPath("/d", "alice@olares.com")).toBe("/d/alice_olares.com.enc")
  })
})

describe("compatibility vectors", () => {
  it("encryptBlob with a fixed key and IV reproduces the independent vector byte for byte", () => {
    expect(encryptBlob(VECTOR_PLAINTEXT, FIXED_KEY, FIXED_IV).toString("hex")).toBe(VECTOR_BLOB_HEX)
    expect(plainEncrypt(VECTOR_PLAINTEXT, FIXED_KEY, FIXED_IV).toString("hex")).toBe(VECTOR_BLOB_HEX)
  })

  it.effect("decrypts a record laid out by an independent implementation (Go layout)", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      seedGoLayout(dir, FIXED_KEY, ALICE, Buffer.from(VECTOR_BLOB_HEX, "hex"))
      const got = yield* makeLinuxFileKeyStore(dir).get(ALICE)
      expect(Option.isSome(got)).toBe(true)
      const t = Option.getOrThrow(got)
      expect(t.olaresId).toBe(ALICE)
      expect(Redacted.value(t.accessToken)).toBe("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE4OTM0NTYwMDB9.c2ln")
      expect(t.refreshToken && Redacted.value(t.refreshToken)).toBe("rt-opaque-123")
      expect(t.sessionId).toBe("sess-1")
      expect(t.grantedAt).toBe(1_700_000_000_000)
      expect(t.invalidatedAt).toBeUndefined()
    }))

  it.effect("decrypts a record plain node:crypto sealed under a random IV", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const plaintext = serializeStoredToken(token({ invalidatedAt: 1_700_000_500_000 }))
      seedGoLayout(dir, FIXED_KEY, ALICE, plainEncrypt(plaintext, FIXED_KEY, randomBytes(12)))
      const got = Option.getOrThrow(yield* makeLinuxFileKeyStore(dir).get(ALICE))
      expect(serializeStoredToken(got)).toBe(plaintext)
      expect(got.invalidatedAt).toBe(1_700_000_500_000)
    }))

  it.effect("what the store writes opens with plain node:crypto: IV || ct || tag, exact JSON key order", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      yield* makeLinuxFileKeyStore(dir).set(token())
      const key = readFileSync(join(dir, "master.key"))
      expect(key.length).toBe(32)
      const blob = readFileSync(join(dir, "alice_olares.com.enc"))
      const plaintext = plainDecrypt(blob, key)
      expect(plaintext).toBe(
        "{\"olaresId\":\"alice@olares.com\",\"accessToken\":\"access.token.aaa\",\"refreshToken\":\"refresh-token-bbb\",\"sessionId\":\"sess-1\",\"grantedAt\":1700000000000}"
      )
      expect(Object.keys(JSON.parse(plaintext))).toEqual([
        "olaresId",
        "accessToken",
        "refreshToken",
        "sessionId",
        "grantedAt"
      ])
      expect(blob.length).toBe(12 + Buffer.byteLength(plaintext) + 16)
      // Two writes never reuse an IV.
      yield* makeLinuxFileKeyStore(dir).set(token())
      const blob2 = readFileSync(join(dir, "alice_olares.com.enc"))
      expect(blob2.subarray(0, 12).equals(blob.subarray(0, 12))).toBe(false)
    }))

  it("decryptBlob rejects short blobs and foreign keys without throwing", () => {
    expect(decryptBlob(Buffer.alloc(27), FIXED_KEY)).toEqual(Either.left("truncated"))
    const blob = Buffer.from(VECTOR_BLOB_HEX, "hex")
    expect(decryptBlob(blob, randomBytes(32))._tag).toBe("Left")
    expect(decryptBlob(blob, FIXED_KEY)._tag).toBe("Right")
  })
})

describe("layout and modes", () => {
  it.effect("round trip; dir 0700, master.key and record 0600, no temp files left", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = makeLinuxFileKeyStore(dir)
      expect(yield* store.get(ALICE)).toEqual(Option.none())
      expect(existsSync(dir)).toBe(false) // reads never create anything
      yield* store.set(token())
      const got = Option.getOrThrow(yield* store.get(ALICE))
      expect(serializeStoredToken(got)).toBe(serializeStoredToken(token()))
      expect(mode(dir)).toBe(0o700)
      expect(mode(join(dir, "master.key"))).toBe(0o600)
      expect(mode(join(dir, "alice_olares.com.enc"))).toBe(0o600)
      expect(readdirSync(dir).sort()).toEqual(["alice_olares.com.enc", "master.key"])
      expect(yield* store.backend).toBe("file")
      const d = yield* store.describe
      expect(d.backend).toBe("file")
      expect(d.location).toContain(dir)
    }))

  it.effect("the master key is created once and reused", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      yield* makeLinuxFileKeyStore(dir).set(token())
      const key = readFileSync(join(dir, "master.key"))
      yield* makeLinuxFileKeyStore(dir).set(token({ olaresId: "bob@olares.com" }))
      expect(readFileSync(join(dir, "master.key")).equals(key)).toBe(true)
    }))

  it.effect("concurrent first writers agree on one master key", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const ids = Array.from({ length: 8 }, (_, i) => `user${i}@olares.com`)
      yield* Effect.all(ids.map((id) => makeLinuxFileKeyStore(dir).set(token({ olaresId: id }))), {
        concurrency: "unbounded"
      })
      const reader = makeLinuxFileKeyStore(dir)
      for (const id of ids) expect(Option.isSome(yield* reader.get(id))).toBe(true)
      expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([])
    }))

  it.effect("wrong permissions are fixed with a warning", () => {
    const { layer, lines } = captureLogs()
    return Effect.gen(function*() {
      const dir = freshDir()
      const store = makeLinuxFileKeyStore(dir)
      yield* store.set(token())
      const enc = join(dir, "alice_olares.com.enc")
      const key = join(dir, "master.key")
      chmodSync(dir, 0o755)
      chmodSync(key, 0o644)
      chmodSync(enc, 0o644)
      expect(Option.isSome(yield* store.get(ALICE))).toBe(true)
      expect(mode(dir)).toBe(0o700)
      expect(mode(key)).toBe(0o600)
      expect(mode(enc)).toBe(0o600)
      expect(lines).toEqual(expect.arrayContaining([
        `WARN fixed permissions of ${dir} from 0755 to 0700`,
        `WARN fixed permissions of ${key} from 0644 to 0600`,
        `WARN fixed permissions of ${enc} from 0644 to 0600`
      ]))
      lines.length = 0
      yield* store.get(ALICE)
      expect(lines).toEqual([]) // fixed once, silent afterwards
    }).pipe(Effect.provide(layer))
  })
})

describe("corruption is reported, never repaired on read", () => {
  const corruptCase = (
    name: string,
    damage: (dir: string, enc: string) => void,
    expectDetail: RegExp,
    expectPath: (dir: string, enc: string) => string
  ) =>
    it.effect(name, () =>
      Effect.gen(function*() {
        const dir = freshDir()
        const store = makeLinuxFileKeyStore(dir)
        yield* store.set(token())
        const enc = join(dir, "alice_olares.com.enc")
        damage(dir, enc)
        const before = readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString("hex")])
        const err = expectStorageError(yield* Effect.flip(store.get(ALICE)))
        expect(err.path).toBe(expectPath(dir, enc))
        expect(err.detail).toMatch(expectDetail)
        expect(err.message).toContain(err.path)
        const after = readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString("hex")])
        expect(after).toEqual(before)
        // A secret never appears in the error.
        expect(JSON.stringify({ m: err.message, h: err.hint })).not.toMatch(/access\.token\.aaa|refresh-token-bbb/)
        return err
      }))

  const relogin = `olares-cli profile remove ${ALICE} && olares-cli profile login --olares-id ${ALICE}`

  corruptCase(
    "truncated blob",
    (_dir, enc) => writeFileSync(enc, randomBytes(27)),
    /truncated \(27 bytes, want at least 28\)/,
    (_d, enc) => enc
  )
  corruptCase(
    "flipped ciphertext byte (bad tag)",
    (_dir, enc) => {
      const b = readFileSync(enc)
      b[14] = b[14]! ^ 0xff
      writeFileSync(enc, b)
    },
    /cannot be decrypted: it is corrupt or was encrypted under another master key/,
    (_d, enc) => enc
  )
  corruptCase(
    "record encrypted under another key",
    (_dir, enc) => writeFileSync(enc, plainEncrypt(serializeStoredToken(token()), randomBytes(32), randomBytes(12))),
    /encrypted under another master key/,
    (_d, enc) => enc
  )
  corruptCase(
    "master.key of the wrong length",
    (dir) => writeFileSync(join(dir, "master.key"), randomBytes(31)),
    /^keychain is corrupted \(master\.key is 31 bytes, want 32\)$/,
    (dir) => join(dir, "master.key")
  )
  corruptCase(
    "master.key missing while a record exists",
    (dir) => rmSync(join(dir, "master.key")),
    /keychain not initialized/,
    (_d, enc) => enc
  )

  it.effect("the hints are the exact fix commands", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = makeLinuxFileKeyStore(dir)
      yield* store.set(token())
      const enc = join(dir, "alice_olares.com.enc")
      writeFileSync(enc, randomBytes(40))
      expect(expectStorageError(yield* Effect.flip(store.get(ALICE))).hint).toBe(relogin)
      const key = join(dir, "master.key")
      writeFileSync(key, randomBytes(5))
      const keyErr = expectStorageError(yield* Effect.flip(store.get(ALICE)))
      expect(keyErr.hint).toBe(`mv "${key}" "${key}.corrupt" && olares-cli profile login --olares-id ${ALICE}`)
      // Writes refuse to replace a corrupt master key too.
      const setErr = expectStorageError(yield* Effect.flip(store.set(token())))
      expect(setErr.detail).toBe("keychain is corrupted (master.key is 5 bytes, want 32)")
      expect(readFileSync(key).length).toBe(5)
    }))

  it.effect("bad JSON and schema-invalid records inside a valid envelope", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      seedGoLayout(dir, FIXED_KEY, ALICE, plainEncrypt("{not json", FIXED_KEY, randomBytes(12)))
      const store = makeLinuxFileKeyStore(dir)
      const e1 = expectStorageError(yield* Effect.flip(store.get(ALICE)))
      expect(e1.detail).toBe("decrypted token record is not valid JSON")
      expect(e1.hint).toBe(relogin)
      writeFileSync(
        join(dir, "alice_olares.com.enc"),
        plainEncrypt(
          "{\"olaresId\":\"alice@olares.com\",\"refreshToken\":\"secret-refresh-xyz\"}",
          FIXED_KEY,
          randomBytes(12)
        )
      )
      const e2 = expectStorageError(yield* Effect.flip(store.get(ALICE)))
      expect(e2.detail).toBe("decrypted token record has missing or mistyped fields: accessToken")
      expect(e2.message).not.toContain("secret-refresh-xyz")
    }))
})

describe("record semantics", () => {
  it.effect("a record without olaresId gets the requested one", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      seedGoLayout(dir, FIXED_KEY, ALICE, plainEncrypt("{\"accessToken\":\"a\"}", FIXED_KEY, randomBytes(12)))
      expect(Option.getOrThrow(yield* makeLinuxFileKeyStore(dir).get(ALICE)).olaresId).toBe(ALICE)
    }))

  it.effect("set clears invalidatedAt; markInvalidated keeps every other field", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = makeLinuxFileKeyStore(dir)
      yield* store.set(token({ invalidatedAt: 123, managed: true }))
      const stored = Option.getOrThrow(yield* store.get(ALICE))
      expect(stored.invalidatedAt).toBeUndefined()
      expect(stored.managed).toBe(true)
      yield* store.markInvalidated(ALICE, 1_800_000_000_000)
      const marked = Option.getOrThrow(yield* store.get(ALICE))
      expect(serializeStoredToken(marked)).toBe(
        serializeStoredToken(token({ managed: true, invalidatedAt: 1_800_000_000_000 }))
      )
      yield* store.set(marked)
      expect(Option.getOrThrow(yield* store.get(ALICE)).invalidatedAt).toBeUndefined()
    }))

  it.effect("markInvalidated given the rejected refresh token stamps only a record that still holds it", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = makeLinuxFileKeyStore(dir)
      yield* store.set(token({ refreshToken: Redacted.make("rt-current") }))
      // the server rejected a token someone has since rotated away: the record is alive, untouched
      const before = readFileSync(join(dir, "alice_olares.com.enc"))
      yield* store.markInvalidated(ALICE, 5, Redacted.make("rt-rotated-away"))
      expect(readFileSync(join(dir, "alice_olares.com.enc")).equals(before)).toBe(true)
      yield* store.markInvalidated(ALICE, 5, Redacted.make("rt-current"))
      expect(Option.getOrThrow(yield* store.get(ALICE)).invalidatedAt).toBe(5)
    }))

  it.effect("markInvalidated of an absent record is a no-op that creates nothing", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      yield* makeLinuxFileKeyStore(dir).markInvalidated(ALICE, 1)
      expect(existsSync(dir)).toBe(false)
    }))

  it.effect("remove: absent is fine, present is gone, other records stay", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = makeLinuxFileKeyStore(dir)
      yield* store.remove(ALICE)
      yield* store.set(token())
      yield* store.set(token({ olaresId: "bob@olares.com" }))
      yield* store.remove(ALICE)
      expect(yield* store.get(ALICE)).toEqual(Option.none())
      expect(Option.isSome(yield* store.get("bob@olares.com"))).toBe(true)
      expect(existsSync(join(dir, "master.key"))).toBe(true)
    }))

  it.effect("purge keeps the master key while any record (another config home's) remains, then deletes only it", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const store = makeLinuxFileKeyStore(dir)
      yield* store.set(token())
      yield* store.set(token({ olaresId: "bob@olares.com" }))
      const oldKey = readFileSync(join(dir, "master.key"))
      // this home's last profile was alice; bob's record belongs to another home sharing the data dir
      yield* store.remove(ALICE)
      yield* store.purge
      expect(readFileSync(join(dir, "master.key")).equals(oldKey)).toBe(true)
      expect(Option.isSome(yield* store.get("bob@olares.com"))).toBe(true)
      // a record being written counts as one too
      yield* store.remove("bob@olares.com")
      writeFileSync(join(dir, "carol_olares.com.enc.0f1e2d.tmp"), "x", { mode: 0o600 })
      yield* store.purge
      expect(existsSync(join(dir, "master.key"))).toBe(true)
      rmSync(join(dir, "carol_olares.com.enc.0f1e2d.tmp"))
      // no record left: the key goes; the directory (and whatever else is in it, e.g. locks/) stays
      mkdirSync(join(dir, "locks"), { mode: 0o700 })
      writeFileSync(join(dir, "locks", "bob@olares.com.refresh.lock"), "", { mode: 0o600 })
      yield* store.purge
      expect(readdirSync(dir).sort()).toEqual(["locks"])
      expect(readdirSync(join(dir, "locks"))).toEqual(["bob@olares.com.refresh.lock"])
      yield* store.purge // idempotent
      yield* store.set(token())
      expect(readFileSync(join(dir, "master.key")).equals(oldKey)).toBe(false)
    }))

  it.effect("purge of a data dir that does not exist is fine", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      yield* makeLinuxFileKeyStore(dir).purge
      expect(existsSync(dir)).toBe(false)
    }))

  it.effect("the KeyStoreFile layer stores in AppPaths.dataDir", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const paths = Layer.succeed(AppPaths, {
        home: "/nowhere",
        configFile: "/nowhere/config.json",
        locksDir: "/nowhere/locks",
        dataDir: dir,
        dataDirSource: "OLARES_CLI_DATA_DIR"
      })
      yield* Effect.gen(function*() {
        const store = yield* KeyStore
        yield* store.set(token())
        expect((yield* store.describe).reason).toContain("OLARES_CLI_DATA_DIR")
      }).pipe(Effect.provide(KeyStoreFile.pipe(Layer.provide(paths))))
      expect(existsSync(join(dir, "alice_olares.com.enc"))).toBe(true)
    }))
})

describe("properties", () => {
  const text = FastCheck.string({ unit: "binary", maxLength: 300 })
  const recordArb = FastCheck.record(
    {
      olaresId: FastCheck.string({ unit: "binary", minLength: 1, maxLength: 60 }),
      accessToken: text,
      refreshToken: text,
      sessionId: text,
      grantedAt: FastCheck.nat(),
      invalidatedAt: FastCheck.nat(),
      managed: FastCheck.boolean()
    },
    { requiredKeys: ["olaresId", "accessToken"] }
  ).map(({ accessToken, refreshToken, ...rest }): StoredToken => ({
    ...rest,
    accessToken: Redacted.make(accessToken),
    ...(refreshToken === undefined ? {} : { refreshToken: Redacted.make(refreshToken) })
  }))

  const dir = freshDir()
  const store = makeLinuxFileKeyStore(dir)

  it.effect.prop(
    "any record round-trips (minus invalidatedAt, which set clears)",
    [recordArb],
    ([t]) =>
      Effect.gen(function*() {
        yield* store.set(t)
        const got = Option.getOrThrow(yield* store.get(t.olaresId))
        const { invalidatedAt: _, ...expected } = t
        expect(serializeStoredToken(got)).toBe(serializeStoredToken(expected))
        expect(got.olaresId).toBe(t.olaresId)
        expect(Redacted.value(got.accessToken)).toBe(Redacted.value(t.accessToken))
      }),
    { fastCheck: { numRuns: 60 } }
  )

  it.prop("the envelope opens with the key that sealed it and with no other", [
    text,
    FastCheck.uint8Array({ minLength: 32, maxLength: 32 })
  ], ([pt, k]) => {
    const key = Buffer.from(k)
    const blob = encryptBlob(pt, key)
    expect(blob.length).toBe(12 + Buffer.byteLength(pt) + 16)
    expect(plainDecrypt(blob, key)).toBe(pt)
    const other = Buffer.from(key)
    other[0] = other[0]! ^ 1
    expect(decryptBlob(blob, other)._tag).toBe("Left")
  })
})
