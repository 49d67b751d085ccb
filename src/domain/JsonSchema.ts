/** `Schema.parseJson` through the bounded parser of `Json.ts`, for the schemas that decode files and replies. */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { parseJson } from "./Json.js"

/** A JSON text decoded with the nesting limit; a failure names the problem, never the text. */
export const BoundedJson: Schema.Schema<unknown, string> = Schema.transformOrFail(Schema.String, Schema.Unknown, {
  strict: true,
  decode: (text, _, ast) => {
    const r = parseJson(text)
    return r.ok ? ParseResult.succeed(r.value) : ParseResult.fail(new ParseResult.Type(ast, "(not shown)", r.reason))
  },
  encode: (value) => ParseResult.succeed(JSON.stringify(value))
})

/** Like `Schema.parseJson(schema)`, through the bounded parser. */
export const parseJsonBounded = <A, I, R>(schema: Schema.Schema<A, I, R>): Schema.Schema<A, string, R> =>
  Schema.compose(BoundedJson, schema, { strict: false })
