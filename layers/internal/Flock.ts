/**
 * The kernel's advisory file lock, exactly as the Go CLI takes it with gofrs/flock: an exclusive
 * `flock(2)` on the lock file itself (on Windows `LockFileEx` on its first byte), called through
 * koffi, a C FFI that ships prebuilt binaries. Plain synchronous functions with no Effect import, so
 * the start-up quick path (src/startup/quick.ts) and FileLockLive share one implementation. Every call here
 * returns at once: the lock is only ever tried (`LOCK_NB`), never waited for; waiting is the
 * caller's bounded, interruptible poll. The kernel drops a lock when its descriptor is closed or its
 * process dies, so there is nothing to clean up after a crash.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync } from "node:fs"
import { dirname } from "node:path"

/** The koffi module (loaded lazily by the callers: a command that never locks never pays for it). */
export type Koffi = typeof import("koffi")

/**
 * koffi for a synchronous caller (the quick path): on Linux its prebuilt binary straight from the
 * platform package koffi depends on, which skips ~5 ms of loader code at start-up (the binary
 * exports the same API); anything else, or any surprise, loads koffi itself.
 */
export const requireKoffi = (req: (id: string) => unknown): Koffi => {
  if (process.platform === "linux") {
    try {
      const native = req(`@koromix/koffi-linux-${process.arch}/linux_${process.arch}/koffi.node`) as Partial<Koffi>
      if (typeof native.load === "function" && typeof native.errno === "function") return native as Koffi
    } catch {
      // another libc (musl), another layout: the loader knows
    }
  }
  return req("koffi") as Koffi
}

/** An open lock file: try the lock (never blocks), then close it (which releases the lock). */
export interface LockFile {
  /** One non-blocking attempt: `true` when the lock is now ours, `false` when another open file holds it. */
  readonly tryLock: () => boolean
  /** Closes the descriptor; the kernel releases the lock with it. Idempotent. */
  readonly close: () => void
}

/** Opens lock files and locks them with the kernel's lock. */
export interface Flocker {
  /**
   * Opens `path` for locking. With `create`, its directory (0700) and the empty file (0600) are
   * created as the Go CLI does; without, a missing file is `undefined`. Symbolic links are never
   * followed (`ELOOP`) and anything but a regular file (a FIFO, a directory, a device) is refused
   * without blocking (`ENOTREG`), so a planted file can neither redirect nor hang us. Errors are
   * thrown as errno-style `Error`s carrying `code`.
   */
  readonly open: (path: string, create: boolean) => LockFile | undefined
}

/** The `code` of the error thrown for a lock file that is not a regular file. */
export const NOT_REGULAR = "ENOTREG"

/** An errno-style error, as node:fs throws them. */
const errnoError = (code: string, path: string, what: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: ${what}, '${path}'`), { code, path })

// `flock(2)` operations.
const LOCK_EX = 2
const LOCK_NB = 4
// The errno of a busy `LOCK_NB` attempt (EWOULDBLOCK): 11 on Linux, 35 on the BSDs and macOS.
const EINTR = 4

/**
 * `mkdir -p` (0700) one level at a time: Node's own recursive mkdir loops forever where mkdir answers
 * ENOENT under an existing parent (a config home under /proc or sysfs); here that is an error.
 */
const mkdirs = (dir: string): void => {
  const missing: Array<string> = []
  for (let p = dir;; p = dirname(p)) {
    try {
      lstatSync(p)
      break
    } catch {
      missing.unshift(p)
      if (dirname(p) === p) break
    }
  }
  for (const m of missing) {
    try {
      mkdirSync(m, 0o700)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
    }
  }
}

/** `flock(2)` through koffi, for Linux, macOS and the BSDs. */
const posixFlocker = (koffi: Koffi, platform: NodeJS.Platform): Flocker => {
  // dlopen(NULL): the symbols Node itself links, libc's flock among them (whatever the libc is called).
  const flock = koffi.load(null).func("int flock(int fd, int operation)") as (fd: number, op: number) => number
  const wouldBlock = platform === "linux" ? 11 : 35
  const flags = constants.O_RDONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK
  const open = (path: string, create: boolean): LockFile | undefined => {
    let fd: number
    if (create) mkdirs(dirname(path))
    try {
      // Read-only, as gofrs/flock opens it: flock needs no write access.
      fd = openSync(path, create ? flags : flags & ~constants.O_CREAT, 0o600)
    } catch (e) {
      if (!create && (e as NodeJS.ErrnoException).code === "ENOENT") return undefined
      throw e
    }
    let open = true
    const close = () => {
      if (!open) return
      open = false
      closeSync(fd)
    }
    try {
      if (!fstatSync(fd).isFile()) throw errnoError(NOT_REGULAR, path, "lock file is not a regular file")
    } catch (e) {
      close()
      throw e
    }
    const tryLock = () => {
      for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) === 0) return true
        const errno = koffi.errno()
        if (errno === wouldBlock) return false
        if (errno !== EINTR) throw errnoError(`E${errno}`, path, `flock failed (errno ${errno})`)
      }
    }
    return { tryLock, close }
  }
  return { open }
}

// Windows constants (winnt.h / winbase.h).
const GENERIC_READ = 0x80000000
const FILE_SHARE_ALL = 0x7 // read | write | delete: other processes may open and rename it meanwhile
const OPEN_ALWAYS = 4
const OPEN_EXISTING = 3
const FILE_ATTRIBUTE_NORMAL = 0x80
const FILE_FLAG_OPEN_REPARSE_POINT = 0x00200000 // open a symbolic link itself, never its target
const FILE_ATTRIBUTE_DIRECTORY = 0x10
const FILE_ATTRIBUTE_REPARSE_POINT = 0x400
const FILE_TYPE_DISK = 1
const LOCKFILE_FAIL_IMMEDIATELY = 0x1
const LOCKFILE_EXCLUSIVE_LOCK = 0x2
const ERROR_FILE_NOT_FOUND = 2
const ERROR_PATH_NOT_FOUND = 3
const ERROR_ACCESS_DENIED = 5
const ERROR_LOCK_VIOLATION = 33

/**
 * `LockFileEx` through koffi, as gofrs/flock does it on Windows: an exclusive lock on the first byte
 * of the file, failing immediately when held. Node's descriptors are not Win32 handles, so the file
 * is opened with `CreateFileW` here. Untested in CI (Linux only): written against the Win32 docs.
 */
const windowsFlocker = (koffi: Koffi): Flocker => {
  const k32 = koffi.load("kernel32.dll")
  koffi.struct("OLARES_OVERLAPPED", {
    Internal: "uintptr_t",
    InternalHigh: "uintptr_t",
    Offset: "uint32_t",
    OffsetHigh: "uint32_t",
    hEvent: "void *"
  })
  koffi.struct("OLARES_FILE_INFO", {
    dwFileAttributes: "uint32_t",
    ftCreationTime: koffi.array("uint32_t", 2),
    ftLastAccessTime: koffi.array("uint32_t", 2),
    ftLastWriteTime: koffi.array("uint32_t", 2),
    dwVolumeSerialNumber: "uint32_t",
    nFileSizeHigh: "uint32_t",
    nFileSizeLow: "uint32_t",
    nNumberOfLinks: "uint32_t",
    nFileIndexHigh: "uint32_t",
    nFileIndexLow: "uint32_t"
  })
  type Fn = (...args: Array<unknown>) => number
  const CreateFileW = k32.func(
    "intptr_t __stdcall CreateFileW(str16 name, uint32_t access, uint32_t share, void *security, uint32_t disposition, uint32_t flags, void *template)"
  ) as Fn
  const GetFileType = k32.func("uint32_t __stdcall GetFileType(intptr_t h)") as Fn
  const GetFileInformationByHandle = k32.func(
    "int __stdcall GetFileInformationByHandle(intptr_t h, _Out_ OLARES_FILE_INFO *info)"
  ) as Fn
  const LockFileEx = k32.func(
    "int __stdcall LockFileEx(intptr_t h, uint32_t flags, uint32_t reserved, uint32_t lo, uint32_t hi, _Inout_ OLARES_OVERLAPPED *ov)"
  ) as Fn
  const UnlockFileEx = k32.func(
    "int __stdcall UnlockFileEx(intptr_t h, uint32_t reserved, uint32_t lo, uint32_t hi, _Inout_ OLARES_OVERLAPPED *ov)"
  ) as Fn
  const CloseHandle = k32.func("int __stdcall CloseHandle(intptr_t h)") as Fn
  const GetLastError = k32.func("uint32_t __stdcall GetLastError()") as Fn
  const overlapped = () => ({ Internal: 0, InternalHigh: 0, Offset: 0, OffsetHigh: 0, hEvent: null })

  const open = (path: string, create: boolean): LockFile | undefined => {
    if (create) mkdirs(dirname(path))
    const h = Number(CreateFileW(
      path,
      GENERIC_READ,
      FILE_SHARE_ALL,
      null,
      create ? OPEN_ALWAYS : OPEN_EXISTING,
      FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT,
      null
    ))
    if (h === -1) {
      const err = GetLastError()
      if (!create && (err === ERROR_FILE_NOT_FOUND || err === ERROR_PATH_NOT_FOUND)) return undefined
      // A directory cannot be opened without FILE_FLAG_BACKUP_SEMANTICS: access denied.
      throw errnoError(err === ERROR_ACCESS_DENIED ? "EACCES" : `WIN${err}`, path, `CreateFileW failed (error ${err})`)
    }
    let open = true
    const close = () => {
      if (!open) return
      open = false
      UnlockFileEx(h, 0, 1, 0, overlapped())
      CloseHandle(h)
    }
    const info: Record<string, number> = {}
    const ok = GetFileType(h) === FILE_TYPE_DISK && GetFileInformationByHandle(h, info) !== 0 &&
      ((info.dwFileAttributes ?? 0) & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) === 0
    if (!ok) {
      close()
      throw errnoError(NOT_REGULAR, path, "lock file is not a regular file")
    }
    const tryLock = () => {
      if (LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, overlapped()) !== 0) return true
      const err = GetLastError()
      if (err === ERROR_LOCK_VIOLATION) return false
      throw errnoError(`WIN${err}`, path, `LockFileEx failed (error ${err})`)
    }
    return { tryLock, close }
  }
  return { open }
}

// One per koffi instance: koffi's named types (the Windows structs) can be declared only once.
const made = new WeakMap<object, Flocker>()

/** The lock implementation for this platform, over a loaded koffi. */
export const makeFlocker = (koffi: Koffi): Flocker => {
  let f = made.get(koffi)
  if (f === undefined) {
    f = process.platform === "win32" ? windowsFlocker(koffi) : posixFlocker(koffi, process.platform)
    made.set(koffi, f)
  }
  return f
}

/**
 * Whether any process holds the lock on `path` right now (the Go CLI included): one `LOCK_NB`
 * attempt on a descriptor of our own, released at once. A missing lock file is not held.
 */
export const probeLocked = (flocker: Flocker, path: string): boolean => {
  const file = flocker.open(path, false)
  if (file === undefined) return false
  try {
    return !file.tryLock()
  } finally {
    file.close()
  }
}
