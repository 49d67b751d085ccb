/**
 * The token store's on-disk crypto and naming, byte-compatible with the Go olares-cli: one
 * `<safe(account)>.enc` per account = IV(12) || AES-256-GCM ciphertext || tag(16), no AAD, under a
 * 32-byte master key. Plain functions (node:crypto only), shared by KeyStoreFile and the start-up
 * quick path (src/startup/quick.ts).
 */
import * as Crypto from "node:crypto"
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../../src/domain/Paths.js"

/** Length of the AES-256 master key. */
export const MASTER_KEY_BYTES = 32
/** Length of the GCM nonce that starts every blob. */
export const IV_BYTES = 12
/** Length of the GCM tag that ends every blob. */
export const TAG_BYTES = 16
/** Mode of every file the store writes (master key, records). */
export const FILE_MODE = PRIVATE_FILE_MODE
/** Mode of the data directory. */
export const DIR_MODE = PRIVATE_DIR_MODE

/** Seals `plaintext` as IV || ciphertext || tag (AES-256-GCM, no AAD). The IV is random unless given. */
export const encryptBlob = (plaintext: string, key: Buffer, iv: Buffer = Crypto.randomBytes(IV_BYTES)): Buffer => {
  const cipher = Crypto.createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES })
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
  return Buffer.concat([iv, body, cipher.getAuthTag()])
}

/** Why a blob could not be opened. */
export type DecryptFailure = "truncated" | "authentication"

/** Opens a blob sealed by `encryptBlob` (or by the Go CLI): the plaintext, or why not. */
export const openBlob = (
  blob: Buffer,
  key: Buffer
): { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: DecryptFailure } => {
  if (blob.length < IV_BYTES + TAG_BYTES) return { ok: false, reason: "truncated" }
  try {
    const decipher = Crypto.createDecipheriv("aes-256-gcm", key, blob.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES
    })
    decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES))
    const out = Buffer.concat([decipher.update(blob.subarray(IV_BYTES, blob.length - TAG_BYTES)), decipher.final()])
    return { ok: true, text: out.toString("utf8") }
  } catch {
    return { ok: false, reason: "authentication" }
  }
}

// The record path lives in Paths.ts with the other paths; re-exported for the old import path.
