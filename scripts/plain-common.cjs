// What the plain baselines of the benchmark share: where the files are, config.json, opening a
// record. Minimal hand-written Node, no framework; the same file formats as the CLI (and the Go CLI).
const { createDecipheriv } = require("node:crypto")
const { readFileSync } = require("node:fs")
const { homedir } = require("node:os")
const { join } = require("node:path")

const home = process.env.OLARES_CLI_HOME || join(homedir(), ".olares-cli")
const data = process.env.OLARES_CLI_DATA_DIR
  ? join(process.env.OLARES_CLI_DATA_DIR, "olares-cli")
  : join(homedir(), ".local/share/olares-cli")
const configFile = join(home, "config.json")
const recordFile = (id) => join(data, id.replace(/[^a-zA-Z0-9._-]/g, "_") + ".enc")

const readConfig = () => {
  try {
    return JSON.parse(readFileSync(configFile, "utf8"))
  } catch {
    return { profiles: [] }
  }
}

/** The decrypted record of `id` (throws when it does not open). */
const openRecord = (id) => {
  const key = readFileSync(join(data, "master.key"))
  const blob = readFileSync(recordFile(id))
  const d = createDecipheriv("aes-256-gcm", key, blob.subarray(0, 12))
  d.setAuthTag(blob.subarray(blob.length - 16))
  return JSON.parse(Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]).toString())
}

/** The current profile of `cfg`. */
const currentOf = (cfg) =>
  (cfg.profiles ?? []).find((p) => p.olaresId === cfg.currentProfile || p.name === cfg.currentProfile)

module.exports = { home, data, configFile, recordFile, readConfig, openRecord, currentOf }
