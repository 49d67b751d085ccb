import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The Wine suite (Windows code paths) runs only when asked: `npm run test:windows`, or .ci/run.
    exclude: process.env.OLARES_TEST_WINDOWS === "1" ? [] : ["test/windows-wine.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["test/support/global-setup.ts"]
  }
})
