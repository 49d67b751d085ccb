/**
 * Reads `$OLARES_CLI_CREDENTIALS_DIR/credential.json` without blocking or following surprises: opened
 * non-blocking (a FIFO in its place cannot hang the CLI), regular files only, at most 64 KiB.
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs"
import { join } from "node:path"
import {
  CREDENTIAL_FILE,
  MAX_CREDENTIAL_BYTES,
  type MountState,
  parseManagedCredential
} from "../src/domain/ManagedCredential.js"
import { CREDENTIALS_DIR_ENV } from "../src/domain/Paths.js"
import { ManagedMount } from "../src/services/ManagedMount.js"

/** Reads the mount in `dir` (plain, synchronous: one small file). */
export const readMount = (dir: string): MountState => {
  const path = join(dir, CREDENTIAL_FILE)
  const invalid = (reason: string): MountState => ({ _tag: "Invalid", reason: `managed credential: ${reason}` })
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return code === "ENOENT" ? invalid(`${path} does not exist`) : invalid(`read ${path}: ${code ?? String(e)}`)
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) return invalid(`read ${path}: not a regular file`)
    if (st.size > MAX_CREDENTIAL_BYTES) return invalid(`read ${path}: larger than ${MAX_CREDENTIAL_BYTES} bytes`)
    const buf = Buffer.alloc(MAX_CREDENTIAL_BYTES + 1)
    let n = 0
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null)
      if (r === 0) break
      n += r
      if (n > MAX_CREDENTIAL_BYTES) return invalid(`read ${path}: larger than ${MAX_CREDENTIAL_BYTES} bytes`)
    }
    return parseManagedCredential(buf.subarray(0, n).toString("utf8"), path)
  } catch (e) {
    return invalid(`read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  } finally {
    closeSync(fd)
  }
}

/** The live mount: the env var through `Config` (so tests can swap the provider), trimmed as the reference does. */
export const ManagedMountLive: Layer.Layer<ManagedMount> = Layer.effect(
  ManagedMount,
  Effect.gen(function*() {
    const dir = (yield* Config.string(CREDENTIALS_DIR_ENV).pipe(Config.withDefault(""), Effect.orDie)).trim()
    return ManagedMount.of({ load: Effect.sync(() => (dir === "" ? { _tag: "Unset" } : readMount(dir))) })
  })
)
