import { defineConfig } from "vitest/config"

import { classifyFlatTests } from "./scripts/classify-tests.mjs"

// Two projects: `unit` (no build, no processes: `npm run test:unit`, the inner loop) and `e2e`
// (spawns dist/, tsx workers, Go, Wine). Tests live in test/unit and test/e2e; a test still in the
// flat test/ folder is sorted by scripts/classify-tests.mjs, so both layouts run the same suites.
const flat = classifyFlatTests()
// The Wine suite (Windows code paths) runs only when asked: `npm run test:windows`, or .ci/run.
const exclude = process.env.OLARES_TEST_WINDOWS === "1" ? [] : ["test/**/windows-wine.test.ts"]
// Shared by both projects. The global setup (leak scan, Go build dir) stays at the root: vitest runs
// the root's once for the whole run, and its environment reaches every project's workers; a copy
// per project would give each its own leak directory and the scan would miss the other's outputs.
const common = {
  exclude,
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: "forks"
} as const

export default defineConfig({
  test: {
    globalSetup: ["test/support/global-setup.ts"],
    projects: [
      { test: { ...common, name: "unit", include: ["test/unit/**/*.test.ts", ...flat.unit] } },
      { test: { ...common, name: "e2e", include: ["test/e2e/**/*.test.ts", ...flat.e2e] } }
    ]
  }
})
