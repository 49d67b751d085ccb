/** src/http/HttpReply.ts: capped reads, the words for a network failure, the one TransportError conversion. */
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { describeCause, readBody, readCapped, toTransportError, transportDetail } from "../../src/http/HttpReply.js"

const URL_ = "https://127.0.0.1:8443/api/echo/x?q=1"
const request = HttpClientRequest.get(URL_)
const nodeError = (code: string, message: string) => Object.assign(new Error(message), { code })

/** A response whose body arrives in `chunks`. */
const replyOf = (chunks: ReadonlyArray<string>) =>
  HttpClientResponse.fromWeb(
    request,
    new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          for (const s of chunks) c.enqueue(new TextEncoder().encode(s))
          c.close()
        }
      })
    )
  )

describe("capped reads", () => {
  it.effect("a body within the cap is read whole", () =>
    Effect.gen(function*() {
      expect(yield* readCapped(replyOf(["{\"a\":", "1}"]), 16)).toBe("{\"a\":1}")
      expect(yield* readBody(replyOf(["é", "€"]), 16)).toEqual({ text: "é€", tooLarge: false })
    }))

  it.effect("a larger body is flagged (readCapped: undefined); readBody keeps only the first `max` bytes", () =>
    Effect.gen(function*() {
      expect(yield* readCapped(replyOf(["0123456789", "abcdef"]), 12)).toBeUndefined()
      expect(yield* readBody(replyOf(["0123456789", "abcdef"]), 12)).toEqual({ text: "0123456789ab", tooLarge: true })
      // exactly the cap is not too large
      expect(yield* readCapped(replyOf(["0123456789ab"]), 12)).toBe("0123456789ab")
    }))
})

describe("describeCause", () => {
  it("code and message; an AggregateError with an empty message takes its first error's words", () => {
    expect(describeCause(nodeError("ECONNRESET", "socket hang up"))).toEqual({
      code: "ECONNRESET",
      text: "socket hang up"
    })
    const agg = Object.assign(new AggregateError([nodeError("ECONNREFUSED", "connect ECONNREFUSED ::1:1")], ""), {
      code: ""
    })
    expect(describeCause(agg)).toEqual({ code: "ECONNREFUSED", text: "connect ECONNREFUSED ::1:1" })
    expect(describeCause("plain")).toEqual({ code: "", text: "plain" })
  })
})

describe("transportDetail", () => {
  const origin = "https://127.0.0.1:8443"
  it("an untrusted certificate names it and points at --insecure-skip-verify", () => {
    const d = transportDetail(origin, nodeError("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"))
    expect(d).toBe(
      "TLS certificate verification failed for https://127.0.0.1:8443: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT); " +
        "if this server uses a self-signed certificate you trust, --insecure-skip-verify is available (dev/internal use)"
    )
  })

  it("https to a plain HTTP server says to check the scheme", () => {
    const d = transportDetail(
      origin,
      nodeError("EPROTO", "write EPROTO 0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:x.c:1:")
    )
    expect(d).toBe(
      "TLS handshake with https://127.0.0.1:8443 failed: wrong version number (is it a plain HTTP server? check the URL scheme)"
    )
  })

  it("refused, DNS, reset, unreachable and the rest keep the system's words in brackets", () => {
    expect(transportDetail(origin, nodeError("ECONNREFUSED", "connect ECONNREFUSED"))).toBe(
      `cannot connect to ${origin}: connection refused (connect ECONNREFUSED)`
    )
    expect(transportDetail(origin, nodeError("ENOTFOUND", "getaddrinfo ENOTFOUND x"))).toBe(
      `cannot resolve the host of ${origin} (getaddrinfo ENOTFOUND x)`
    )
    expect(transportDetail(origin, nodeError("EPIPE", "write EPIPE"))).toBe(
      `the connection to ${origin} was reset (write EPIPE)`
    )
    expect(transportDetail(origin, nodeError("EHOSTUNREACH", "no route"))).toBe(`cannot reach ${origin} (no route)`)
    expect(transportDetail(origin, nodeError("EWHATEVER", "odd"))).toBe(`request to ${origin} failed: odd`)
  })
})

describe("toTransportError: the one conversion", () => {
  const convert = toTransportError("GET /api/echo/x", URL_)

  it("a transport failure names the endpoint and the origin (never the query), with the TLS hint when it is TLS", () => {
    const e = convert(
      new HttpClientError.RequestError({
        request,
        reason: "Transport",
        cause: nodeError("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate")
      })
    )
    expect(e._tag).toBe("TransportError")
    expect(e.endpoint).toBe("GET /api/echo/x")
    expect(e.detail).toContain("TLS certificate verification failed for https://127.0.0.1:8443:")
    expect(e.detail).toContain("--insecure-skip-verify")
    expect(e.detail).not.toContain("q=1")
  })

  it("an invalid URL and a body that breaks off are said as such", () => {
    expect(convert(new HttpClientError.RequestError({ request, reason: "InvalidUrl" })).detail).toBe(
      `invalid URL ${JSON.stringify(URL_)}`
    )
    const broke = convert(
      new HttpClientError.ResponseError({
        request,
        response: replyOf([]),
        reason: "Decode",
        cause: nodeError("ECONNRESET", "aborted")
      })
    )
    expect(broke.detail).toBe("the connection to https://127.0.0.1:8443 broke while reading the response: aborted")
  })
})
