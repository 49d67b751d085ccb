/**
 * An olares "skill": a separate Effect program that rides an olares-cli profile. It reads the
 * Olares version as the current profile (or the profile named by its first argument, without
 * changing the current one), prints one JSON line on stdout, and turns every possible failure into
 * a message on stderr and the CLI's exit code. Expired tokens are refreshed transparently and the
 * rotated tokens land in the same store the CLI uses.
 *
 *   node skill.js            # as the current profile
 *   node skill.js bob        # as profile "bob" (a name or an olaresId)
 *
 * CI type-checks this file against the packed package (NodeNext and Bundler, strict) and runs it,
 * plain and bundled with esbuild (ESM and CJS): test/e2e/packed.test.ts.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import { HttpAuth, OlaresCliLive, StderrLogger } from "olares-cli"

/** The part of `/api/olares-info` this skill reads. */
const OlaresInfo = Schema.Struct({ data: Schema.Struct({ osVersion: Schema.String }) })

/** The skill itself: typed in what it needs (`HttpAuth`) and in everything it can fail with. */
export const olaresVersion = (profile: string | undefined) =>
  Effect.gen(function*() {
    const auth = yield* HttpAuth
    const { client, olaresId } = yield* (profile === undefined ? auth.current : auth.forProfile(profile))
    // A path resolves against the profile's own base URL; the token never goes anywhere else.
    const res = yield* HttpClient.filterStatusOk(client).get("/api/olares-info")
    const info = yield* HttpClientResponse.schemaBodyJson(OlaresInfo)(res)
    return { olaresId, status: res.status, osVersion: info.data.osVersion }
  })

/** One line on stderr and the exit code the CLI would use for the same failure. */
const fail = (e: { readonly message: string; readonly exitCode?: number }) =>
  Effect.as(Console.error(`skill: ${e.message}`), e.exitCode ?? 1)

/** Every failure handled by tag: the compiler proves none is left (the error channel is `never`). */
export const main = (profile: string | undefined): Effect.Effect<number, never, HttpAuth> =>
  olaresVersion(profile).pipe(
    Effect.flatMap((result) => Effect.as(Console.log(JSON.stringify(result)), 0)),
    Effect.catchTags({
      // resolving the profile and its stored token
      NoProfile: fail,
      NotLoggedIn: fail,
      ProfileNotFound: fail,
      InvalidOlaresId: fail,
      StorageError: fail,
      KeychainError: fail,
      // the refresh (another process may hold the lock; the grant may be revoked)
      TokenInvalidated: fail,
      ManagedNotSecondFactor: fail,
      LockTimeout: fail,
      TransportError: fail,
      TimeoutError: fail,
      HttpStatusError: fail,
      ResponseDecodeError: fail,
      // the authenticated request
      AccessTokenRejected: fail,
      PermissionDenied: fail,
      ForeignUrl: fail,
      // the platform's HTTP and decoding errors
      RequestError: fail,
      ResponseError: fail,
      ParseError: fail
    })
  )

main(process.argv[2]).pipe(
  Effect.provide(OlaresCliLive),
  // The library logs warnings as Effect log entries; this program wants them on stderr like the CLI.
  Effect.provide(StderrLogger),
  NodeRuntime.runMain({
    disablePrettyLogger: true,
    disableErrorReporting: true,
    teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? Number(exit.value) : 1)
  })
)
