/** layers/internal/Errno.ts: one errno classification, worded per store (token store, config home, lock files). */
import { describe, expect, it } from "@effect/vitest"
import { errnoCode, errnoText, reasonOf, storageError } from "../../layers/internal/Errno.js"

const err = (code: string, message = `${code}: something, open '/x'`) => Object.assign(new Error(message), { code })

describe("reasonOf: one table for every store", () => {
  it("sorts the errno spellings into reasons", () => {
    expect(reasonOf(err("EACCES"))).toBe("PermissionDenied")
    expect(reasonOf(err("EPERM"))).toBe("PermissionDenied")
    expect(reasonOf(err("EROFS"))).toBe("ReadOnly")
    expect(reasonOf(err("ENOSPC"))).toBe("NoSpace")
    expect(reasonOf(err("EDQUOT"))).toBe("NoSpace")
    expect(reasonOf(err("ENOTDIR"))).toBe("NotADirectory")
    expect(reasonOf(err("EEXIST"))).toBe("AlreadyExists")
    expect(reasonOf(err("ENAMETOOLONG"))).toBe("NameTooLong")
    expect(reasonOf(err("ELOOP"))).toBe("SymbolicLink")
    expect(reasonOf(err("EISDIR"))).toBe("NotRegular")
    expect(reasonOf(err("ENOTREG"))).toBe("NotRegular")
    expect(reasonOf(err("ENOENT"))).toBe("NotFound")
    expect(reasonOf(err("EIO"))).toBe("Unknown")
    expect(reasonOf(new Error("no code"))).toBe("Unknown")
    expect(reasonOf("a string")).toBe("Unknown")
  })

  it("errnoCode reads only a string code; errnoText names the common ones", () => {
    expect(errnoCode({ code: 13 })).toBeUndefined()
    expect(errnoCode(null)).toBeUndefined()
    expect(errnoText(err("EACCES"))).toBe("permission denied (EACCES)")
    expect(errnoText(err("EIO", "EIO: i/o error, read"))).toBe("EIO: i/o error, read")
  })
})

describe("storageError: the store decides the words and the fix", () => {
  it("token store: errno in words, ownership fix for a permission problem, OLARES_CLI_DATA_DIR otherwise", () => {
    const read = storageError({ store: "data", op: "read", path: "/d/a.enc" }, err("EACCES"))
    expect(read.detail).toBe("cannot read: permission denied (EACCES)")
    expect(read.hint).toBe(`sudo chown "$(id -un)" "/d/a.enc" && chmod 600 "/d/a.enc"`)
    const write = storageError({ store: "data", op: "write", path: "/d/a.enc", dir: "/d" }, err("EPERM"))
    expect(write.detail).toBe("cannot write: operation not permitted (EPERM)")
    expect(write.hint).toBe(`sudo chown "$(id -un)" "/d" && chmod 700 "/d"`)
    expect(storageError({ store: "data", op: "write", path: "/d/a.enc", dir: "/d" }, err("EDQUOT")).hint)
      .toBe(`free some space on the disk holding "/d", then retry`)
    const ro = storageError({ store: "data", op: "write", path: "/d/a.enc", dir: "/d" }, err("EROFS"))
    expect(ro.hint).toBe(`set OLARES_CLI_DATA_DIR to a writable absolute directory, or make "/d" writable`)
    expect(storageError({ store: "data", op: "read", path: "/d/a.enc" }, err("EIO")).hint).toBe(
      `check "/d/a.enc" (ls -l "/d/a.enc")`
    )
    // ENOTDIR: a parent that is a file; with none found on disk, the words say so
    expect(storageError({ store: "data", op: "read", path: "/nonexistent-olares/x/a.enc" }, err("ENOTDIR")).hint)
      .toBe(
        "a parent of the token store is not a directory: move it aside, or set OLARES_CLI_DATA_DIR to a writable absolute directory"
      )
  })

  it("config home: the system's message, OLARES_CLI_HOME in every fix, a readable-file fix when reading", () => {
    const w = storageError(
      { store: "config", what: "cannot write", path: "/h/config.json" },
      err("EROFS", "EROFS: read-only file system")
    )
    expect(w.detail).toBe("cannot write: EROFS: read-only file system")
    expect(w.hint).toBe("make /h writable, or set OLARES_CLI_HOME to a writable directory")
    expect(storageError({ store: "config", what: "cannot write", path: "/h/config.json" }, err("ENOSPC")).hint)
      .toBe("free some disk space on the file system holding /h and retry")
    expect(storageError({ store: "config", what: "cannot create /h", path: "/h/config.json" }, err("EEXIST")).hint)
      .toBe("/h must be a directory; move aside whatever is there, or set OLARES_CLI_HOME elsewhere")
    expect(storageError({ store: "config", what: "cannot write", path: "/h/config.json" }, err("EIO")).hint)
      .toBe("check /h/config.json and its directory, then retry")
    const r = storageError(
      { store: "config", what: "cannot read", path: "/h/config.json", reading: true },
      err("EACCES", "EACCES: no")
    )
    expect(r.detail).toBe("cannot read: EACCES: no")
    expect(r.hint).toBe(
      "make /h/config.json readable by you (chmod 600 /h/config.json), or set OLARES_CLI_HOME to another directory"
    )
  })

  it("lock files: a FIFO/directory or a symlink in the lock's place is named, with the exact fix", () => {
    const fifo = storageError(
      { store: "lock", what: "cannot open lock file", path: "/h/locks/config.lock" },
      err("ENOTREG")
    )
    expect(fifo.detail).toBe(
      "cannot open lock file: the lock file is not a regular file (a FIFO, directory or device was put in its place)"
    )
    expect(fifo.hint).toBe(
      `move it aside while no olares-cli is running: mv "/h/locks/config.lock" "/h/locks/config.lock.bad" (it is recreated)`
    )
    const link = storageError({ store: "lock", what: "cannot lock", path: "/h/locks/config.lock" }, err("ELOOP"))
    expect(link.hint).toBe(`remove the link (rm "/h/locks/config.lock"); it is recreated as a plain file`)
    expect(storageError({ store: "lock", what: "cannot lock", path: "/h/locks/x.lock" }, err("EACCES")).hint)
      .toBe("make /h/locks writable, or set OLARES_CLI_HOME to a writable directory")
    expect(storageError({ store: "lock", what: "cannot lock", path: "/h/locks/x.lock" }, err("EIO")).hint)
      .toBe("check that /h/locks is a writable directory")
  })

  it("every mapped error is a StorageError (exit 1) naming its path", () => {
    for (const code of ["EACCES", "EROFS", "ENOSPC", "ENOTDIR", "EIO"]) {
      const e = storageError({ store: "data", op: "write", path: "/d/a.enc", dir: "/d" }, err(code))
      expect(e._tag).toBe("StorageError")
      expect(e.exitCode).toBe(1)
      expect(e.message).toContain("/d/a.enc")
    }
  })
})
