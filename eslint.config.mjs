// eslint 9 flat config, modelled on the Effect monorepo's (v3 branch): eslint + typescript-eslint
// recommended, formatting by @effect/eslint-plugin's dprint rule (the same dprint settings as Effect;
// dprint also sorts import declarations, packages before relative paths, and the names inside each
// one), destructured keys sorted like Effect. `npm run lint` checks,
// `npm run lint:fix` rewrites. Not type-aware on purpose: it runs inside `npm test` and must stay fast.
import * as effectEslint from "@effect/eslint-plugin"
import js from "@eslint/js"
import sortDestructureKeys from "eslint-plugin-sort-destructure-keys"
import globals from "globals"
import { readFileSync } from "node:fs"
import tseslint from "typescript-eslint"

/** The .gitignore patterns as eslint globs (a pattern without a slash matches at any depth). */
const gitignored = readFileSync(new URL(".gitignore", import.meta.url), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith("!"))
  .map((line) => {
    const dir = line.endsWith("/")
    const path = line.replace(/\/$/, "")
    const anchored = path.includes("/")
    return `${anchored ? "" : "**/"}${path.replace(/^\//, "")}${dir ? "/**" : ""}`
  })

export default tseslint.config(
  {
    // What git ignores is build output (dist/, and the dist.tmp-* a build writes while npm test runs),
    // bench results or scratch: never lint it (a multi-megabyte bundle takes dprint minutes).
    ignores: gitignored
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  ...effectEslint.configs.dprint,
  {
    plugins: {
      "sort-destructure-keys": sortDestructureKeys
    },
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.node }
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // Formatting: exactly the Effect monorepo's dprint settings.
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }],
      // House style is `import * as X from "effect/X"` (tree-shaking, one name per module).
      "@effect/no-import-from-barrel-package": ["error", {
        packageNames: ["effect", "@effect/platform", "@effect/platform-node", "@effect/cli"]
      }],

      // Imports: dprint sorts them (packages, then relative paths; names inside braces too), as in
      // Effect, which keeps simple-import-sort off; one statement per module, `import type` apart.
      "no-duplicate-imports": ["error", { allowSeparateTypeImports: true }],
      "sort-destructure-keys/sort-destructure-keys": "error",

      // As in Effect's config.
      "object-shorthand": "error",
      "@typescript-eslint/array-type": ["error", { default: "generic", readonly: "generic" }],
      // `typeof import("...")` stays allowed: the lazy tiers (bin.ts, commands/shared.ts) type their
      // dynamic imports that way without loading the module.
      "@typescript-eslint/consistent-type-imports": ["error", { disallowTypeAnnotations: false }],
      "@typescript-eslint/no-unused-vars": ["error", {
        argsIgnorePattern: "^_",
        varsIgnorePattern: "^_",
        caughtErrorsIgnorePattern: "^_"
      }],
      // Effect.gen bodies without a yield are fine; Effect's config turns this off too.
      "require-yield": "off",
      // `switch` fall-through is checked by tsc (noFallthroughCasesInSwitch).
      "no-fallthrough": "off",
      // Effect idioms: `Data.TaggedError("Busy")<{}>` (FileLockLive) and `declare namespace` merged with
      // a class or an interface, both off in Effect's config too.
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/no-namespace": "off",
      // Off as in Effect's config; the two uses (errors.ts isCliFailure, a test server reply) are narrowed.
      "@typescript-eslint/no-explicit-any": "off",
      // Scrubbing and terminal styling match control characters on purpose (Scrub, ProfileUrls, style).
      "no-control-regex": "off",
      // `try { ... } catch {}` is how the plain scripts say "absent is fine".
      "no-empty": ["error", { allowEmptyCatch: true }]
      // Not taken from Effect's config: its ban on `push(...xs)` (a stack-overflow guard for huge
      // arrays) would need 15 hand edits of small bounded pushes in doctor/help/shared/bench.
    }
  },
  {
    // CommonJS scripts (the bench baseline).
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { ...globals.node } },
    rules: { "@typescript-eslint/no-require-imports": "off" }
  }
)
