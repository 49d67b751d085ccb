/** `profile doctor` without its command-line definition, so the fast tier can run it without @effect/cli. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { ProblemsFound } from "../../errors.js"
import { DoctorJson as DoctorJsonSchema, renderJson } from "../../schemas.js"
import { report } from "./diagnose.js"
import { gatherFacts } from "./facts.js"
import { renderDoctor } from "./render.js"

/** Gathers the facts, prints the report and fails with `ProblemsFound` when it shows an error. */
export const runDoctor = (opts: { readonly output: "table" | "json"; readonly offline: boolean }) =>
  Effect.gen(function*() {
    const doc = report(yield* gatherFacts(opts))
    yield* Console.log(opts.output === "json" ? yield* renderJson(DoctorJsonSchema, doc) : renderDoctor(doc))
    const errors = doc.problems.filter((p) => p.severity === "error").length
    if (errors > 0) return yield* Effect.fail(new ProblemsFound({ errors, warnings: doc.problems.length - errors }))
  })
