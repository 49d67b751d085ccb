/**
 * The one HTTP-reply vocabulary of every Olares call (login, refresh, whoami's reads, `api`): a body
 * read with a cap (never buffered whole), the words for a network failure, and the one
 * `HttpClientError -> TransportError` conversion, so every command names the endpoint the same way
 * and every TLS failure carries the same hint (`--insecure-skip-verify` for a self-signed server).
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { TransportError } from "../errors.js"

/** A body read with a cap: the first `max` bytes as text, and whether there was more. */
export interface CappedBody {
  readonly text: string
  readonly tooLarge: boolean
}

/** Reads at most `max` bytes of the body (and the chunk that crosses it); the rest is never read. */
export const readBody = (
  res: HttpClientResponse.HttpClientResponse,
  max: number
): Effect.Effect<CappedBody, HttpClientError.ResponseError> =>
  res.stream.pipe(
    Stream.runFoldWhile(
      { chunks: [] as Array<Uint8Array>, size: 0 },
      (s) => s.size <= max,
      (s, chunk) => {
        s.chunks.push(chunk)
        return { chunks: s.chunks, size: s.size + chunk.length }
      }
    ),
    Effect.map(({ chunks, size }) => ({
      text: new TextDecoder("utf-8").decode(Buffer.concat(chunks).subarray(0, max)),
      tooLarge: size > max
    }))
  )

/** The body as text, reading at most `max` bytes; `undefined` when it is larger (never buffered whole). */
export const readCapped = (
  res: HttpClientResponse.HttpClientResponse,
  max: number
): Effect.Effect<string | undefined, HttpClientError.ResponseError> =>
  Effect.map(readBody(res, max), (b) => (b.tooLarge ? undefined : b.text))

/** A Node network error's code and message (Node reports a refused dual-stack connect as an AggregateError with an empty message). */
export const describeCause = (cause: unknown): { readonly code: string; readonly text: string } => {
  const e = cause as { code?: unknown; message?: unknown; errors?: ReadonlyArray<unknown> } | undefined
  const code = typeof e?.code === "string" ? e.code : ""
  const text = typeof e?.message === "string" ? e.message : String(cause)
  if (text === "" && Array.isArray(e?.errors) && e.errors.length > 0) {
    const inner = describeCause(e.errors[0])
    return { code: code === "" ? inner.code : code, text: inner.text }
  }
  return { code, text: text === "" ? code : text }
}

const TLS_CERT_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID"
])

/** Turns a transport failure into words a user can act on (TLS problems point at --insecure-skip-verify). */
export const transportDetail = (origin: string, cause: unknown): string => {
  const { code, text } = describeCause(cause)
  if (TLS_CERT_CODES.has(code) || /certificate/i.test(text)) {
    const withCode = code !== "" && !text.includes(code) ? `${text} (${code})` : text
    return `TLS certificate verification failed for ${origin}: ${withCode}; ` +
      "if this server uses a self-signed certificate you trust, --insecure-skip-verify is available (dev/internal use)"
  }
  if (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS") || code === "EPROTO" || /\bSSL\b|\bTLS\b/.test(text)) {
    // OpenSSL's text is `... error:0A00010B:SSL routines:ssl3_get_record:wrong version number:<file>:<line>:`
    const reason = /SSL routines:[^:]*:([^:]+)/.exec(text)?.[1] ?? text.trim()
    const hint = /wrong version number/i.test(reason) ? " (is it a plain HTTP server? check the URL scheme)" : ""
    return `TLS handshake with ${origin} failed: ${reason}${hint}`
  }
  switch (code) {
    case "ECONNREFUSED":
      return `cannot connect to ${origin}: connection refused (${text})`
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot resolve the host of ${origin} (${text})`
    case "ECONNRESET":
    case "EPIPE":
      return `the connection to ${origin} was reset (${text})`
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `cannot reach ${origin} (${text})`
  }
  return `request to ${origin} failed: ${text}`
}

/** The origin of a URL (scheme, host, port), or the text itself when it does not parse. */
export const originOf = (url: string): string => {
  try {
    return new URL(url).origin
  } catch {
    return url
  }
}

/**
 * The one `HttpClientError -> TransportError`: `endpoint` names the call (`POST /api/refresh`), `url`
 * the request (its origin is what the words name). A body that breaks off mid-read is a
 * `ResponseError`; everything before the reply (refused, DNS, TLS, reset) goes through `transportDetail`.
 */
export const toTransportError =
  (endpoint: string, url: string) => (e: HttpClientError.HttpClientError): TransportError => {
    const origin = originOf(url)
    return new TransportError({
      endpoint,
      detail: e._tag === "RequestError" && e.reason === "InvalidUrl"
        ? `invalid URL ${JSON.stringify(url)}`
        : e._tag === "ResponseError"
        ? `the connection to ${origin} broke while reading the response: ${describeCause(e.cause).text}`
        : transportDetail(origin, e.cause)
    })
  }
