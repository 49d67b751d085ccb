/**
 * Which token-store backend this machine uses, as a plain function (no Effect imports), so the
 * start-up quick path (src/startup/quick.ts) decides exactly as KeyStoreLive does.
 */

/** The env var that forces a backend. */
export const KEYSTORE_ENV = "OLARES_CLI_KEYSTORE"

/**
 * What can be chosen: `mac` = encrypted files with the master key in the Keychain; `registry` = the
 * Go CLI's Windows store (DPAPI-sealed registry values); `keyring` = one OS credential-store item
 * per record (what earlier versions used on Windows).
 */
export type BackendKind = "file" | "mac" | "registry" | "keyring" | "memory"

/** A backend and why it was chosen (shown by `profile doctor`). */
export interface BackendChoice {
  readonly kind: BackendKind
  readonly reason: string
  /** Set when `OLARES_CLI_KEYSTORE` held something we do not know (the default is used). */
  readonly ignored?: string
}

const FORCEABLE = ["file", "registry", "keyring", "memory"] as const

/** Pure selection: a valid `OLARES_CLI_KEYSTORE` wins, else darwin -> mac, win32 -> registry, else file. */
export const selectBackend = (forced: string, platform: NodeJS.Platform): BackendChoice => {
  const value = forced.trim()
  if ((FORCEABLE as ReadonlyArray<string>).includes(value)) {
    return { kind: value as BackendKind, reason: `forced by ${KEYSTORE_ENV}=${value}` }
  }
  const base: BackendChoice = platform === "darwin"
    ? { kind: "mac", reason: "default on macOS: encrypted files, master key in the Keychain" }
    : platform === "win32"
    ? { kind: "registry", reason: "default on Windows: DPAPI-sealed values in the user's registry, as the Go CLI" }
    : { kind: "file", reason: `default on ${platform}: AES-256-GCM files` }
  if (value === "") return base
  const ignored = `${KEYSTORE_ENV}=${value} is not one of ${FORCEABLE.join(", ")}; ignored`
  return { ...base, reason: `${base.reason} (${ignored})`, ignored }
}
