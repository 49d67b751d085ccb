/**
 * A Windows command over this CLI's own registry store (layers/KeyStoreRegistry.ts), bundled by
 * test/support/wine.ts for node.exe under Wine, so the tests can write and read records the CLI
 * itself has no verb for (a 200 KiB record, a record seeded for the Go program to read).
 *
 *   win-store-tool set <jsonFile>           store the record (the file holds its compact JSON)
 *   win-store-tool get <account> <outFile>  write the record's compact JSON; exit 3 when absent
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { readFileSync, writeFileSync } from "node:fs"
import { loadWinVault, makeRegistryKeyStore } from "../../layers/KeyStoreRegistry.js"
import { parseStoredToken, serializeStoredToken } from "../../src/domain/StoredToken.js"

const store = makeRegistryKeyStore({ vault: loadWinVault })
const [cmd, a, b] = process.argv.slice(2)

const program = Effect.gen(function*() {
  if (cmd === "set" && a !== undefined) {
    const parsed = parseStoredToken(readFileSync(a, "utf8"), "")
    if (Either.isLeft(parsed)) return yield* Effect.dieMessage("not a token record")
    yield* store.set(parsed.right)
    return 0
  }
  if (cmd === "get" && a !== undefined && b !== undefined) {
    const got = yield* store.get(a)
    if (Option.isNone(got)) return 3
    writeFileSync(b, serializeStoredToken(got.value))
    return 0
  }
  return yield* Effect.dieMessage("usage: win-store-tool set <jsonFile> | get <account> <outFile>")
})

Effect.runPromise(program.pipe(Effect.catchAll((e) => Effect.sync(() => (process.stderr.write(`${e.message}\n`), 1)))))
  .then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`)
      process.exit(1)
    }
  )
