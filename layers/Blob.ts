/** Moved to layers/internal/Blob.ts; this re-export keeps src/quick.ts and src/commands/doctor.ts compiling until the final pass. */
export * from "./internal/Blob.js"
