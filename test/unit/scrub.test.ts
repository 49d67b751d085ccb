/**
 * The pure pieces behind issue 10's input/output guarantees: the scrubber (controls, secrets, JSON
 * summaries, caps, the streaming masker), the bounded JSON parser, header-safe tokens, `exp` edge
 * cases, URL-flag validation, alias uniqueness and the debug request line. Property tests where a
 * table could miss a case.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { requestLine } from "../../layers/HttpClientsLive.js"
import { ambiguousKey, loginConflict, nameConflict } from "../../src/domain/Aliases.js"
import { jsonDepth, MAX_JSON_DEPTH, parseJson } from "../../src/domain/Json.js"
import { decodeExpiry, expiryOfClaim } from "../../src/domain/Jwt.js"
import { authUrlOverrideProblem, localUrlPrefixProblem, profileUrlProblem } from "../../src/domain/ProfileUrls.js"
import { isValidRole, roleLabel } from "../../src/domain/Role.js"
import {
  cap,
  displayField,
  isCredentialHeader,
  isHeaderSafe,
  makeStreamMasker,
  maskSecrets,
  REDACTED,
  redactUrl,
  scrubText,
  secretsOfHeaders,
  stripControls,
  summariseBody
} from "../../src/domain/Scrub.js"
import { formatRemaining, rfc3339 } from "../../src/errors.js"

/** Anything a terminal would act on: C0 (LF too), DEL, C1, bidi and zero-width controls. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/

const HOSTILE = "\u001b]52;c;b3duZWQ=\u0007\u001b[2J\u009b31m\u202e\r\nX\u0085\u001bP+q\u001b\\\u007f\u2028"

describe("stripControls", () => {
  it("removes OSC 52, CSI 2J, 8-bit CSI, DCS, bidi overrides, DEL and every line break, leaving the text", () => {
    expect(stripControls(`a${HOSTILE}b`)).toBe("a X  b")
    expect(stripControls("1.12.6\u001b[31m-red\u001b[0m")).toBe("1.12.6-red")
  })

  it("keeps LF only when asked (our own multi-line messages)", () => {
    expect(stripControls("a\nb\r\nc", true)).toBe("a\nb \nc")
    expect(stripControls("a\nb")).toBe("a b")
  })

  it("never leaves a control character, whatever the input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => {
        expect(UNSAFE.test(stripControls(s))).toBe(false)
        expect(UNSAFE.test(stripControls(s, true).replace(/\n/g, ""))).toBe(false)
      }),
      { numRuns: 2000 }
    )
  })
})

describe("maskSecrets / scrubText", () => {
  const printable = fc.string({
    unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEF0123456789-_.~+/="),
    minLength: 6,
    maxLength: 40
  })

  it("a secret we sent never survives, even with a control character spliced into it or JSON-escaped", () => {
    fc.assert(
      fc.property(printable, fc.string(), fc.string(), fc.nat(), (secret, before, after, at) => {
        const i = 1 + (at % (secret.length - 1))
        const spliced = `${secret.slice(0, i)}\u001b[0m${secret.slice(i)}`
        for (
          const body of [
            `${before}${secret}${after}`,
            `${before}${spliced}${after}`,
            JSON.stringify({ x: `${before}${secret}` })
          ]
        ) {
          expect(scrubText(body, [secret], 10_000)).not.toContain(secret)
        }
      }),
      { numRuns: 1000 }
    )
  })

  it("masks anything shaped like a JWT even when no secret is known", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl"
    expect(maskSecrets(`token=${jwt};`)).toBe(`token=${REDACTED};`)
  })

  it("caps at 256 characters plus the reference's marker, never splitting a surrogate pair", () => {
    fc.assert(fc.property(fc.string({ maxLength: 2000 }), (s) => {
      expect(scrubText(s).length).toBeLessThanOrEqual(256 + "...(truncated)".length)
    }))
    expect(cap(`${"a".repeat(255)}😀tail`, 256, "~")).toBe(`${"a".repeat(255)}~`)
  })
})

describe("summariseBody", () => {
  it("a JSON body shows its status/code/message only, scrubbed; never data", () => {
    const body = JSON.stringify({
      status: "KO",
      code: 500,
      message: `boom ${HOSTILE} rt-secret-123456`,
      data: { refresh_token: "rt-secret-123456" }
    })
    const s = summariseBody(body, ["rt-secret-123456"])
    expect(JSON.parse(s)).toEqual({ status: "KO", code: 500, message: `boom X ${REDACTED}` })
    expect(s).not.toContain("data")
  })

  it("JSON without those fields, arrays and scalars are not shown at all; text is scrubbed and cut", () => {
    expect(summariseBody("{\"access_token\":\"abc\"}")).toMatch(
      /^\(a JSON body of 22 bytes without status or message, not shown\)$/
    )
    expect(summariseBody("[1,2]")).toBe("(a JSON array of 5 bytes, not shown)")
    expect(summariseBody(`<html>${"x".repeat(400)}</html>`)).toMatch(/\.\.\.\(truncated\)$/)
    expect(summariseBody("")).toBe("")
    // 5,000 levels: not parsed (so nothing overflows), shown as cut text
    expect(summariseBody("[".repeat(5000) + "]".repeat(5000))).toBe(`${"[".repeat(256)}...(truncated)`)
  })
})

describe("makeStreamMasker", () => {
  it("masks a secret split across any chunking exactly like masking the whole body", () => {
    const secret = "eyJ-session-token-value-42"
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "b", secret, "\n", "é"), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (parts, cuts) => {
          const body = Buffer.from(parts.join(""), "utf8")
          const at = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b)
          const m = makeStreamMasker([secret])
          const out: Array<Uint8Array> = []
          let from = 0
          for (const c of [...at, body.length]) {
            out.push(m.push(body.subarray(from, c)))
            from = c
          }
          out.push(m.flush())
          expect(Buffer.concat(out).toString("utf8")).toBe(parts.join("").split(secret).join(REDACTED))
        }
      ),
      { numRuns: 1000 }
    )
  })

  it("passes a body without our secrets byte for byte (binary included)", () => {
    const bytes = Buffer.from([0, 255, 27, 155, 10, 13])
    const m = makeStreamMasker(["some-secret"])
    expect(Buffer.concat([m.push(bytes), m.flush()])).toEqual(bytes)
  })
})

describe("headers and URLs", () => {
  it("credential-like headers by name, case-insensitively; X-Unauth-Error is not one", () => {
    for (
      const h of [
        "Authorization",
        "proxy-authorization",
        "X-Authorization",
        "X-Auth-Token",
        "Cookie",
        "Set-Cookie",
        "X-Api-Key",
        "X-Session-Id",
        "X-Client-Secret",
        "X-Password",
        "X-Refresh-Token"
      ]
    ) {
      expect(isCredentialHeader(h), h).toBe(true)
    }
    for (const h of ["Accept", "Content-Type", "X-Request-Id", "X-Unauth-Error", "Keep-Alive", "Host"]) {
      expect(isCredentialHeader(h), h).toBe(false)
    }
  })

  it("a request's secrets: every credential value and its parts (cookie values, bearer token)", () => {
    expect(
      secretsOfHeaders({
        "cookie": "a=1; auth_token=jwt-value-1",
        "authorization": "Bearer tok-value-2",
        "accept": "x"
      })
    )
      .toEqual(expect.arrayContaining(["jwt-value-1", "tok-value-2", "a=1; auth_token=jwt-value-1"]))
  })

  it("the debug request line redacts them, URL credentials and credential-like query values too", () => {
    const req = HttpClientRequest.get("http://user:pw@127.0.0.1/x?token=abc&page=2").pipe(
      HttpClientRequest.setHeaders({ "Proxy-Authorization": "Basic zzz", "X-Trace": "t1" })
    )
    const line = requestLine(req)
    expect(line).not.toContain("zzz")
    expect(line).not.toContain("pw@")
    expect(line).not.toContain("token=abc")
    expect(line).toContain("page=2")
    expect(line).toContain("x-trace: t1")
  })

  it("redactUrl shows https://***@host", () => {
    expect(redactUrl("https://user:pass@host.example/a")).toBe("https://***@host.example/a")
    expect(redactUrl("https://a@b@host/")).toBe("https://***@host/")
    expect(redactUrl("https://host/")).toBe("https://host/")
  })

  it("header-safe tokens are visible ASCII only", () => {
    expect(isHeaderSafe("eyJ.abc-_~+/=")).toBe(true)
    for (const bad of ["", "a b", "a\tb", "a\r\nb", "é", "a\u0000", "a\u007f"]) {
      expect(isHeaderSafe(bad), JSON.stringify(bad)).toBe(false)
    }
  })
})

describe("displayField", () => {
  it("a hand-edited value: no controls, no JWT, at most max characters plus the ellipsis", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 500 }), fc.integer({ min: 1, max: 100 }), (s, max) => {
      const d = displayField(s, max)
      expect(UNSAFE.test(d)).toBe(false)
      expect(d.length).toBeLessThanOrEqual(max + 1)
    }))
  })
})

describe("bounded JSON", () => {
  it("agrees with JSON.parse within the limit", () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 8 }), (v) => {
      const text = JSON.stringify(v)
      expect(parseJson(text)).toEqual({ ok: true, value: JSON.parse(text) })
    }))
  })

  it("refuses nesting past the limit, brackets inside strings do not count, and never quotes the text", () => {
    const deep = "[".repeat(5000) + "]".repeat(5000)
    expect(parseJson(deep)).toEqual({
      ok: false,
      reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
      tooDeep: true
    })
    expect(jsonDepth(JSON.stringify({ a: "[[[[[[[[[[{{{{{{{{" }))).toBe(1)
    expect(jsonDepth("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH))).toBe(MAX_JSON_DEPTH)
    const bad = parseJson("garbage \u001b[2J secret-text")
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.reason).not.toContain("secret-text")
  })
})

describe("exp edge cases", () => {
  it("are named for what they are", () => {
    expect(expiryOfClaim(-5)).toEqual({ _tag: "Exp", expMs: -5000 })
    expect(expiryOfClaim(1.7e308)).toMatchObject({
      _tag: "Unparseable",
      reason: expect.stringContaining("out of range")
    })
    expect(expiryOfClaim(4102444800.5)).toMatchObject({
      _tag: "Unparseable",
      reason: expect.stringContaining("not a whole number")
    })
    expect(expiryOfClaim("soon")).toMatchObject({
      _tag: "Unparseable",
      reason: "exp claim is not a number (it is a string)"
    })
    expect(expiryOfClaim([1])).toMatchObject({ reason: "exp claim is not a number (it is an array)" })
    expect(expiryOfClaim(0)).toEqual({ _tag: "NoExp" })
    expect(expiryOfClaim(undefined)).toEqual({ _tag: "NoExp" })
    expect(decodeExpiry("")).toMatchObject({ _tag: "Unparseable", reason: "token is empty" })
  })

  it("every number renders as a duration or an unparseable reason, never Infinity/NaN", () => {
    fc.assert(
      fc.property(fc.double(), (exp) => {
        const e = expiryOfClaim(exp)
        if (e._tag === "Exp") expect(formatRemaining(e.expMs - 1_700_000_000_000)).toMatch(/^\d+(s|m\d+s|h\d+m)$/)
      }),
      { numRuns: 2000 }
    )
    expect(formatRemaining(Infinity)).not.toMatch(/Infinity|NaN/)
    expect(rfc3339(1e20)).toContain("not a representable date")
  })
})

describe("URL flags", () => {
  it("prefixes are DNS labels each ending with '.'", () => {
    for (const ok of ["", "dev.", "a.b.", "x-1.y."]) expect(localUrlPrefixProblem(ok), ok).toBeUndefined()
    for (const bad of ["x@evil.example/", "dev", "dev./", ".", "dev..", "-dev.", "de v.", "a_b.", "é."]) {
      expect(localUrlPrefixProblem(bad), bad).toBeDefined()
    }
    expect(localUrlPrefixProblem("dev")).toContain("dev.")
  })

  it("overrides are absolute http(s) URLs without userinfo, query or fragment (a path and a trailing slash are fine)", () => {
    for (const ok of ["http://127.0.0.1:8787", "https://auth.example.com/", "https://h/base/path"]) {
      expect(authUrlOverrideProblem(ok), ok).toBeUndefined()
    }
    const table: ReadonlyArray<readonly [string, RegExp]> = [
      ["http://x@127.0.0.1", /credentials/],
      ["https://u:p@h/", /credentials/],
      ["ftp://h/", /http/],
      ["h.example", /http/],
      ["http://h/?q", /query/],
      ["http://h/#f", /fragment/],
      ["http://h\\@evil/", /backslash/],
      [" http://h/", /white space/],
      ["http://", /not a valid URL/]
    ]
    for (const [bad, why] of table) expect(authUrlOverrideProblem(bad), bad).toMatch(why)
  })

  it("a stored profile is refused only when the value could move the host or is no URL at all", () => {
    expect(profileUrlProblem({ localUrlPrefix: "x@evil.example/" })?.field).toBe("localUrlPrefix")
    expect(profileUrlProblem({ localUrlPrefix: "dev" })).toBeUndefined() // an older CLI's verbatim prefix keeps working
    expect(profileUrlProblem({ authUrlOverride: "https://u:p@h" })).toBeUndefined() // shown redacted by doctor
    expect(profileUrlProblem({ authUrlOverride: "not a url" })?.field).toBe("authUrlOverride")
  })
})

describe("aliases and roles", () => {
  const bob = { olaresId: "bob@olares.com" }
  it("a name may equal no other profile's name or olaresId, bare names included", () => {
    expect(nameConflict([bob], { olaresId: "alice@olares.com", name: "bob@olares.com" })).toEqual({
      name: "bob@olares.com",
      other: "bob@olares.com",
      as: "olaresId"
    })
    expect(nameConflict([bob], { olaresId: "alice@olares.com", name: "bob" })).toMatchObject({ as: "olaresId" })
    expect(nameConflict([{ olaresId: "a@olares.com", name: "work" }], { olaresId: "c@olares.com", name: "work" }))
      .toMatchObject({ as: "alias" })
    expect(nameConflict([{ olaresId: "a@olares.com", name: "bob@olares.com" }], bob)).toMatchObject({
      as: "alias",
      other: "a@olares.com"
    })
    expect(
      nameConflict([bob, { olaresId: "alice@olares.com", name: "al" }], { olaresId: "alice@olares.com", name: "alice" })
    ).toBeUndefined()
  })

  it("a login re-judges only what it changes: a new --name fully, otherwise the pointer it writes", () => {
    const old = [bob, { olaresId: "alice@olares.com", name: "bob@olares.com" }]
    // alice re-logs in under the alias an older CLI let her take: allowed (her pointer resolves to her)
    expect(loginConflict(old, old[1]!, false)).toBeUndefined()
    // bob's pointer "bob@olares.com" would resolve to alice: refused
    expect(loginConflict(old, bob, false)).toMatchObject({ other: "alice@olares.com", as: "alias" })
    // a new --name is checked against every name and olaresId
    expect(loginConflict([bob], { olaresId: "alice@olares.com", name: "bob" }, true)).toMatchObject({ as: "olaresId" })
  })

  it("a key that is one profile's alias and another's olaresId is ambiguous", () => {
    expect(ambiguousKey([bob, { olaresId: "alice@olares.com", name: "bob@olares.com" }], "bob@olares.com"))
      .toEqual({ byAlias: "alice@olares.com", byOlaresId: "bob@olares.com" })
    expect(ambiguousKey([bob], "bob@olares.com")).toBeUndefined()
  })

  it("roles: the known set or a plain word; anything else is never labelled as it is", () => {
    for (const r of ["owner", "admin", "normal", "auditor", "ops_2"]) expect(isValidRole(r), r).toBe(true)
    for (const r of ["", "Owner", "owner\u001b[2J", "x".repeat(40), "owner role", "é"]) {
      expect(isValidRole(r), r).toBe(false)
    }
    expect(roleLabel("owner\u001b]52;c;AA\u0007")).toBe("(invalid)")
  })
})
