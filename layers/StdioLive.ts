/** The `Stdio` port over `process.stdin` / `process.stdout`. */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { Readable } from "node:stream"
import { StorageError } from "../src/errors.js"
import { Stdio } from "../src/services/Stdio.js"

/** The process's own streams. */
export const StdioLive: Layer.Layer<Stdio> = Layer.sync(Stdio, () =>
  Stdio.of({
    stdin: Stream.fromReadableStream(
      () => Readable.toWeb(process.stdin) as unknown as ReadableStream<Uint8Array>,
      (e) => new StorageError({ path: "<stdin>", detail: `read stdin: ${String(e)}`, hint: "pipe the body into stdin" })
    ),
    stdoutIsTerminal: process.stdout.isTTY === true,
    write: (chunk) =>
      Effect.async<void>((resume) => {
        process.stdout.write(chunk, () => resume(Effect.void))
      })
  }))
