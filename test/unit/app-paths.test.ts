/** Path resolution (spec section 4): config home, data dir and which rule chose it. */
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import { homedir } from "node:os"
import * as NodePath from "node:path"
import { AppPathsLive } from "../../layers/AppPathsLive.js"
import { PathsProblem, resolvePaths } from "../../src/domain/Paths.js"
import { AppPaths } from "../../src/services/AppPaths.js"

const HOME = "/home/alice"

describe("resolvePaths", () => {
  it("defaults on Linux", () => {
    expect(resolvePaths({}, HOME, "linux")).toEqual({
      home: "/home/alice/.olares-cli",
      configFile: "/home/alice/.olares-cli/config.json",
      locksDir: "/home/alice/.olares-cli/locks",
      dataDir: "/home/alice/.local/share/olares-cli",
      dataDirSource: "default"
    })
  })

  it("defaults on macOS", () => {
    const p = resolvePaths({}, "/Users/alice", "darwin")
    expect(p.home).toBe("/Users/alice/.olares-cli")
    expect(p.dataDir).toBe("/Users/alice/Library/Application Support/olares-cli")
    expect(p.dataDirSource).toBe("default")
  })

  it("OLARES_CLI_HOME is used verbatim and beats OLARES_CLI_CACHE_DIR", () => {
    expect(resolvePaths({ OLARES_CLI_HOME: "/x/cfg/", OLARES_CLI_CACHE_DIR: "/cache" }, HOME, "linux").home).toBe(
      "/x/cfg/"
    )
    expect(resolvePaths({ OLARES_CLI_HOME: "/x/cfg" }, HOME, "linux").configFile).toBe("/x/cfg/config.json")
    expect(resolvePaths({ OLARES_CLI_HOME: "/x/cfg" }, HOME, "linux").locksDir).toBe("/x/cfg/locks")
  })

  it("OLARES_CLI_CACHE_DIR moves both the config home and the data dir", () => {
    const p = resolvePaths({ OLARES_CLI_CACHE_DIR: "/olares/cache" }, HOME, "linux")
    expect(p.home).toBe("/olares/cache/config")
    expect(p.dataDir).toBe("/olares/cache/keychain/olares-cli")
    expect(p.dataDirSource).toBe("OLARES_CLI_CACHE_DIR")
  })

  it("OLARES_CLI_DATA_DIR wins for the data dir and is cleaned", () => {
    const p = resolvePaths({ OLARES_CLI_DATA_DIR: "/data//x/../y/", OLARES_CLI_CACHE_DIR: "/cache" }, HOME, "linux")
    expect(p.dataDir).toBe("/data/y/olares-cli")
    expect(p.dataDirSource).toBe("OLARES_CLI_DATA_DIR")
    expect(p.home).toBe("/cache/config")
  })

  it("relative values of any of the three are refused, naming the variable (never silently ignored)", () => {
    const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
      [{ OLARES_CLI_DATA_DIR: "data" }, "OLARES_CLI_DATA_DIR"],
      [{ OLARES_CLI_DATA_DIR: "../up", OLARES_CLI_CACHE_DIR: "/cache" }, "OLARES_CLI_DATA_DIR"],
      [{ OLARES_CLI_CACHE_DIR: "./cache" }, "OLARES_CLI_CACHE_DIR"],
      [{ OLARES_CLI_HOME: "relative/cfg" }, "OLARES_CLI_HOME"],
      [{ OLARES_CLI_HOME: "~/cfg" }, "OLARES_CLI_HOME"]
    ]
    for (const [env, name] of cases) {
      expect(() => resolvePaths(env, HOME, "linux")).toThrow(PathsProblem)
      expect(() => resolvePaths(env, HOME, "linux")).toThrow(new RegExp(`^${name}=.* is not an absolute path`))
    }
    try {
      resolvePaths({ OLARES_CLI_HOME: "~/cfg" }, HOME, "linux")
    } catch (e) {
      expect((e as PathsProblem).hint).toBe(
        "export OLARES_CLI_HOME=\"$HOME/cfg\" (an absolute path), or unset OLARES_CLI_HOME"
      )
    }
  })

  it("empty values count as unset", () => {
    expect(resolvePaths({ OLARES_CLI_HOME: "", OLARES_CLI_CACHE_DIR: "", OLARES_CLI_DATA_DIR: "" }, HOME, "linux"))
      .toEqual(resolvePaths({}, HOME, "linux"))
  })

  it("an unresolvable home is an error with a hint, never a shared fallback under the temp dir", () => {
    expect(() => resolvePaths({}, "", "linux")).toThrow(/cannot find your home directory/)
    expect(() => resolvePaths({ OLARES_CLI_HOME: "/h" }, "", "linux")).toThrow(/cannot find your home directory/)
    expect(() => resolvePaths({}, "relative-home", "linux")).toThrow(/HOME="relative-home" is not an absolute path/)
    // fully placed by the environment: no home directory needed
    expect(resolvePaths({ OLARES_CLI_HOME: "/h", OLARES_CLI_DATA_DIR: "/d" }, "", "linux").dataDir).toBe(
      "/d/olares-cli"
    )
    expect(resolvePaths({ OLARES_CLI_CACHE_DIR: "/c" }, "", "linux").home).toBe("/c/config")
  })

  it("Windows paths use Windows separators", () => {
    const p = resolvePaths({ OLARES_CLI_DATA_DIR: "D:\\olares" }, "C:\\Users\\alice", "win32")
    expect(p.home).toBe("C:\\Users\\alice\\.olares-cli")
    expect(p.dataDir).toBe("D:\\olares\\olares-cli")
  })

  it.prop(
    "the data dir is always absolute and ends in olares-cli, whatever the environment",
    [
      FastCheck.option(FastCheck.string()),
      FastCheck.option(FastCheck.string()),
      FastCheck.constantFrom<NodeJS.Platform>("linux", "darwin")
    ],
    ([data, cache, platform]) => {
      const env = {
        ...(data === null ? {} : { OLARES_CLI_DATA_DIR: data }),
        ...(cache === null ? {} : { OLARES_CLI_CACHE_DIR: cache })
      }
      let p
      try {
        p = resolvePaths(env, HOME, platform)
      } catch (e) {
        // the only way out is a refusal naming a variable that really is relative
        expect(e).toBeInstanceOf(PathsProblem)
        expect(
          [data, cache].some((v) => v !== null && v !== "" && !NodePath.posix.isAbsolute(NodePath.posix.normalize(v)))
        ).toBe(true)
        return
      }
      expect(NodePath.posix.isAbsolute(p.dataDir)).toBe(true)
      expect(NodePath.posix.basename(p.dataDir)).toBe("olares-cli")
      expect(p.configFile).toBe(NodePath.posix.join(p.home, "config.json"))
    }
  )
})

describe("AppPathsLive", () => {
  const withEnv = (env: Record<string, string>) =>
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

  it.effect("reads the environment through Config", () =>
    Effect.gen(function*() {
      const p = yield* AppPaths
      expect(p.home).toBe("/t/home")
      expect(p.dataDir).toBe("/t/data/olares-cli")
      expect(p.dataDirSource).toBe("OLARES_CLI_DATA_DIR")
    }).pipe(Effect.provide(AppPathsLive), withEnv({ OLARES_CLI_HOME: "/t/home", OLARES_CLI_DATA_DIR: "/t/data" })))

  it.effect("a relative OLARES_CLI_DATA_DIR is a UsageError (exit 2) naming it", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Effect.provide(AppPaths, AppPathsLive))
      expect(e._tag).toBe("UsageError")
      expect(e.exitCode).toBe(2)
      expect(e.message).toMatch(/^OLARES_CLI_DATA_DIR="data" is not an absolute path/)
    }).pipe(withEnv({ OLARES_CLI_DATA_DIR: "data" })))

  it.effect("with nothing set, the defaults under os.homedir()", () =>
    Effect.gen(function*() {
      const p = yield* AppPaths
      expect(p).toEqual(resolvePaths({}, homedir(), process.platform))
    }).pipe(Effect.provide(AppPathsLive), withEnv({})))
})
