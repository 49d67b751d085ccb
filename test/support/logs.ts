/** Captures what a program logs, as `<LEVEL> <message>` lines. */
import * as Logger from "effect/Logger"

/** The lines logged under `layer`. */
export const captureLogs = () => {
  const lines: Array<string> = []
  const layer = Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      lines.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
  )
  return { lines, layer }
}
