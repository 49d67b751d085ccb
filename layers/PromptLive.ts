/** Prompts on the real terminal (raw mode for secrets), and piped stdin for `--password-stdin`. */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { envFlag } from "../src/env.js"
import { InputTooLong, NotATerminal, StorageError } from "../src/errors.js"
import { Prompt, type PromptRefusal } from "../src/services/Prompt.js"

/** The longest secret line read from stdin: no password or token is anywhere near it. */
export const MAX_SECRET_LINE_BYTES = 64 * 1024

const TOO_LONG = Symbol("too long")

/** Reads one line from a TTY; with `echo` off the characters are not shown. Resolves `null` on Ctrl-C, `TOO_LONG` past 64 KiB. */
const readTtyLine = (prompt: string, echo: boolean) =>
  Effect.async<string | null | typeof TOO_LONG>((resume) => {
    const stdin = process.stdin
    const out = process.stderr
    // Echo off before the prompt shows, never after: keys typed the moment it appears must not echo.
    const wasRaw = stdin.isRaw
    stdin.setRawMode(true)
    out.write(prompt)
    stdin.resume()
    stdin.setEncoding("utf8")
    let buf = ""
    const finish = (value: string | null | typeof TOO_LONG) => {
      stdin.off("data", onData)
      stdin.setRawMode(wasRaw)
      stdin.pause()
      out.write("\n")
      resume(Effect.succeed(value))
    }
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return finish(buf)
        if (ch === "\u0003") return finish(null) // Ctrl-C
        if (ch === "\u0004") {
          if (buf === "") return finish("")
          continue
        }
        if (ch === "\u007f" || ch === "\b") {
          if (buf.length > 0) {
            buf = buf.slice(0, -1)
            if (echo) out.write("\b \b")
          }
          continue
        }
        if (ch < " ") continue
        if (buf.length >= MAX_SECRET_LINE_BYTES) return finish(TOO_LONG)
        buf += ch
        if (echo) out.write(ch)
      }
    }
    stdin.on("data", onData)
    return Effect.sync(() => {
      stdin.off("data", onData)
      stdin.setRawMode(wasRaw)
      stdin.pause()
    })
  })

const ask = (prompt: string, echo: boolean) =>
  readTtyLine(prompt, echo).pipe(Effect.flatMap((v) =>
    v === null
      ? Effect.interrupt
      : v === TOO_LONG
      ? Effect.fail(new InputTooLong({ what: "typed line", limitBytes: MAX_SECRET_LINE_BYTES }))
      : Effect.succeed(v)
  ))

/** Reads piped stdin up to the first `\n`, then stops reading; a line over 64 KiB stops the read there (`InputTooLong`). */
const readStdinLine = Effect.async<string, StorageError | InputTooLong>((resume) => {
  const stdin = process.stdin
  const chunks: Array<Buffer> = []
  let size = 0
  const done = (err?: Error) => {
    stdin.off("data", onData)
    stdin.off("end", onEnd)
    stdin.off("error", onError)
    stdin.pause()
    if (err !== undefined) {
      return resume(
        Effect.fail(
          new StorageError({ path: "<stdin>", detail: `read stdin: ${err.message}`, hint: "pipe the value into stdin" })
        )
      )
    }
    const bytes = Buffer.concat(chunks)
    const nl = bytes.indexOf(10)
    if ((nl < 0 ? bytes.length : nl) > MAX_SECRET_LINE_BYTES) {
      // nothing more is read: /dev/zero or a wrong file must not be consumed to the end
      stdin.destroy()
      return resume(Effect.fail(new InputTooLong({ what: "first line of stdin", limitBytes: MAX_SECRET_LINE_BYTES })))
    }
    const text = (nl < 0 ? bytes : bytes.subarray(0, nl)).toString("utf8")
    resume(Effect.succeed(text.replace(/[\r\n]+$/, "")))
  }
  const onData = (c: Buffer) => {
    chunks.push(c)
    size += c.length
    if (c.includes(10) || size > MAX_SECRET_LINE_BYTES) done()
  }
  const onEnd = () => done()
  const onError = (e: Error) => done(e)
  stdin.on("data", onData)
  stdin.on("end", onEnd)
  stdin.on("error", onError)
  stdin.resume()
})

/** The live prompt. `noInput` comes from `--no-input` or `OLARES_CLI_NO_INPUT`. */
export const makePromptLive = (noInput: boolean) =>
  Layer.sync(Prompt, () => {
    const disabled = noInput || envFlag(process.env.OLARES_CLI_NO_INPUT)
    const interactive = !disabled && process.stdin.isTTY === true && process.stderr.isTTY === true
    const guard = (refusal: PromptRefusal) =>
      interactive ? Effect.void : Effect.fail(
        new NotATerminal({
          message: disabled && refusal.noInputMessage !== undefined ? refusal.noInputMessage : refusal.message,
          hint: refusal.hint
        })
      )
    return Prompt.of({
      interactive,
      noInput: disabled,
      secret: (prompt, refusal) => Effect.zipRight(guard(refusal), Effect.map(ask(prompt, false), Redacted.make)),
      line: (prompt, refusal) => Effect.zipRight(guard(refusal), ask(prompt, true)),
      confirm: (prompt, refusal) =>
        Effect.zipRight(guard(refusal), Effect.map(ask(`${prompt} [y/N]: `, true), (a) => /^y(es)?$/i.test(a.trim()))),
      stdinLine: Effect.map(readStdinLine, Redacted.make)
    })
  })
