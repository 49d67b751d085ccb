// Baseline of `profile doctor --offline`: stat the home, config.json, the store and the master key,
// open every record, print one line per check.
const { statSync } = require("node:fs")
const { join } = require("node:path")
const { configFile, data, home, openRecord, readConfig, recordFile } = require("./plain-common.cjs")

const mode = (p) => (statSync(p).mode & 0o777).toString(8)
console.log(`config home ${home} ${mode(home)}`)
console.log(`config.json ${mode(configFile)}`)
console.log(`token store ${data} ${mode(data)}, master key ${mode(join(data, "master.key"))}`)
for (const p of readConfig().profiles) {
  const rec = openRecord(p.olaresId)
  const exp = JSON.parse(Buffer.from(rec.accessToken.split(".")[1], "base64url").toString()).exp
  console.log(`${p.olaresId}: record ${mode(recordFile(p.olaresId))}, ${exp * 1000 > Date.now() ? "valid" : "expired"}`)
}
