/** The quick path's one-shot lock: proper-lockfile's lock directory, exclusive, and never releasing someone else's. */
import { describe, expect, it } from "@effect/vitest"
import { existsSync, mkdirSync, rmdirSync, statSync, utimesSync } from "node:fs"
import { join } from "node:path"
import { ensureLockFileSync, tryLockOnceSync } from "../layers/LockDir.js"
import { useTempRoots } from "./support/tmp.js"

const tempRoot = useTempRoots("olares-lockdir-")

describe("LockDir", () => {
  it("creates the lock file (0600) in a new locks dir (0700), then takes and releases the lock", () => {
    const lock = join(tempRoot(), "locks", "config.lock")
    ensureLockFileSync(lock)
    expect(statSync(lock).mode & 0o777).toBe(0o600)
    expect(statSync(join(lock, "..")).mode & 0o777).toBe(0o700)
    const release = tryLockOnceSync(lock)
    expect(release).toBeDefined()
    expect(existsSync(`${lock}.lock`)).toBe(true)
    expect(tryLockOnceSync(lock)).toBeUndefined() // held: no second holder, no waiting
    release!()
    expect(existsSync(`${lock}.lock`)).toBe(false)
    expect(tryLockOnceSync(lock)).toBeDefined()
  })

  it("a lock taken over meanwhile (another directory) is left to its new holder", () => {
    const lock = join(tempRoot(), "config.lock")
    ensureLockFileSync(lock)
    const release = tryLockOnceSync(lock)!
    // what a stale takeover does: remove the directory and make its own
    rmdirSync(`${lock}.lock`)
    mkdirSync(`${lock}.lock`)
    // it may reuse the inode; its mtime is its own
    utimesSync(`${lock}.lock`, new Date(), new Date(Date.now() + 1000))
    release()
    expect(existsSync(`${lock}.lock`)).toBe(true)
  })

  it("a lock already gone at release is not an error", () => {
    const lock = join(tempRoot(), "config.lock")
    ensureLockFileSync(lock)
    const release = tryLockOnceSync(lock)!
    rmdirSync(`${lock}.lock`)
    expect(() => release()).not.toThrow()
  })
})
