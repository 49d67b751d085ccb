/** Moved to layers/internal/SafeFs.ts; this re-export keeps src/quick.ts and src/commands/doctor.ts compiling until the final pass. */
export * from "./internal/SafeFs.js"
