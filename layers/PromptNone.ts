/** A `Prompt` for programs and tests that never talk to a person: every question fails typed, stdin is never read. */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { NotATerminal, StorageError } from "../src/errors.js"
import { Prompt, type PromptRefusal } from "../src/services/Prompt.js"

const refuse = (refusal: PromptRefusal) =>
  Effect.fail(new NotATerminal({ message: refusal.noInputMessage ?? refusal.message, hint: refusal.hint }))

/** Never prompts, never reads stdin. */
export const PromptNone: Layer.Layer<Prompt> = Layer.succeed(
  Prompt,
  Prompt.of({
    interactive: false,
    noInput: true,
    secret: (_, refusal) => refuse(refusal),
    line: (_, refusal) => refuse(refusal),
    confirm: (_, refusal) => refuse(refusal),
    stdinLine: Effect.fail(
      new StorageError({
        path: "<stdin>",
        detail: "this program never reads stdin",
        hint: "pass the secret another way"
      })
    )
  })
)
