// Baseline of `profile whoami` (from the cache): read config.json, open the current record, check
// its expiry, print the same three lines.
const { currentOf, openRecord, readConfig } = require("./plain-common.cjs")

const p = currentOf(readConfig())
const rec = openRecord(p.olaresId)
const exp = JSON.parse(Buffer.from(rec.accessToken.split(".")[1], "base64url").toString()).exp
if (exp * 1000 < Date.now()) throw new Error("expired")
const ago = Math.floor(Date.now() / 1000) - (p.whoamiRefreshedAt ?? 0)
console.log(`${p.olaresId} — ${p.ownerRole}`)
console.log(`from cache, refreshed ${Math.floor(ago / 86400)}d ago`)
console.log(`profile: ${p.name || p.olaresId}   version: ${p.backendVersion || "-"}`)
