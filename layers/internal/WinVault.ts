/**
 * The two Win32 facilities the Go CLI keeps its Windows tokens with, called through koffi (the FFI
 * of the kernel locks, layers/internal/Flock.ts): DPAPI (`crypt32!CryptProtectData` / `CryptUnprotectData`,
 * bound to the Windows user) and string values under `HKEY_CURRENT_USER` (`advapi32!Reg*`). Plain
 * synchronous functions with no Effect import; every call returns at once (DPAPI with
 * `CRYPTPROTECT_UI_FORBIDDEN` never prompts). Failures are thrown as `WinError`s carrying the
 * Win32 error code. Exercised for real under Wine (`npm run test:windows`).
 */
import type { Koffi } from "./Flock.js"

/** A failed Win32 call: the function and its error code (`ERROR_*`). */
export class WinError extends Error {
  constructor(readonly fn: string, readonly code: number) {
    super(`${fn} failed: ${winErrorText(code)}`)
    this.name = "WinError"
  }
}

/** The Win32 error codes this module tells apart. */
export const ERROR_FILE_NOT_FOUND = 2
const ERROR_ACCESS_DENIED = 5
const ERROR_INVALID_DATA = 13
const ERROR_MORE_DATA = 234
const ERROR_NOT_ENOUGH_MEMORY = 8
const ERROR_KEY_DELETED = 1018

const WIN_ERROR_TEXT: Record<number, string> = {
  [ERROR_FILE_NOT_FOUND]: "not found (ERROR_FILE_NOT_FOUND)",
  [ERROR_ACCESS_DENIED]: "access denied (ERROR_ACCESS_DENIED)",
  [ERROR_NOT_ENOUGH_MEMORY]: "not enough memory (ERROR_NOT_ENOUGH_MEMORY)",
  [ERROR_INVALID_DATA]: "the data is invalid (ERROR_INVALID_DATA)",
  [ERROR_KEY_DELETED]: "the key was deleted meanwhile (ERROR_KEY_DELETED)"
}

/** `access denied (ERROR_ACCESS_DENIED)`, or the bare code for rarer errors. */
export const winErrorText = (code: number): string => WIN_ERROR_TEXT[code] ?? `Win32 error ${code}`

/** DPAPI, user scope, never prompting. */
export interface Dpapi {
  /** `CryptProtectData` of `plain` bound to `entropy`. */
  readonly protect: (plain: Uint8Array, entropy: Uint8Array) => Buffer
  /** `CryptUnprotectData`; throws (`ERROR_INVALID_DATA` and the like) when the blob or entropy is wrong. */
  readonly unprotect: (blob: Uint8Array, entropy: Uint8Array) => Buffer
}

/** A `REG_SZ`/`REG_EXPAND_SZ` value, or a value of another type (`type` = its `REG_*` number). */
export type RegValue = { readonly kind: "string"; readonly data: string } | {
  readonly kind: "other"
  readonly type: number
}

/** String values of keys under `HKEY_CURRENT_USER`; `path` is relative to it (`Software\...`). */
export interface UserRegistry {
  /** The value, or `undefined` when the key or the value does not exist. */
  readonly get: (path: string, name: string) => RegValue | undefined
  /** Creates the key (and its parents) when missing. */
  readonly ensureKey: (path: string) => void
  /** Creates the key when missing and writes `name` as `REG_SZ` (NUL-terminated, as Go's `SetStringValue`). */
  readonly setString: (path: string, name: string, data: string) => void
  /** Deletes one value; a missing key or value is fine. */
  readonly deleteValue: (path: string, name: string) => void
  /** The value names of the key; `[]` when it does not exist. */
  readonly valueNames: (path: string) => ReadonlyArray<string>
  /** Deletes the key with its values (not its subkeys); a missing key is fine. */
  readonly deleteKey: (path: string) => void
}

/** What the Windows token store needs from the OS. */
export interface WinVault {
  readonly dpapi: Dpapi
  readonly registry: UserRegistry
}

// winreg.h / wincrypt.h
const HKEY_CURRENT_USER = -0x7fffffff // (HKEY)(LONG)0x80000001, sign-extended
const KEY_QUERY_VALUE = 0x0001
const KEY_SET_VALUE = 0x0002
const KEY_CREATE_SUB_KEY = 0x0004
const KEY_ENUMERATE_SUB_KEYS = 0x0008
const KEY_READ = 0x20019
const REG_SZ = 1
const REG_EXPAND_SZ = 2
const ERROR_NO_MORE_ITEMS = 259
const CRYPTPROTECT_UI_FORBIDDEN = 0x1
// The longest value name the registry allows is 16,383 characters.
const MAX_VALUE_NAME = 16_384

type Fn = (...args: Array<unknown>) => number
type PtrFn = (...args: Array<unknown>) => unknown

const windowsVault = (koffi: Koffi): WinVault => {
  const crypt32 = koffi.load("crypt32.dll")
  const advapi32 = koffi.load("advapi32.dll")
  const kernel32 = koffi.load("kernel32.dll")
  koffi.struct("OLARES_DATA_BLOB", { cbData: "uint32_t", pbData: "void *" })

  const CryptProtectData = crypt32.func(
    "int __stdcall CryptProtectData(OLARES_DATA_BLOB *dataIn, str16 description, OLARES_DATA_BLOB *entropy, void *reserved, void *prompt, uint32_t flags, _Out_ OLARES_DATA_BLOB *dataOut)"
  ) as Fn
  const CryptUnprotectData = crypt32.func(
    "int __stdcall CryptUnprotectData(OLARES_DATA_BLOB *dataIn, void *description, OLARES_DATA_BLOB *entropy, void *reserved, void *prompt, uint32_t flags, _Out_ OLARES_DATA_BLOB *dataOut)"
  ) as Fn
  const LocalFree = kernel32.func("void * __stdcall LocalFree(void *mem)") as PtrFn
  const GetLastError = kernel32.func("uint32_t __stdcall GetLastError()") as Fn

  const RegCreateKeyExW = advapi32.func(
    "int32_t __stdcall RegCreateKeyExW(intptr_t key, str16 subKey, uint32_t reserved, void *cls, uint32_t options, uint32_t sam, void *security, _Out_ intptr_t *result, _Out_ uint32_t *disposition)"
  ) as Fn
  const RegOpenKeyExW = advapi32.func(
    "int32_t __stdcall RegOpenKeyExW(intptr_t key, str16 subKey, uint32_t options, uint32_t sam, _Out_ intptr_t *result)"
  ) as Fn
  const RegCloseKey = advapi32.func("int32_t __stdcall RegCloseKey(intptr_t key)") as Fn
  const RegQueryValueExW = advapi32.func(
    "int32_t __stdcall RegQueryValueExW(intptr_t key, str16 name, void *reserved, _Out_ uint32_t *type, _Out_ uint8_t *data, _Inout_ uint32_t *size)"
  ) as Fn
  const RegSetValueExW = advapi32.func(
    "int32_t __stdcall RegSetValueExW(intptr_t key, str16 name, uint32_t reserved, uint32_t type, const uint8_t *data, uint32_t size)"
  ) as Fn
  const RegDeleteValueW = advapi32.func("int32_t __stdcall RegDeleteValueW(intptr_t key, str16 name)") as Fn
  const RegDeleteKeyW = advapi32.func("int32_t __stdcall RegDeleteKeyW(intptr_t key, str16 subKey)") as Fn
  const RegEnumValueW = advapi32.func(
    "int32_t __stdcall RegEnumValueW(intptr_t key, uint32_t index, _Out_ uint8_t *name, _Inout_ uint32_t *nameLen, void *reserved, void *type, void *data, void *dataLen)"
  ) as Fn

  // ---- DPAPI ----
  const blob = (bytes: Uint8Array) => ({ cbData: bytes.length, pbData: bytes.length === 0 ? null : bytes })
  const takeOutput = (out: { cbData?: number; pbData?: unknown }): Buffer => {
    const size = out.cbData ?? 0
    if (out.pbData === null || out.pbData === undefined) return Buffer.alloc(0)
    try {
      return Buffer.from(koffi.decode(out.pbData, "uint8_t", size) as Uint8Array)
    } finally {
      // DPAPI allocates the output with LocalAlloc: ours to free.
      LocalFree(out.pbData)
    }
  }
  const dpapiCall = (name: string, f: Fn) => (data: Uint8Array, entropy: Uint8Array): Buffer => {
    const out: { cbData?: number; pbData?: unknown } = {}
    if (f(blob(data), null, blob(entropy), null, null, CRYPTPROTECT_UI_FORBIDDEN, out) === 0) {
      throw new WinError(name, GetLastError())
    }
    return takeOutput(out)
  }
  const dpapi: Dpapi = {
    protect: dpapiCall("CryptProtectData", CryptProtectData),
    unprotect: dpapiCall("CryptUnprotectData", CryptUnprotectData)
  }

  // ---- registry ----
  const check = (fn: string, rc: number) => {
    if (rc !== 0) throw new WinError(fn, rc)
  }
  /** Runs `f` on the open key; `undefined` when the key does not exist. */
  const withKey = <A>(path: string, sam: number, f: (h: number) => A): A | undefined => {
    const out = [0]
    const rc = RegOpenKeyExW(HKEY_CURRENT_USER, path, 0, sam, out)
    if (rc === ERROR_FILE_NOT_FOUND) return undefined
    check("RegOpenKeyExW", rc)
    try {
      return f(out[0]!)
    } finally {
      RegCloseKey(out[0]!)
    }
  }
  const withCreatedKey = <A>(path: string, sam: number, f: (h: number) => A): A => {
    const out = [0]
    check("RegCreateKeyExW", RegCreateKeyExW(HKEY_CURRENT_USER, path, 0, null, 0, sam, null, out, [0]))
    try {
      return f(out[0]!)
    } finally {
      RegCloseKey(out[0]!)
    }
  }
  const queryValue = (h: number, name: string): RegValue | undefined => {
    for (;;) {
      const type = [0]
      const size = [0]
      let rc = RegQueryValueExW(h, name, null, type, null, size)
      if (rc === ERROR_FILE_NOT_FOUND) return undefined
      check("RegQueryValueExW", rc)
      if (type[0] !== REG_SZ && type[0] !== REG_EXPAND_SZ) return { kind: "other", type: type[0]! }
      // Room for a terminator the writer may have left out.
      const buf = Buffer.alloc(size[0]! + 2)
      size[0] = buf.length
      rc = RegQueryValueExW(h, name, null, type, buf, size)
      // Grown in between: ask again.
      if (rc === ERROR_MORE_DATA) continue
      if (rc === ERROR_FILE_NOT_FOUND) return undefined
      check("RegQueryValueExW", rc)
      const text = buf.subarray(0, size[0]! - (size[0]! % 2)).toString("utf16le")
      const nul = text.indexOf("\0")
      return { kind: "string", data: nul === -1 ? text : text.slice(0, nul) }
    }
  }
  const registry: UserRegistry = {
    get: (path, name) => withKey(path, KEY_QUERY_VALUE, (h) => queryValue(h, name)),
    ensureKey: (path) => withCreatedKey(path, KEY_SET_VALUE | KEY_CREATE_SUB_KEY, () => undefined),
    setString: (path, name, data) =>
      withCreatedKey(path, KEY_SET_VALUE | KEY_CREATE_SUB_KEY, (h) => {
        const bytes = Buffer.from(`${data}\0`, "utf16le")
        check("RegSetValueExW", RegSetValueExW(h, name, 0, REG_SZ, bytes, bytes.length))
      }),
    deleteValue: (path, name) =>
      withKey(path, KEY_SET_VALUE, (h) => {
        const rc = RegDeleteValueW(h, name)
        if (rc !== ERROR_FILE_NOT_FOUND) check("RegDeleteValueW", rc)
      }),
    valueNames: (path) =>
      withKey(path, KEY_READ | KEY_ENUMERATE_SUB_KEYS, (h) => {
        const names: Array<string> = []
        const buf = Buffer.alloc(MAX_VALUE_NAME * 2)
        for (let i = 0;; i++) {
          const len = [MAX_VALUE_NAME]
          const rc = RegEnumValueW(h, i, buf, len, null, null, null, null)
          if (rc === ERROR_NO_MORE_ITEMS) return names
          check("RegEnumValueW", rc)
          names.push(buf.subarray(0, len[0]! * 2).toString("utf16le"))
        }
      }) ?? [],
    deleteKey: (path) => {
      const rc = RegDeleteKeyW(HKEY_CURRENT_USER, path)
      if (rc !== ERROR_FILE_NOT_FOUND) check("RegDeleteKeyW", rc)
    }
  }
  return { dpapi, registry }
}

// One per koffi instance: koffi's named types can be declared only once.
const made = new WeakMap<object, WinVault>()

/** DPAPI and the user's registry over a loaded koffi; throws on anything but Windows. */
export const makeWinVault = (koffi: Koffi): WinVault => {
  if (process.platform !== "win32") {
    throw new Error(`DPAPI and the registry exist on Windows only, not ${process.platform}`)
  }
  let v = made.get(koffi)
  if (v === undefined) {
    v = windowsVault(koffi)
    made.set(koffi, v)
  }
  return v
}
