/** Moved to layers/internal/Flock.ts; this re-export keeps src/quick.ts and src/commands/doctor.ts compiling until the final pass. */
export * from "./internal/Flock.js"
