/** The `TokenRecords` port over the file store's data directory (`<safe(account)>.enc` files, named by src/domain/Paths.ts). */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { readdir } from "node:fs/promises"
import { basename, join } from "node:path"
import { recordPath } from "../src/domain/Paths.js"
import { AppPaths } from "../src/services/AppPaths.js"
import { TokenRecords } from "../src/services/TokenRecords.js"

/** Record files in `dataDir` that none of `accounts` names (dot files are temporaries, never records). */
export const unclaimedRecords = (dataDir: string, accounts: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const known = new Set(accounts.filter((a) => a !== "").map((a) => recordPath(dataDir, a)))
    const names = yield* Effect.tryPromise(() => readdir(dataDir)).pipe(Effect.orElseSucceed((): Array<string> => []))
    return names.filter((n) => n.endsWith(".enc") && !n.startsWith(".")).map((n) => join(dataDir, n))
      .filter((p) => !known.has(p)).sort()
      // the file name is the account sanitised, so the stem reads the record back
      .map((path) => ({ path, account: basename(path, ".enc") }))
  })

/** The records of `AppPaths.dataDir`. */
export const TokenRecordsLive: Layer.Layer<TokenRecords, never, AppPaths> = Layer.effect(
  TokenRecords,
  Effect.map(
    AppPaths,
    (paths) => TokenRecords.of({ unclaimed: (accounts) => unclaimedRecords(paths.dataDir, accounts) })
  )
)
