// The benchmark's baseline: a minimal hand-written Node script that reads the same config.json and
// token files and prints the same `profile list` table, with no framework at all.
// CommonJS, like dist/bin.cjs: Node starts a CommonJS script ~8 ms faster than an ES module, and the
// baseline should be the fastest plain script, not a flattering one.
const { createDecipheriv } = require("node:crypto")
const { readFileSync } = require("node:fs")
const { homedir } = require("node:os")
const { join } = require("node:path")

const home = process.env.OLARES_CLI_HOME || join(homedir(), ".olares-cli")
const data = process.env.OLARES_CLI_DATA_DIR
  ? join(process.env.OLARES_CLI_DATA_DIR, "olares-cli")
  : join(homedir(), ".local/share/olares-cli")
let cfg = {}
try {
  cfg = JSON.parse(readFileSync(join(home, "config.json"), "utf8"))
} catch {}
const profiles = cfg.profiles ?? []
let key
try {
  key = readFileSync(join(data, "master.key"))
} catch {}
const status = (id) => {
  let blob
  try {
    blob = readFileSync(join(data, id.replace(/[^a-zA-Z0-9._-]/g, "_") + ".enc"))
  } catch {
    return "never"
  }
  try {
    const d = createDecipheriv("aes-256-gcm", key, blob.subarray(0, 12))
    d.setAuthTag(blob.subarray(blob.length - 16))
    const rec = JSON.parse(Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]).toString())
    if (rec.invalidatedAt > 0) return "invalidated"
    const exp = JSON.parse(Buffer.from(rec.accessToken.split(".")[1], "base64url").toString()).exp
    return exp === undefined ? "logged-in" : Date.now() >= exp * 1000 ? "expired" : "logged-in"
  } catch {
    return "unknown"
  }
}
const current = cfg.currentProfile
const rows = [["  ", "NAME", "OLARES-ID", "STATUS", "VERSION"]]
for (const p of profiles) {
  const name = p.name || p.olaresId
  rows.push([
    name === current || p.olaresId === current ? "*" : " ",
    name,
    p.olaresId,
    status(p.olaresId),
    p.backendVersion || "-"
  ])
}
const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
console.log(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i] + 2))).join("")).join("\n"))
