/**
 * The plain decoders the start-up quick path runs on (ConfigData, TokenStatus) against the Schemas
 * the Effect programs use, which stay the authority: whatever the plain decoders accept, the Schema
 * accepts too and decodes to the same value (so the quick path can never print what the full CLI
 * would refuse), and every config or record the CLI itself writes is accepted (so the quick path
 * actually serves). Also: the entry bundle loads no framework.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as fc from "effect/FastCheck"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as esbuild from "esbuild"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import {
  decodeConfigStrict,
  PROFILE_FIELDS,
  PROFILE_TABLE,
  serializeConfig,
  serializeConfig as serializeSchemaConfig
} from "../../src/domain/ConfigData.js"
import { parseConfig, Profile } from "../../src/domain/ProfileConfig.js"
import { parseStoredToken, serializeStoredToken, StoredToken } from "../../src/domain/StoredToken.js"
import { decodeRecordStrict, RECORD_TABLE, TOKEN_STATUSES } from "../../src/domain/TokenStatus.js"
import { TokenStatusJson } from "../../src/schemas.js"

const ROOT = resolve(import.meta.dirname, "../..")

// ---------------------------------------------------------------------------------------------
// Arbitraries: valid documents, then documents with one value or the whole text broken
// ---------------------------------------------------------------------------------------------

const str = fc.oneof(fc.constant(""), fc.string({ maxLength: 10 }), fc.constantFrom("alice@olares.com", "bob"))
const int = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4_102_444_800 }), fc.maxSafeInteger())
const anyJson = fc.jsonValue({ maxDepth: 2 })
/** Values of every JSON type plus the numbers an int check must tell apart. */
const wrongish = fc.oneof(
  anyJson,
  fc.constantFrom(null, 1.5, -1, 2 ** 53, 1e300, "", "1", true, false, [], {}),
  fc.double({ noNaN: true, noDefaultInfinity: true })
)
const unknownKey = (known: ReadonlyArray<string>) =>
  fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,9}$/).filter((k) => !known.includes(k))

const kindArb = { string: str, boolean: fc.boolean(), int } as const

const validProfile = fc
  .tuple(
    fc.dictionary(unknownKey(Object.keys(PROFILE_FIELDS)), anyJson, { maxKeys: 2 }),
    fc.record(
      {
        ...Object.fromEntries(Object.entries(PROFILE_FIELDS).map(([k, kind]) => [k, kindArb[kind]])),
        // the CLI never writes an empty one (the quick path declines it, see the broken configs)
        olaresId: fc.oneof(fc.constantFrom("alice@olares.com", "bob"), fc.string({ minLength: 1, maxLength: 10 }))
      },
      { requiredKeys: ["olaresId"] }
    )
  )
  .map(([extra, known]) => ({ ...extra, ...known }))

const validConfig = fc
  .tuple(
    fc.record({ currentProfile: str, previousProfile: str }, { requiredKeys: [] }),
    fc.option(fc.array(validProfile, { maxLength: 3 }), { nil: undefined }),
    fc.dictionary(unknownKey(["currentProfile", "previousProfile", "profiles"]), anyJson, { maxKeys: 2 })
  )
  .map(([pointers, profiles, extra]) => ({ ...extra, ...pointers, ...(profiles === undefined ? {} : { profiles }) }))

/** Sets `path` (keys and indexes) in a JSON value, creating nothing that is not there. */
const setAt = (value: unknown, path: ReadonlyArray<string | number>, to: unknown): unknown => {
  if (path.length === 0) return to
  if (typeof value !== "object" || value === null) return value
  const [head, ...rest] = path
  const copy = (Array.isArray(value) ? [...value] : { ...value }) as Record<string | number, unknown>
  copy[head!] = setAt(copy[head!], rest, to)
  return copy
}

/** A valid config with one value replaced (top-level or in a profile, known field or not, or a whole profile). */
const brokenConfig = fc
  .tuple(
    validConfig,
    fc.constantFrom(
      ["currentProfile"],
      ["previousProfile"],
      ["profiles"],
      ["profiles", 0],
      ["profiles", 1],
      ...Object.keys(PROFILE_FIELDS).map((k) => ["profiles", 0, k]),
      ["__proto__"],
      ["profiles", 0, "__proto__"],
      ["profiles", 0, "olaresId"]
    ),
    fc.oneof(wrongish, fc.constant(""))
  )
  .map(([cfg, path, to]) => setAt(cfg, path as Array<string | number>, to))

const configText = fc.oneof(
  validConfig.map((c) => JSON.stringify(c)),
  brokenConfig.map((c) => JSON.stringify(c)),
  // a literal "__proto__" key (JSON.stringify of an object cannot produce one)
  validConfig.map((c) => JSON.stringify(c).replace(/^\{/, "{\"__proto__\":{\"profiles\":5},")),
  validConfig.map((c) => JSON.stringify(c)).chain((t) => fc.nat({ max: t.length }).map((n) => t.slice(0, n))),
  anyJson.map((j) => JSON.stringify(j)),
  fc.constantFrom("", "  \n", "null", "[]", "{}", "{\"profiles\":null}", "{\"profiles\":{}}")
)

const RECORD_FIELDS = {
  olaresId: str,
  refreshToken: str,
  sessionId: str,
  grantedAt: int,
  invalidatedAt: int,
  managed: fc.boolean()
}

const validRecord = fc
  .tuple(
    fc.dictionary(unknownKey([...Object.keys(RECORD_FIELDS), "accessToken"]), anyJson, { maxKeys: 2 }),
    fc.record({ accessToken: str, ...RECORD_FIELDS }, { requiredKeys: ["accessToken"] })
  )
  .map(([extra, known]) => ({ ...extra, ...known }))

const recordText = fc.oneof(
  validRecord.map((r) => JSON.stringify(r)),
  fc
    .tuple(validRecord, fc.constantFrom("accessToken", ...Object.keys(RECORD_FIELDS)), wrongish)
    .map(([r, k, v]) => JSON.stringify({ ...r, [k]: v })),
  validRecord.map((r) => JSON.stringify(r).replace(/^\{/, "{\"__proto__\":{\"accessToken\":\"x\"},")),
  anyJson.map((j) => JSON.stringify(j)),
  fc.constantFrom("", "null", "[]", "{}", "{\"accessToken\":null}")
)

// ---------------------------------------------------------------------------------------------

describe("ConfigData.decodeConfigStrict", () => {
  it("PROFILE_FIELDS lists exactly the Schema's fields, each accepting exactly its kind", () => {
    expect(Object.keys(PROFILE_FIELDS).sort()).toEqual(Object.keys(Profile.fields).sort())
    const decodes = Schema.decodeUnknownEither(Profile)
    const probes = { string: "s", boolean: true, int: 1 } as const
    for (const [field, kind] of Object.entries(PROFILE_FIELDS)) {
      const accepted = Object.entries({ ...probes, float: 1.5, null: null })
        .filter(([, v]) => Either.isRight(decodes({ olaresId: "a@b.c", [field]: v })))
        .map(([k]) => k)
      expect(accepted, field).toEqual(field === "olaresId" ? ["string"] : [kind])
    }
    // olaresId is the only required field
    expect(Either.isRight(decodes({ olaresId: "a@b.c" }))).toBe(true)
    expect(Either.isLeft(decodes({}))).toBe(true)
  })

  it.prop(
    "accepts only what the Schema accepts, decoding to the same value and the same file",
    [configText],
    ([text]) => {
      const plain = decodeConfigStrict(text)
      if (plain === undefined) return
      const schema = parseConfig(text)
      expect(Either.isRight(schema)).toBe(true)
      if (Either.isRight(schema)) {
        expect(plain).toEqual(schema.right)
        expect(serializeConfig(plain)).toBe(serializeSchemaConfig(schema.right))
      }
    },
    { fastCheck: { numRuns: 2000 } }
  )

  it.prop("accepts every config the CLI or the Go CLI writes", [validConfig], ([cfg]) => {
    expect(decodeConfigStrict(JSON.stringify(cfg))).toBeDefined()
    expect(decodeConfigStrict(JSON.stringify(cfg, null, 2))).toBeDefined()
  }, { fastCheck: { numRuns: 500 } })

  it("declines each kind of broken file the Schema refuses", () => {
    for (
      const text of [
        "{",
        "[]",
        "null",
        "5",
        "{\"profiles\":\"x\"}",
        "{\"profiles\":[{}]}",
        "{\"profiles\":[{\"olaresId\":1}]}",
        "{\"currentProfile\":1}",
        "{\"profiles\":[{\"olaresId\":\"a\",\"whoamiRefreshedAt\":1.5}]}"
      ]
    ) {
      expect(decodeConfigStrict(text), text).toBeUndefined()
      expect(Either.isLeft(parseConfig(text)), text).toBe(true)
    }
  })
})

describe("TokenStatus.decodeRecordStrict", () => {
  it.prop(
    "accepts only records the Schema accepts, with the same token and invalidation stamp",
    [recordText],
    ([text]) => {
      const plain = decodeRecordStrict(text)
      if (plain === undefined) return
      const schema = parseStoredToken(text, "alice@olares.com")
      expect(Either.isRight(schema)).toBe(true)
      if (Either.isRight(schema)) {
        expect(plain.accessToken).toBe(Redacted.value(schema.right.accessToken))
        expect(plain.invalidatedAt).toBe(schema.right.invalidatedAt)
      }
    },
    { fastCheck: { numRuns: 2000 } }
  )

  it.prop("accepts every record the key store writes", [validRecord], ([r]) => {
    const token = Schema.decodeUnknownSync(StoredToken)(r)
    expect(decodeRecordStrict(serializeStoredToken({ ...token, olaresId: "alice@olares.com" }))).toBeDefined()
    expect(decodeRecordStrict(JSON.stringify(r))).toBeDefined()
  }, { fastCheck: { numRuns: 500 } })
})

describe("the field tables", () => {
  /** A non-empty value of each kind (what the writer never drops). */
  const sample = { string: "s", boolean: true, int: 7, kept: { nested: [1] }, secret: "t" } as const

  it("Profile's Schema has the table's modelled fields in the table's order; the key alone is required", () => {
    const modelled = Object.keys(PROFILE_TABLE).filter((f) => PROFILE_TABLE[f as keyof typeof PROFILE_TABLE] !== "kept")
    expect(Object.keys(Profile.fields)).toEqual(modelled)
    expect(Object.keys(PROFILE_FIELDS)).toEqual(modelled)
    expect(Object.entries(Profile.fields).filter(([, f]) => Schema.isSchema(f)).map(([k]) => k)).toEqual(["olaresId"])
  })

  it("config.json is written in the table's order, kept fields in their place, unknown fields after", () => {
    const fields = Object.entries(PROFILE_TABLE).map(([f, kind]) => [f, sample[kind]] as const)
    const profile = Object.fromEntries([["zeta", 1], ...fields.reverse()]) as unknown as Profile
    const written = JSON.parse(serializeConfig({ profiles: [profile] })).profiles[0]
    expect(Object.keys(written)).toEqual([...Object.keys(PROFILE_TABLE), "zeta"])
    expect(written).toEqual(profile)
  })

  it("kept fields are carried as any JSON by both decoders, to the same value", () => {
    const text = JSON.stringify({
      profiles: [{
        olaresId: "a@b.c",
        clusterContext: { workspaces: ["x"] },
        clusterContextRefreshedAt: "not a number"
      }]
    })
    const plain = decodeConfigStrict(text)
    expect(plain).toBeDefined()
    expect(parseConfig(text)).toEqual(Either.right(plain))
  })

  it("the token record's Schema and writer follow RECORD_TABLE's order", () => {
    expect(Object.keys(StoredToken.fields)).toEqual(Object.keys(RECORD_TABLE))
    const record = Object.fromEntries(Object.entries(RECORD_TABLE).reverse().map(([f, kind]) => [f, sample[kind]]))
    const token = Either.getOrThrow(parseStoredToken(JSON.stringify(record), "a@b.c"))
    const written = serializeStoredToken(token)
    expect(Object.keys(JSON.parse(written))).toEqual(Object.keys(RECORD_TABLE))
    expect(JSON.parse(written)).toEqual(record)
    expect(decodeRecordStrict(written)).toEqual({ accessToken: "t", invalidatedAt: 7 })
  })

  it("the -o json Schema's statuses are TOKEN_STATUSES", () => {
    expect(TokenStatusJson.literals).toEqual(TOKEN_STATUSES)
  })
})

describe("the entry bundle", () => {
  it("dist/bin.cjs's module graph holds no effect or @effect/* module, and koffi (native) stays a run-time require", async () => {
    const result = await esbuild.build({
      entryPoints: [resolve(ROOT, "src/bin.ts")],
      bundle: true,
      write: false,
      format: "cjs",
      platform: "node",
      metafile: true,
      external: ["@napi-rs/keyring", "koffi"],
      logLevel: "silent"
    })
    const inputs = Object.keys(result.metafile.inputs)
    expect(inputs.some((f) => f.endsWith("src/startup/quick.ts"))).toBe(true)
    expect(inputs.filter((f) => /node_modules\/(effect|@effect|koffi|@koromix)\//.test(f))).toEqual([])
    // the quick path's lock loads it lazily, from node_modules
    expect(readFileSync(resolve(ROOT, "dist/bin.cjs"), "utf8")).toContain("(\"koffi\")")
  })
})
