// Baseline of `api <path>` (GET): read config.json, open the current record, one GET with the
// token's three headers through node:http, the body to stdout.
const http = require("node:http")
const { currentOf, openRecord, readConfig } = require("./plain-common.cjs")

const p = currentOf(readConfig())
const token = openRecord(p.olaresId).accessToken
const url = new URL(process.argv[2], p.authUrlOverride)
http.get(url, {
  headers: { "x-authorization": token, cookie: `auth_token=${token}`, "x-unauth-error": "Non-Redirect" }
}, (res) => {
  if (res.statusCode !== 200) process.exitCode = 1
  res.pipe(process.stdout)
})
