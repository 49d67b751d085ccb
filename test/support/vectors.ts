/** The token-record envelope vectors shared by the Linux and macOS store tests (sealed independently). */
import { createCipheriv, createDecipheriv } from "node:crypto"

/** An independent, plain node:crypto implementation of the reference's envelope. */
export const plainEncrypt = (plaintext: string, key: Buffer, iv: Buffer): Buffer => {
  const c = createCipheriv("aes-256-gcm", key, iv)
  const ct = Buffer.concat([c.update(Buffer.from(plaintext, "utf8")), c.final()])
  return Buffer.concat([iv, ct, c.getAuthTag()])
}

/** Opens an envelope with plain node:crypto. */
export const plainDecrypt = (blob: Buffer, key: Buffer): string => {
  const d = createDecipheriv("aes-256-gcm", key, blob.subarray(0, 12))
  d.setAuthTag(blob.subarray(blob.length - 16))
  return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]).toString("utf8")
}

export const FIXED_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i))
export const FIXED_IV = Buffer.from(Array.from({ length: 12 }, (_, i) => 0xa0 + i))
export const VECTOR_PLAINTEXT =
  "{\"olaresId\":\"alice@olares.com\",\"accessToken\":\"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE4OTM0NTYwMDB9.c2ln\",\"refreshToken\":\"rt-opaque-123\",\"sessionId\":\"sess-1\",\"grantedAt\":1700000000000}"
/** Sealed by Python `cryptography`'s AESGCM (same construction as Go's cipher.NewGCM Seal), iv prepended. */
export const VECTOR_BLOB_HEX =
  "a0a1a2a3a4a5a6a7a8a9aaab9d3a134124b967cc2b01a5e9251bacb713c9197ffed63009ef2045e912895923b315249adc51075234f96aea3358e6800d73240f01b955170b175e24ed41cbd9fe85ab0a49ef8885bca39657e58bf8f599469bea9198ee37aa3707b4d2a821faada809d966c8fdfeedb3523feeed830a1e7213daf35aeb5d5ebabb898567c16fe933c31aa031e97859109aa92868e2b3fbaa805a9cfcd8eb8facd381caa3755fe4222e86865a7026b23a1b125fe2869cbdae4771e6a615eee60c47c5e171849f"
