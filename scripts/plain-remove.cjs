// Baseline of `profile remove <id> --yes`: delete the record, rewrite config.json without the
// profile (temp file + rename), print one line.
const { renameSync, rmSync, writeFileSync } = require("node:fs")
const { configFile, readConfig, recordFile } = require("./plain-common.cjs")

const id = process.argv[2]
const cfg = readConfig()
cfg.profiles = cfg.profiles.filter((p) => p.olaresId !== id)
if (cfg.currentProfile === id) delete cfg.currentProfile
rmSync(recordFile(id), { force: true })
writeFileSync(`${configFile}.tmp`, JSON.stringify(cfg, null, 2), { mode: 0o600 })
renameSync(`${configFile}.tmp`, configFile)
console.log(`removed profile ${id}`)
