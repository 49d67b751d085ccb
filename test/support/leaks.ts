/**
 * Secret-leak bookkeeping shared by every test file: the loopback server records each secret it
 * issues or accepts (tokens, passwords, TOTP codes), the CLI runner records every byte a spawned
 * CLI printed, and the global teardown fails the run if any recorded secret appears in any output.
 */
import { appendFileSync, mkdirSync } from "node:fs"
import { join } from "node:path"

const dir = (): string | undefined => process.env.OLARES_LEAK_DIR

/** Remembers a value that must never be printed. Short values (< 6 chars, e.g. "x") are ignored as too common. */
export const recordSecret = (secret: string): void => {
  const d = dir()
  if (d === undefined || secret.length < 6) return
  mkdirSync(d, { recursive: true })
  appendFileSync(join(d, `secrets-${process.pid}.txt`), JSON.stringify(secret) + "\n")
}

/** Remembers program output to be scanned at the end. */
export const recordOutput = (label: string, text: string): void => {
  const d = dir()
  if (d === undefined || text === "") return
  mkdirSync(d, { recursive: true })
  appendFileSync(join(d, `output-${process.pid}.txt`), JSON.stringify({ label, text }) + "\n")
}
