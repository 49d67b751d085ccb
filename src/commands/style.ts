/** Terminal colour: only on a TTY, never when piped, with NO_COLOR, or TERM=dumb. */
import type { TokenStatus } from "../domain/TokenStatus.js"

/** Whether `stream` may carry ANSI colour. */
export const colorOn = (stream: { readonly isTTY?: boolean }): boolean =>
  stream.isTTY === true && (process.env.NO_COLOR ?? "") === "" && process.env.TERM !== "dumb"

/** Whether stdout may carry ANSI colour. */
export const colorEnabled = (): boolean => colorOn(process.stdout)

/** Removes ANSI SGR sequences (colour, bold) from text. */
export const stripAnsi = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, "")

/** Each status's SGR colour (`undefined`: plain); a new status does not compile until it is given one here. */
const codes = {
  "logged-in": "32",
  "expired": "33",
  "invalidated": "31",
  "never": "2",
  "unknown": "35",
  "logged-in (unparseable token)": "35",
  "pending": undefined
} as const satisfies Record<TokenStatus, string | undefined>

/** Wraps a (padded) STATUS cell in the colour of its status. */
export const paintStatus = (status: TokenStatus, padded: string): string => {
  const code: string | undefined = codes[status]
  if (code === undefined || !colorEnabled()) return padded
  const trimmed = padded.trimEnd()
  return `\u001b[${code}m${trimmed}\u001b[0m${padded.slice(trimmed.length)}`
}

/** Wraps text in an SGR colour (e.g. `31` red) when stdout may carry colour; plain otherwise. */
export const paint = (code: string, text: string): string => (colorEnabled() ? `\u001b[${code}m${text}\u001b[0m` : text)
