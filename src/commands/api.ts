/** `olares-cli api`: an authenticated raw request for the current profile, like `gh api`. */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { makeStreamMasker, secretsOfHeaders, stripControls, summariseBody } from "../domain/Scrub.js"
import { scopeUrl } from "../domain/TokenScope.js"
import { HttpStatusError, StorageError, UsageError } from "../errors.js"
import type { CommandHelp } from "../help.js"
import { toTransportError } from "../http/HttpReply.js"
import { readCapped } from "../olaresInfo.js"
import { type AuthedClient, HttpAuth } from "../services/HttpAuth.js"
import { Stdio } from "../services/Stdio.js"
import { noInput } from "./options.js"

const method = Options.text("method").pipe(
  Options.withPseudoName("method"),
  Options.withAlias("X"),
  Options.withDefault("GET"),
  Options.withDescription("HTTP method")
)
const header = Options.text("header").pipe(
  Options.withPseudoName("header"),
  Options.withAlias("H"),
  Options.repeated,
  Options.withDescription("extra request header 'Key: Value'")
)
const input = Options.text("input").pipe(
  Options.withPseudoName("file"),
  Options.withDescription(
    "request body from FILE (streamed; refreshed first if the token expires within 60 s) or - for stdin"
  ),
  Options.optional
)
const target = Args.text({ name: "path-or-url" }).pipe(
  Args.withDescription(
    "/api/... (resolved against the profile's desktop host) or an absolute URL under the profile's own hosts"
  )
)

/**
 * Resolves the request URL by the one rule the library uses too (src/domain/TokenScope.ts): WHATWG
 * resolution against the profile's base, then the origin must be one of the profile's own hosts.
 */
export const resolveTarget = (authed: Pick<AuthedClient, "olaresId" | "profile">, raw: string) =>
  Either.match(scopeUrl(authed.profile, authed.olaresId, raw), { onLeft: Effect.fail, onRight: Effect.succeed })

const parseHeader = (h: string) => {
  const i = h.indexOf(":")
  return i <= 0
    ? Effect.fail(new UsageError({ message: `bad header ${JSON.stringify(h)}`, hint: "use -H 'Key: Value'" }))
    : Effect.succeed([h.slice(0, i).trim(), h.slice(i + 1).trim()] as const)
}

/**
 * stdin as the request body, streamed as it arrives (chunked; never buffered whole). A stream can be
 * sent only once, so the transport refreshes a token about to expire before sending it.
 */
const stdinBody = (req: HttpClientRequest.HttpClientRequest, contentType: string) =>
  Effect.map(Stdio, (stdio) => HttpClientRequest.bodyStream(req, stdio.stdin, { contentType }))

// Node's own text for a failed file operation, as the message always quoted it.
const causeText = (e: PlatformError.PlatformError, show: (cause: Error) => string) =>
  e._tag === "SystemError" && e.cause instanceof Error ? show(e.cause) : e.message

/** The caller's `-H Content-Type` (any case), which the body must carry: the body's type would replace it. */
const contentTypeOf = (headers: ReadonlyArray<readonly [string, string]>): string | undefined =>
  [...headers].reverse().find(([k]) => k.toLowerCase() === "content-type")?.[1]

const withBody = (
  req: HttpClientRequest.HttpClientRequest,
  input: Option.Option<string>,
  contentType: string = "application/octet-stream"
) =>
  Option.match(input, {
    onNone: () => Effect.succeed(req),
    onSome: (file) => {
      if (file === "-") return stdinBody(req, contentType)
      return Effect.flatMap(FileSystem.FileSystem, (fs) =>
        fs.stat(file).pipe(
          Effect.mapError((e) =>
            new StorageError({
              path: file,
              detail: causeText(e, (c) => c.message),
              hint: "check the --input file path"
            })
          ),
          Effect.map((info) => {
            const stream = fs.stream(file).pipe(
              Stream.mapError((e) =>
                new StorageError({ path: file, detail: causeText(e, String), hint: "check the --input file" })
              )
            )
            return HttpClientRequest.bodyStream(req, stream, { contentLength: Number(info.size), contentType })
          })
        ))
    }
  })

/** How much of an error body is read to summarise it. */
const ERROR_BODY_BYTES = 64 * 1024

const run = (opts: {
  readonly method: string
  readonly header: ReadonlyArray<string>
  readonly input: Option.Option<string>
  readonly target: string
}) =>
  Effect.gen(function*() {
    const authed = yield* Effect.flatMap(HttpAuth, (a) => a.current)
    const url = yield* resolveTarget(authed, opts.target)
    const headers = yield* Effect.forEach(opts.header, parseHeader)
    let req = HttpClientRequest.make(opts.method.toUpperCase() as "GET")(url)
    for (const [k, v] of headers) req = HttpClientRequest.setHeader(req, k, v)
    req = yield* withBody(req, opts.input, contentTypeOf(headers))
    const endpoint = `${req.method} ${new URL(url).pathname}`
    const res = yield* authed.client.execute(req).pipe(
      Effect.catchTags({
        RequestError: (e: HttpClientError.RequestError) => Effect.fail(toTransportError(endpoint, url)(e)),
        ResponseError: (e: HttpClientError.ResponseError) => Effect.fail(toTransportError(endpoint, url)(e))
      })
    )
    if (res.status < 200 || res.status >= 300) {
      // An error body is server text for the terminal: the token and every credential header this
      // request carried are masked, JSON is summarised, controls go (src/domain/Scrub.ts).
      const text = yield* readCapped(res, ERROR_BODY_BYTES).pipe(Effect.orElseSucceed(() => ""))
      const body = text === undefined
        ? `(a body larger than ${ERROR_BODY_BYTES / 1024} KiB, not shown)`
        : summariseBody(text, secretsOfHeaders(res.request.headers))
      return yield* Effect.fail(new HttpStatusError({ endpoint, status: res.status, body }))
    }
    // A 2xx body is the data asked for and passes byte for byte, except the credentials this very
    // request carried, should the server reflect them (masked even across chunk boundaries). On a
    // terminal, escape sequences and controls are removed too: a body must not drive the terminal.
    const masker = makeStreamMasker(secretsOfHeaders(res.request.headers))
    const stdio = yield* Stdio
    const decoder = new TextDecoder("utf-8")
    const emit = (bytes: Uint8Array, last: boolean) =>
      stdio.write(
        stdio.stdoutIsTerminal ? Buffer.from(stripControls(decoder.decode(bytes, { stream: !last }), true)) : bytes
      )
    yield* res.stream.pipe(
      Stream.runForEach((chunk) => emit(masker.push(chunk), false)),
      Effect.zipRight(Effect.suspend(() => emit(masker.flush(), true))),
      Effect.catchAll((e) => Effect.fail(toTransportError(endpoint, url)(e)))
    )
  })

/** `api [-X METHOD] [-H header]... [--input FILE|-] <path|url>`, before the layers are provided (src/commands/wiring.ts). */
export const api = Command.make("api", { method, header, input, target, noInput }, run).pipe(
  Command.withDescription(
    "Make an authenticated request as the current profile and print the response body (like `gh api`). " +
      "401/403/459 refresh the token once and retry once. A path resolves against the profile's desktop " +
      "host; an absolute URL must be on the profile's own hosts."
  )
)

/** Help beyond the parser's: summary and examples. */
export const apiHelp: CommandHelp = {
  summary: "Make an authenticated request as the current profile (like gh api)",
  examples: [
    { command: "olares-cli api /api/olares-info" },
    {
      comment: "a JSON body from a file",
      command: "olares-cli api -X POST /api/echo -H 'Content-Type: application/json' --input body.json"
    },
    {
      comment: "another of the profile's hosts",
      command: "olares-cli api https://files.alice.olares.com/api/resources/"
    }
  ]
}
