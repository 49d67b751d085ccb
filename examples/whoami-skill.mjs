// An outside Effect program (an "olares skill") that rides the active olares-cli profile:
// one layer, one authenticated call; expired tokens are refreshed transparently and the
// rotated tokens land in the same store the CLI uses.
import * as Effect from "effect/Effect"
import { HttpAuth, OlaresCliLive } from "olares-cli"

const program = Effect.gen(function*() {
  const auth = yield* HttpAuth
  const { client, baseUrl, olaresId } = yield* auth.current
  const res = yield* client.get(`${baseUrl}/api/olares-info`)
  const body = yield* res.json
  return { olaresId, status: res.status, osVersion: body.data.osVersion }
})

program.pipe(
  Effect.provide(OlaresCliLive),
  Effect.match({
    onFailure: (e) => {
      process.stderr.write(`${e.message}\n`)
      process.exitCode = e.exitCode ?? 1
    },
    onSuccess: (r) => console.log(JSON.stringify(r))
  }),
  Effect.runPromise
)
