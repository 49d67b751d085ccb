/**
 * `olares-cli --completions bash|zsh|fish` from the bundled CLI: each script is generated, names the
 * commands, and is the repaired one (@effect/cli 0.77 spells a hyphenated program name two ways,
 * Effect-TS/effect#6114). The bash script is exercised for real: sourced in bash, asked to complete.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { completionsShell, fixCompletionScript } from "../../src/completions.js"
import { makeTempHome, runCli, type TempHome } from "../support/cli.js"

let home: TempHome
const scripts: Record<string, string> = {}
let dir: string

const has = (bin: string) => spawnSync(bin, ["--version"], { stdio: "ignore" }).status === 0

beforeAll(async () => {
  home = makeTempHome()
  dir = mkdtempSync(join(tmpdir(), "olares-completions-"))
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = await runCli(["--completions", shell], { env: home.env })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe("")
    scripts[shell] = r.stdout
  }
})
afterAll(() => {
  home.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

/** What bash completes for the words typed so far (the last one is being completed). */
const bashComplete = (...words: Array<string>): Array<string> => {
  const file = join(dir, "olares-cli.bash")
  writeFileSync(file, scripts.bash!)
  const script = [
    `source ${file}`,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})`,
    `COMP_CWORD=${words.length - 1}`,
    `_olares-cli_bash_completions olares-cli '${words[words.length - 1]}' '${words[words.length - 2] ?? ""}'`,
    `printf '%s\\n' "\${COMPREPLY[@]}"`
  ].join("\n")
  const r = spawnSync("bash", ["--norc", "--noprofile", "-c", script], { encoding: "utf8" })
  expect(r.status, r.stderr).toBe(0)
  return r.stdout.split("\n").filter((l) => l !== "")
}

describe("completion scripts", () => {
  it.each(["bash", "zsh", "fish"])(
    "%s: generated, non-empty, names profile/login/doctor, one spelling of the name",
    (shell) => {
      const s = scripts[shell]!
      expect(s.length).toBeGreaterThan(1000)
      for (const word of ["olares-cli", "profile", "login", "list", "whoami", "doctor", "olares-id"]) {
        expect(s)
          .toContain(word)
      }
      expect(s).not.toContain("olares__cli")
      expect(s).not.toContain("Examples:") // descriptions are one paragraph
      // the framework's --wizard and --log-level are disabled, so never offered; --help and --version are
      expect(s).not.toMatch(/wizard|log-level/)
      for (const word of ["help", "version", "completions"]) expect(s).toContain(word)
    }
  )

  it("--completions=<shell> and `sh` (bash) work too", async () => {
    const eq = await runCli(["--completions=fish"], { env: home.env })
    expect(eq.stdout).toBe(scripts.fish)
    const sh = await runCli(["--completions", "sh"], { env: home.env })
    expect(sh.stdout).toBe(scripts.bash)
    expect(completionsShell(["profile", "--completions", "zsh"])).toBe("zsh")
    expect(completionsShell(["--completions", "powershell"])).toBeUndefined()
  })

  it.skipIf(!has("bash"))("bash: completes commands, subcommands, their flags and choices", () => {
    expect(bashComplete("olares-cli", "pro")).toEqual(["profile"])
    expect(bashComplete("olares-cli", "profile", "l").sort()).toEqual(["list", "login"])
    expect(bashComplete("olares-cli", "profile", "d")).toEqual(["doctor"])
    expect(bashComplete("olares-cli", "profile", "login", "--ol").sort()).toEqual(["--olares-id", "--olares-version"])
    expect(bashComplete("olares-cli", "profile", "doctor", "--of")).toEqual(["--offline"])
    expect(bashComplete("olares-cli", "profile", "list", "-o", "").sort()).toEqual(["json", "table"])
    expect(bashComplete("olares-cli", "profile", "remove", "--y")).toEqual(["--yes"])
    expect(bashComplete("olares-cli", "profile", "list", "--").sort()).toEqual(
      ["--completions", "--help", "--no-input", "--olares-version", "--output", "--refresh-version", "--version"]
    )
    expect(bashComplete("olares-cli", "--w")).toEqual([])
  })

  it.skipIf(!has("bash"))("bash: the script is valid bash", () => {
    const r = spawnSync("bash", ["-n"], { input: scripts.bash, encoding: "utf8" })
    expect(r.status, r.stderr).toBe(0)
  })

  it("zsh: every helper function the script calls is defined", () => {
    const s = scripts.zsh!
    const called = [...s.matchAll(/":: :(_[\w-]+)"/g)].map((m) => m[1]!)
    const defined = new Set([...s.matchAll(/^(_[\w-]+)\(\) \{$/gm)].map((m) => m[1]!))
    expect(called.length).toBeGreaterThanOrEqual(2)
    for (const f of called) expect(defined, f).toContain(f)
    expect(s).toContain("compdef _olares-cli_zsh_completions olares-cli")
    if (has("zsh")) expect(spawnSync("zsh", ["-n"], { input: s }).status).toBe(0)
  })

  it("fish: one `complete` command per line", () => {
    const lines = scripts.fish!.split("\n").filter((l) => l !== "")
    for (const l of lines) expect(l.startsWith("complete -c olares-cli "), l).toBe(true)
    if (has("fish")) expect(spawnSync("fish", ["-n"], { input: scripts.fish }).status).toBe(0)
  })

  it("the repair itself: names, third-level cases, word lists, descriptions", () => {
    const broken = [
      "            olares__cli,profile)",
      "                cmd=\"olares__cli__profile\"",
      "            olares-cli,profile,login)",
      "                    COMPREPLY=( $(compgen -W \"table,json\" -- \"${cur}\") )",
      "        'login:Log in'\\''s.",
      "",
      "Examples:",
      "  olares-cli profile login --olares-id a'\\''b' \\"
    ].join("\n")
    expect(fixCompletionScript(broken, "olares-cli", "bash")).toBe([
      "            olares-cli,profile)",
      "                cmd=\"olares-cli__profile\"",
      "            olares-cli__profile,login)",
      "                    COMPREPLY=( $(compgen -W \"table json\" -- \"${cur}\") )",
      "        'login:Log in'\\''s.' \\"
    ].join("\n"))
  })
})
