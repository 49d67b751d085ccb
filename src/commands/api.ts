/** `olares-cli api`: an authenticated raw request for the current profile, like `gh api`. */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { createReadStream, statSync } from "node:fs"
import { Readable } from "node:stream"
import { terminusName } from "../domain/OlaresId.js"
import { makeStreamMasker, secretsOfHeaders, stripControls, summariseBody } from "../domain/Scrub.js"
import { HttpStatusError, StorageError, TransportError, UsageError } from "../errors.js"
import { readCapped } from "../olaresInfo.js"
import { HttpAuth, type AuthedClient } from "../services/HttpAuth.js"
import { noInput, withNetwork } from "./shared.js"

const method = Options.text("method").pipe(
  Options.withAlias("X"),
  Options.withDefault("GET"),
  Options.withDescription("HTTP method")
)
const header = Options.text("header").pipe(
  Options.withAlias("H"),
  Options.repeated,
  Options.withDescription("extra request header 'Key: Value' (repeatable)")
)
const input = Options.text("input").pipe(
  Options.withDescription("request body from FILE (streamed; refreshed first if the token expires within 60 s) or - for stdin"),
  Options.optional
)
const target = Args.text({ name: "path-or-url" }).pipe(
  Args.withDescription("/api/... (resolved against the profile's desktop host) or an absolute URL under the profile's own hosts")
)

/**
 * Resolves the request URL. Absolute URLs must stay on the profile's own hosts (its terminus name or
 * the auth override's origin) so the token never leaves for a foreign host.
 */
export const resolveTarget = (authed: Pick<AuthedClient, "baseUrl" | "olaresId" | "profile">, raw: string) => {
  if (raw.startsWith("/")) return Effect.succeed(new URL(raw, authed.baseUrl).toString())
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return Effect.fail(new UsageError({ message: `not a path or URL: ${JSON.stringify(raw)}`, hint: "pass /api/... or an https:// URL" }))
  }
  const terminus = terminusName(authed.olaresId).toLowerCase()
  const host = url.hostname.toLowerCase()
  const override = authed.profile.authUrlOverride
  const overrideOrigin = override !== undefined && override !== "" ? new URL(override).origin : undefined
  if (host === terminus || host.endsWith(`.${terminus}`) || url.origin === overrideOrigin || url.origin === new URL(authed.baseUrl).origin) {
    return Effect.succeed(url.toString())
  }
  return Effect.fail(
    new UsageError({
      message: `refusing to send the ${authed.olaresId} token to ${url.host}: it is not one of the profile's hosts (*.${terminus})`,
      hint: "use a path (/api/...) or a URL under the profile's terminus name"
    })
  )
}

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
const stdinBody = (req: HttpClientRequest.HttpClientRequest) =>
  HttpClientRequest.bodyStream(
    req,
    Stream.fromReadableStream(
      () => Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>,
      (e) => new StorageError({ path: "<stdin>", detail: `read stdin: ${String(e)}`, hint: "pipe the body into stdin" })
    ),
    { contentType: "application/octet-stream" }
  )

const withBody = (req: HttpClientRequest.HttpClientRequest, input: Option.Option<string>) =>
  Option.match(input, {
    onNone: () => Effect.succeed(req),
    onSome: (file) => {
      if (file === "-") return Effect.succeed(stdinBody(req))
      return Effect.try({
        try: () => {
          const size = statSync(file).size
          const stream = Stream.fromReadableStream(
            () => Readable.toWeb(createReadStream(file)) as unknown as ReadableStream<Uint8Array>,
            (e) => new StorageError({ path: file, detail: String(e), hint: "check the --input file" })
          )
          return HttpClientRequest.bodyStream(req, stream, { contentLength: size, contentType: "application/octet-stream" })
        },
        catch: (e) => new StorageError({ path: file, detail: e instanceof Error ? e.message : String(e), hint: "check the --input file path" })
      })
    }
  })

/** How much of an error body is read to summarise it. */
const ERROR_BODY_BYTES = 64 * 1024

const write = (out: NodeJS.WriteStream, chunk: Uint8Array) =>
  Effect.async<void>((resume) => {
    out.write(chunk, () => resume(Effect.void))
  })

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
    req = yield* withBody(req, opts.input)
    const endpoint = `${req.method} ${new URL(url).pathname}`
    const res = yield* authed.client.execute(req).pipe(
      Effect.catchTags({
        RequestError: (e: HttpClientError.RequestError) =>
          Effect.fail(new TransportError({ endpoint, detail: e.cause instanceof Error ? e.cause.message : e.message })),
        ResponseError: (e: HttpClientError.ResponseError) => Effect.fail(new TransportError({ endpoint, detail: e.message }))
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
    const tty = process.stdout.isTTY === true
    const decoder = new TextDecoder("utf-8")
    const emit = (bytes: Uint8Array, last: boolean) =>
      tty ? write(process.stdout, Buffer.from(stripControls(decoder.decode(bytes, { stream: !last }), true))) : write(process.stdout, bytes)
    yield* res.stream.pipe(
      Stream.runForEach((chunk) => emit(masker.push(chunk), false)),
      Effect.zipRight(Effect.suspend(() => emit(masker.flush(), true))),
      Effect.catchAll((e) => Effect.fail(new TransportError({ endpoint, detail: e.message })))
    )
  })

/** The command. */
export const api = Command.make("api", { method, header, input, target, noInput }, (opts) => withNetwork(run(opts))).pipe(
  Command.withDescription(
    "Make an authenticated request as the current profile and print the response body (like `gh api`). " +
      "401/403/459 refresh the token once and retry once.\n\n" +
      "Examples:\n  olares-cli api /api/olares-info\n  olares-cli api -X POST /api/echo -H 'Content-Type: application/json' --input body.json\n" +
      "  olares-cli api https://files.alice.olares.com/api/resources/"
  )
)
