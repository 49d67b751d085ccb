/** Prompts on the real terminal (raw mode for secrets), and piped stdin for `--password-stdin`. */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { envFlag } from "../src/env.js"
import { NotATerminal, StorageError } from "../src/errors.js"
import { Prompt, type PromptRefusal } from "../src/services/Prompt.js"


/** Reads one line from a TTY; with `echo` off the characters are not shown. Resolves `null` on Ctrl-C. */
const readTtyLine = (prompt: string, echo: boolean) =>
  Effect.async<string | null>((resume) => {
    const stdin = process.stdin
    const out = process.stderr
    // Echo off before the prompt shows, never after: keys typed the moment it appears must not echo.
    const wasRaw = stdin.isRaw
    stdin.setRawMode(true)
    out.write(prompt)
    stdin.resume()
    stdin.setEncoding("utf8")
    let buf = ""
    const finish = (value: string | null) => {
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
  readTtyLine(prompt, echo).pipe(Effect.flatMap((v) => (v === null ? Effect.interrupt : Effect.succeed(v))))

/** Reads piped stdin up to the first `\n`, then stops reading. */
const readStdinLine = Effect.async<string, StorageError>((resume) => {
  const stdin = process.stdin
  const chunks: Array<Buffer> = []
  const done = (err?: Error) => {
    stdin.off("data", onData)
    stdin.off("end", onEnd)
    stdin.off("error", onError)
    stdin.pause()
    if (err !== undefined) {
      return resume(Effect.fail(new StorageError({ path: "<stdin>", detail: `read stdin: ${err.message}`, hint: "pipe the value into stdin" })))
    }
    const text = Buffer.concat(chunks).toString("utf8")
    const nl = text.indexOf("\n")
    resume(Effect.succeed((nl < 0 ? text : text.slice(0, nl)).replace(/[\r\n]+$/, "")))
  }
  const onData = (c: Buffer) => {
    chunks.push(c)
    if (c.includes(10)) done()
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
