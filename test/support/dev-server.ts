/**
 * `npm run dev-server`: the loopback Olares test server on 127.0.0.1:$PORT (default 8787) with
 * `alice` (no 2FA) and `bob` (TOTP), for trying the CLI by hand and for the demo. Ctrl-C stops it.
 */
import { ALICE, BOB, startServer } from "./server.js"

const port = Number(process.env.PORT ?? "8787")
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`)
  process.exit(2)
}

const server = await startServer({ port, users: [ALICE, BOB] })
const url = server.url

console.log(`Olares test server listening on ${url}

users:
  alice@olares.com  password ${ALICE.password}  (no 2FA)
  bob@olares.com    password ${BOB.password}  (TOTP secret ${BOB.totpSecret}, role admin)
                    current code: curl -s ${url}/__admin/totp/bob

point the CLI at it:
  printf '%s\\n' '${ALICE.password}' | olares-cli profile login --olares-id alice@olares.com \\
      --auth-url-override ${url} --password-stdin
  printf '%s\\n' '${BOB.password}' | olares-cli profile login --olares-id bob@olares.com \\
      --auth-url-override ${url} --password-stdin \\
      --totp "$(curl -s ${url}/__admin/totp/bob | sed 's/.*"code":"\\([0-9]*\\)".*/\\1/')"

admin API (JSON, under ${url}):
  GET  /__admin/stats     hits per endpoint and active faults
  GET  /__admin/totp/bob  bob's current TOTP code
  POST /__admin/faults    {"/api/refresh": {"status": 500, "times": 1}}   (null clears a path;
                          "kind": garbage|html|empty|nodata|status-error|huge|reset; "delayMs": n is slow)
  POST /__admin/reset     clear faults, counters and the request log
  POST /__admin/config    {"accessTtlSeconds": 5, "rotateRefreshTokens": false, "osVersion": "1.12.6"}
  POST /__admin/grants    {"username": "alice", "ttlSeconds": -60}   (seed a stale grant)
  POST /__admin/revoke    {"username": "alice"}   (kill alice's refresh tokens)

the desktop endpoints (/api/backend/v1/user-info, /api/olares-info, and any /api/... for
\`olares-cli api\`) are served here too: a profile with --auth-url-override sends them to its origin.

Ctrl-C to stop.`)

let stopping = false
const stop = (signal: string) => {
  if (stopping) process.exit(1)
  stopping = true
  console.log(`\n${signal}: stopping`)
  server.close().then(() => process.exit(0), () => process.exit(1))
}
process.on("SIGINT", () => stop("SIGINT"))
process.on("SIGTERM", () => stop("SIGTERM"))
