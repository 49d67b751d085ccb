// Builds dist/ with esbuild, from `npm ci` (via `prepare`) so a clean clone gets a runnable CLI:
// - dist/bin.cjs: the entry (CommonJS starts faster) with the route and the quick tier bundled in;
//   it must load no framework, so the build fails if effect or @effect/* end up in it;
// - native modules (koffi, the FFI behind the kernel file locks; @napi-rs/keyring) stay external in
//   every bundle: required at run time from node_modules, where their prebuilt binaries are;
// - dist/fast.cjs + dist/fast.cache (the fast tier: `profile list` / `use` / `remove --yes` / `doctor --offline`) and
//   dist/cli.cjs + dist/cli.cache (the full CLI): single scripts, loaded the same way, through
//   vm.Script with a V8 code cache made here, on the installing Node, by warm-up runs of the
//   commonest commands; dynamic imports become lazily evaluated modules (the HTTP stack);
// - the library (`olares-cli` and `olares-cli/testing`), dependencies left external so a consumer
//   has one copy of Effect: dist/index.js + dist/testing.js (ESM, sharing dist/lib/ chunks),
//   dist/index.cjs + dist/testing.cjs (CommonJS), and their declarations under dist/types/esm and
//   dist/types/cjs (the same .d.ts files; the cjs copy sits under a `"type": "commonjs"` marker so
//   TypeScript reads them as what `require` returns).
import * as esbuild from "esbuild"
import { spawnSync } from "node:child_process"
import { createCipheriv, randomBytes } from "node:crypto"
import { chmodSync, cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

// Build into a fresh directory and swap it in at the end, so a concurrent run of the CLI (or of
// the tests) never sees a half-written or missing dist/.
const OUT = `dist.tmp-${process.pid}`
rmSync(OUT, { recursive: true, force: true })

/** What every CLI bundle shares: minified, for the oldest supported Node, in the staging dir. */
const bundled = {
  outdir: OUT,
  bundle: true,
  platform: "node",
  target: "node20",
  minify: true,
  legalComments: "none",
  logLevel: "warning"
}
/** A single CommonJS script (`.cjs`, whatever the package's module type). */
const script = { ...bundled, format: "cjs", outExtension: { ".js": ".cjs" } }

/** Native modules: loaded from node_modules at run time, never bundled. */
const NATIVE = ["@napi-rs/keyring", "koffi"]

const entry = await esbuild.build({ ...script, entryPoints: { bin: "src/bin.ts" }, metafile: true, external: NATIVE })
const heavy = Object.keys(entry.metafile.inputs).filter((f) => /node_modules\/(effect|@effect)\//.test(f))
if (heavy.length > 0) throw new Error(`dist/bin.cjs must stay framework-free, but bundles:\n  ${heavy.join("\n  ")}`)

await esbuild.build({
  ...script,
  entryPoints: { fast: "src/startup/fast.ts", cli: "src/main.ts" },
  // vm.Script cannot serve import() without a flag: lower it to lazily evaluated modules.
  supported: { "dynamic-import": false },
  external: NATIVE
})

/** The library entries: unminified, every package external (peers, jose, native modules). */
const library = { bundle: true, platform: "node", target: "node20", packages: "external", logLevel: "warning" }
const libraryEntries = { index: "src/index.ts", testing: "src/testing.ts" }

await esbuild.build({
  ...library,
  entryPoints: libraryEntries,
  outdir: OUT,
  format: "esm",
  splitting: true,
  chunkNames: "lib/[name]-[hash]"
})

// CommonJS cannot share chunks; both entries key every service by a string (Context.Tag) and every
// error by its `_tag`, so mixing them still works.
await esbuild.build({
  ...library,
  entryPoints: libraryEntries,
  outdir: OUT,
  format: "cjs",
  outExtension: { ".js": ".cjs" }
})

// Declarations: emitted by tsc from the same sources (the bundles carry no types).
const tsc = spawnSync(process.execPath, [
  "node_modules/typescript/bin/tsc",
  "-p",
  "tsconfig.build.json",
  "--declarationDir",
  `${OUT}/types/esm`
], {
  stdio: "inherit"
})
if (tsc.status !== 0) throw new Error(`tsc (declarations) failed with status ${tsc.status}`)
cpSync(`${OUT}/types/esm`, `${OUT}/types/cjs`, { recursive: true })
writeFileSync(`${OUT}/types/cjs/package.json`, "{\n  \"type\": \"commonjs\"\n}\n")

chmodSync(`${OUT}/bin.cjs`, 0o755)

const old = `dist.old-${process.pid}`
try {
  renameSync("dist", old)
} catch {
  // no previous build
}
renameSync(OUT, "dist")
rmSync(old, { recursive: true, force: true })

// The code caches, made in place: V8 keeps the script's file name in them, and stack traces should
// name dist/, not the staging dir. Until they exist the Effect tiers simply compile from
// source. Warm-up runs over a throwaway home holding one profile with an encrypted token and a
// cached role (no network): each run starts from its bundle's previous cache and writes it back with
// what it compiled on top, so the caches cover the fast tier, the full CLI's parsing, help, the
// layers, config parsing, decryption and JWT decoding.
const root = mkdtempSync(join(tmpdir(), "olares-cache-"))
try {
  const home = join(root, "config")
  const data = join(root, "data")
  mkdirSync(home, { recursive: true })
  mkdirSync(join(data, "olares-cli"), { recursive: true, mode: 0o700 })
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url")
  const jwt = `${b64({ alg: "none" })}.${b64({ exp: 4102444800 })}.sig`
  const key = randomBytes(32)
  const iv = randomBytes(12)
  const c = createCipheriv("aes-256-gcm", key, iv)
  const ct = Buffer.concat([c.update(JSON.stringify({ olaresId: "cache@olares.com", accessToken: jwt })), c.final()])
  writeFileSync(join(data, "olares-cli", "master.key"), key, { mode: 0o600 })
  writeFileSync(join(data, "olares-cli", "cache_olares.com.enc"), Buffer.concat([iv, ct, c.getAuthTag()]), {
    mode: 0o600
  })
  const profile = { olaresId: "cache@olares.com", ownerRole: "owner", authUrlOverride: "http://127.0.0.1:9" }
  writeFileSync(
    join(home, "config.json"),
    JSON.stringify({ currentProfile: "cache@olares.com", profiles: [profile] }),
    { mode: 0o600 }
  )
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: root,
    OLARES_CLI_HOME: home,
    OLARES_CLI_DATA_DIR: data,
    OLARES_CLI_WRITE_CODE_CACHE: "1",
    OLARES_CLI_QUICK: "0",
    NO_COLOR: "1"
  }
  // `doctor --offline` and `remove --yes` run on the fast tier, `whoami` on the quick one: OLARES_CLI_FAST=0
  // warms the full CLI's whoami and doctor too
  const fullCli = { OLARES_CLI_FAST: "0" }
  const warmUps = [
    [["profile", "list"]],
    [["profile", "whoami"], fullCli],
    [["profile", "doctor", "--offline"]],
    [["profile", "doctor", "--offline"], fullCli],
    [["profile", "login", "--help"]],
    [["profile", "remove", "--yes", "cache@olares.com"]]
  ]
  for (const [args, extra] of warmUps) {
    const r = spawnSync(process.execPath, ["dist/bin.cjs", ...args], { env: { ...env, ...extra }, encoding: "utf8" })
    if (r.status !== 0) {
      console.warn(`warning: code cache warm-up \`${args.join(" ")}\` exited ${r.status}: ${r.stderr}`)
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true })
}
