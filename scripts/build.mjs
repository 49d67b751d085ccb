// Builds dist/ with esbuild: the CLI as a code-split ESM bundle (commands are loaded lazily by
// dynamic import, so `profile list` never parses the HTTP stack), and the library entry with its
// dependencies left external. Runs from `npm ci` via `prepare`, so a clean clone gets dist/bin.js.
import * as esbuild from "esbuild"
import { chmodSync, rmSync } from "node:fs"

const banner = {
  // proper-lockfile and friends are CommonJS and call require() for node builtins.
  js: "import { createRequire as __olaresCreateRequire } from \"node:module\";const require = __olaresCreateRequire(import.meta.url);"
}

rmSync("dist", { recursive: true, force: true })

await esbuild.build({
  entryPoints: { bin: "src/bin.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  legalComments: "none",
  chunkNames: "chunks/[name]-[hash]",
  external: ["@napi-rs/keyring"],
  banner,
  logLevel: "warning"
})

await esbuild.build({
  entryPoints: { index: "src/index.ts" },
  outdir: "dist",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  logLevel: "warning"
})

chmodSync("dist/bin.js", 0o755)
