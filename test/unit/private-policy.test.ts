/** layers/internal/PrivatePolicy.ts: the one rule for what is refused, tightened or only warned about. */
import { describe, expect, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import type { Stats } from "node:fs"
import {
  isOpenToOthers,
  isSwappable,
  isWritableByOthers,
  judge,
  type Kind,
  Refused,
  tightenedMode,
  type TrustContext,
  verdictWarning,
  wantMode
} from "../../layers/internal/PrivatePolicy.js"
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../../src/domain/Paths.js"

const ME = 1000
const ctx: TrustContext = { uid: ME, userHome: "/home/me", fix: true }

/** A stat of the given kind, mode and owner (only what `judge` reads). */
const stat = (kind: Kind, mode: number, uid = ME): Stats =>
  ({
    mode,
    uid,
    isFile: () => kind === "file",
    isDirectory: () => kind === "directory",
    isSymbolicLink: () => false,
    isFIFO: () => false,
    isSocket: () => false,
    isCharacterDevice: () => false,
    isBlockDevice: () => false
  }) as unknown as Stats

describe("modes", () => {
  it("files 0600, directories 0700 (domain/Paths.ts)", () => {
    expect(PRIVATE_FILE_MODE).toBe(0o600)
    expect(PRIVATE_DIR_MODE).toBe(0o700)
    expect(wantMode("file")).toBe(0o600)
    expect(wantMode("directory")).toBe(0o700)
  })

  it("a sticky world-writable directory (like /tmp) cannot be swapped; a plain one can", () => {
    expect(isSwappable(0o1777)).toBe(false)
    expect(isSwappable(0o777)).toBe(true)
    expect(isSwappable(0o755)).toBe(false)
  })
})

describe("judge", () => {
  it("private modes are ok; another kind, another owner or a writable-by-others mode is refused", () => {
    expect(judge("/d", stat("directory", 0o700), "directory", "dir", ctx)._tag).toBe("ok")
    expect(judge("/f", stat("file", 0o600), "file", "file", ctx)._tag).toBe("ok")
    expect(judge("/f", stat("file", 0o400), "file", "file", ctx)._tag).toBe("ok")
    expect(() => judge("/f", stat("directory", 0o700), "file", "record", ctx)).toThrow(Refused)
    expect(() => judge("/f", stat("file", 0o600, 0), "file", "record", ctx)).toThrow(/owned by uid 0, not by you/)
    expect(() => judge("/f", stat("file", 0o620), "file", "record", ctx)).toThrow(/other users can write it/)
  })

  it("property: refused iff writable by others; else tightened iff open to others; tightening keeps exactly the owner's bits", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.integer({ min: 0, max: 0o777 }),
        FastCheck.constantFrom<Kind>("file", "directory"),
        (mode, kind) => {
          const path = kind === "directory" ? "/srv/store" : "/srv/store/f"
          let verdict
          try {
            verdict = judge(path, stat(kind, mode), kind, "x", ctx)
          } catch (e) {
            expect(e).toBeInstanceOf(Refused)
            expect(isWritableByOthers(mode)).toBe(true)
            return true
          }
          expect(isWritableByOthers(mode)).toBe(false)
          if (!isOpenToOthers(mode)) {
            expect(verdict._tag).toBe("ok")
          } else {
            expect(verdict).toEqual({ _tag: "tighten", from: mode, want: tightenedMode(mode) })
            expect(tightenedMode(mode) & 0o077).toBe(0)
            expect(tightenedMode(mode) & 0o700).toBe(mode & 0o700)
          }
        }
      )
    )
  })

  it("a path reached through a symlink, and the user's home, are only warned about", () => {
    const link = judge("/f", stat("file", 0o644), "file", "config file", ctx, true)
    expect(link._tag).toBe("warn")
    expect(link._tag === "warn" && link.message).toContain("reached through a symbolic link")
    expect(judge("/home/me", stat("directory", 0o755), "directory", "config directory", ctx)._tag).toBe("warn")
  })

  it("no uids (Windows): only the kind is checked", () => {
    expect(judge("/f", stat("file", 0o666, 0), "file", "x", { ...ctx, uid: undefined })._tag).toBe("ok")
  })
})

describe("verdictWarning: one rule, the store's words", () => {
  const tighten = { _tag: "tighten", from: 0o755, want: 0o700 } as const
  it("token store and config home word a tightening as they always have", () => {
    expect(verdictWarning("data", "/d", "token store directory", tighten)).toBe(
      "fixed permissions of /d from 0755 to 0700"
    )
    expect(verdictWarning("config", "/h", "config directory", tighten))
      .toBe("config directory /h was mode 0755, open to other users; changed to 0700")
  })

  it("a warn-only verdict points the config home at OLARES_CLI_HOME; ok says nothing", () => {
    const warn = { _tag: "warn", message: "m" } as const
    expect(verdictWarning("data", "/d", "x", warn)).toBe("m")
    expect(verdictWarning("config", "/h", "x", warn)).toBe("m (or set OLARES_CLI_HOME to a private directory)")
    expect(verdictWarning("data", "/d", "x", { _tag: "ok" })).toBeUndefined()
  })
})
