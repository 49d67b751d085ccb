/**
 * The start-up quick path (src/startup/quick.ts) against the Effect fast path it stands in for: served when
 * the home is plainly healthy, byte-for-byte the same stdout, stderr, exit code and files as an
 * `OLARES_CLI_QUICK=0` run, and declining (to the fast path, which then fixes, explains or waits)
 * whenever anything is off. `OLARES_CLI_DEBUG=1` makes bin.ts say which path served each run.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { encryptBlob } from "../../layers/internal/Blob.js"
import { type CliResult, homeAt, runCli, type TempHome } from "../support/cli.js"
import { useE2e } from "../support/e2e.js"
import { snapshot } from "../support/hardening-util.js"
import { removeWorkerBundle, spawnWorker } from "../support/repo-worker.js"
import { readConfig, recordFile, seedProfile } from "../support/seed.js"
import { mintJwt } from "../support/server.js"

const e2e = useE2e()

afterAll(() => removeWorkerBundle())

const ALICE_ID = "alice@olares.com"
const BOB_ID = "bob@olares.com"
const CAROL_ID = "carol@olares.com"
const DAVE_ID = "dave@olares.com"
const ERIN_ID = "erin@olares.com"

type Path = "quick" | "fast" | "full"

// ---------------------------------------------------------------------------------------------
// Homes and runs
// ---------------------------------------------------------------------------------------------

const configPath = (h: TempHome) => join(h.home, "config.json")
const storeDir = (h: TempHome) => join(h.data, "olares-cli")
const mode = (p: string) => statSync(p).mode & 0o777

const twins: Array<TempHome> = []
afterAll(() => {
  for (const t of twins.splice(0)) t.cleanup()
})

/** An identical copy of `h` (bytes and modes), so two runs can start from the very same state. */
const twin = (h: TempHome): TempHome => {
  const t = homeAt(mkdtempSync(join(tmpdir(), "olares-twin-")))
  twins.push(t)
  cpSync(h.root, t.root, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true })
  // cpSync keeps the times of files only: a lock directory's age decides whether it is stale.
  const keepDirTimes = (rel: string) => {
    const st = statSync(join(h.root, rel))
    utimesSync(join(t.root, rel), st.atime, st.mtime)
    for (const e of readdirSync(join(h.root, rel), { withFileTypes: true })) {
      if (e.isDirectory()) keepDirTimes(join(rel, e.name))
    }
  }
  keepDirTimes(".")
  // The copies must be indistinguishable, or the comparison would compare two different states.
  expect(snapshot(t.root)).toEqual(snapshot(h.root))
  return t
}

/** Runs `args` in `h` with the path trace on. */
const run = (h: TempHome, args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<CliResult> =>
  runCli(args, { env: { ...h.env, OLARES_CLI_DEBUG: "1", ...env } })

const TRACE = /^debug: served by the (quick|fast|full) path\n/gm

/** Which start-up path served the run (bin.ts traces exactly one). */
const servedBy = (r: CliResult): Path => {
  const hits = [...r.stderr.matchAll(TRACE)].map((m) => m[1] as Path)
  expect(hits, r.stderr).toHaveLength(1)
  return hits[0]!
}

/** The run as the user sees it without the trace, with the home's root replaced so two homes compare. */
const visible = (r: CliResult, h: TempHome) => ({
  code: r.code,
  signal: r.signal,
  stdout: r.stdout.replaceAll(h.root, "<root>"),
  stderr: r.stderr.replace(TRACE, "").replaceAll(h.root, "<root>")
})

/**
 * Runs `args` with the default start-up in `home` and with the tier switch `off` (which must hand the
 * run to `offPath`) in `offHome`, in parallel; asserts both print the same and returns both runs and
 * which path served the default one.
 */
const compareWith = async (
  off: Record<string, string>,
  offPath: Path,
  args: ReadonlyArray<string>,
  home: TempHome,
  offHome: TempHome,
  env: Record<string, string>
): Promise<{ readonly path: Path; readonly on: CliResult; readonly off: CliResult }> => {
  const [on, offRun] = await Promise.all([run(home, args, env), run(offHome, args, { ...env, ...off })])
  expect(servedBy(offRun), args.join(" ")).toBe(offPath)
  expect(visible(on, home), args.join(" ")).toEqual(visible(offRun, offHome))
  return { path: servedBy(on), on, off: offRun }
}

/**
 * Runs `args` with the default start-up in `quickHome` and with `OLARES_CLI_QUICK=0` in `fastHome`
 * (the same home for read-only runs), in parallel; asserts both print the same and returns which
 * path served the default run.
 */
const compare = async (
  args: ReadonlyArray<string>,
  quickHome: TempHome,
  fastHome: TempHome = quickHome,
  env: Record<string, string> = {}
): Promise<{ readonly path: Path; readonly quick: CliResult; readonly fast: CliResult }> => {
  const r = await compareWith({ OLARES_CLI_QUICK: "0" }, "fast", args, quickHome, fastHome, env)
  return { path: r.path, quick: r.on, fast: r.off }
}

// ---------------------------------------------------------------------------------------------
// Seeding
// ---------------------------------------------------------------------------------------------

const live = () => mintJwt({ ttl: 3600 })
const stale = () => mintJwt({ ttl: -60 })
/** A server-issued secret (recorded for the leak scan) that is no JWT: stored as an access token it is unparseable. */
const opaque = async () => (await e2e.server.issueGrant("alice")).refreshToken
const refresh = async () => (await e2e.server.issueGrant("alice")).refreshToken

/** The parts of config.json the seeds edit by hand. */
interface RawConfig {
  currentProfile?: string
  previousProfile?: string
  profiles: Array<Record<string, unknown>>
}

/** Rewrites config.json in place (the file keeps its mode). */
const editConfig = (h: TempHome, f: (c: RawConfig) => void) => {
  const c = JSON.parse(readFileSync(configPath(h), "utf8")) as RawConfig
  f(c)
  writeFileSync(configPath(h), JSON.stringify(c, null, 2))
}

/** Writes config.json by hand (as the Go CLI or a user would), with the modes the CLI itself uses. */
const writeConfig = (h: TempHome, text: string) => {
  mkdirSync(h.home, { recursive: true, mode: 0o700 })
  chmodSync(h.home, 0o700)
  writeFileSync(configPath(h), text, { mode: 0o600 })
  chmodSync(configPath(h), 0o600)
}

/** alice (logged in, current), bob (expired), carol as `work` (invalidated); no previous profile. */
const seedTrio = async (h: TempHome) => {
  await seedProfile(h, { olaresId: ALICE_ID, accessToken: await live(), refreshToken: await refresh() })
  await seedProfile(h, {
    olaresId: BOB_ID,
    accessToken: await stale(),
    refreshToken: await refresh(),
    makeCurrent: false
  })
  await seedProfile(h, {
    olaresId: CAROL_ID,
    name: "work",
    accessToken: await live(),
    invalidatedAt: 1_700_000_000_000,
    makeCurrent: false
  })
}

/** What `profile list -o json` must show for a state (proves the state is the one the label claims). */
type Row = {
  readonly name: string
  readonly status: string
  readonly current: boolean
  readonly version?: string | null
}

interface State {
  readonly label: string
  readonly seed: (h: TempHome) => Promise<void>
  readonly rows: ReadonlyArray<Row>
  /** What the table (`profile list`) must show beyond the rows. */
  readonly table?: RegExp
}

const GO_CONFIG = `{
  "schemaVersion": 3,
  "profiles": [
    {
      "olaresId": "alice@olares.com",
      "goOnlyField": { "nested": [1, 2.5, { "x": null }], "s": "ü" },
      "name": "home",
      "backendVersion": "1.12.5",
      "clusterContext": "olares-cluster",
      "authUrlOverride": "https://auth.alice.olares.com"
    },
    { "ownerRole": "admin", "olaresId": "bob@olares.com", "whoamiRefreshedAt": 1700000000, "futureFlag": true },
    { "olaresId": "dave@olares.com", "insecureSkipVerify": false, "managed": false }
  ],
  "telemetry": { "enabled": false }
}
`

const STATES: ReadonlyArray<State> = [
  { label: "no home at all", seed: async () => {}, rows: [] },
  { label: "an empty config.json", seed: async (h) => writeConfig(h, ""), rows: [] },
  { label: "an empty profile list", seed: async (h) => writeConfig(h, "{\n  \"profiles\": []\n}"), rows: [] },
  {
    label: "three profiles, current by olaresId",
    seed: seedTrio,
    rows: [
      { name: ALICE_ID, status: "logged-in", current: true, version: null },
      { name: BOB_ID, status: "expired", current: false },
      { name: "work", status: "invalidated", current: false }
    ]
  },
  {
    label: "every status, current by alias, a previous profile and a backend version",
    seed: async (h) => {
      await seedTrio(h)
      await seedProfile(h, { olaresId: ERIN_ID, accessToken: await opaque(), makeCurrent: false })
      editConfig(h, (c) => {
        c.profiles.splice(3, 0, { olaresId: DAVE_ID })
        c.profiles[0]!.backendVersion = "1.12.6"
        c.currentProfile = "work"
        c.previousProfile = ALICE_ID
      })
    },
    rows: [
      { name: ALICE_ID, status: "logged-in", current: false, version: "1.12.6" },
      { name: BOB_ID, status: "expired", current: false, version: null },
      { name: "work", status: "invalidated", current: true },
      { name: DAVE_ID, status: "never", current: false },
      { name: ERIN_ID, status: "logged-in (unparseable token)", current: false }
    ]
  },
  {
    label: "written by the Go CLI: unknown fields, another key order, no current profile",
    seed: async (h) => {
      await seedProfile(h, { olaresId: ALICE_ID, accessToken: await live() })
      await seedProfile(h, { olaresId: BOB_ID, accessToken: await stale() })
      writeConfig(h, GO_CONFIG)
    },
    rows: [
      { name: "home", status: "logged-in", current: true, version: "1.12.5" },
      { name: BOB_ID, status: "expired", current: false },
      { name: DAVE_ID, status: "never", current: false }
    ]
  },
  {
    label: "platform-issued profiles (pending, exchanged) beside a local one: the SOURCE column",
    seed: async (h) => {
      await seedProfile(h, { olaresId: ALICE_ID, accessToken: await live() })
      await seedProfile(h, { olaresId: BOB_ID, accessToken: "", makeCurrent: false })
      await seedProfile(h, { olaresId: ERIN_ID, accessToken: await live(), makeCurrent: false })
      editConfig(h, (c) => {
        c.profiles[1]!.managed = true
        c.profiles[1]!.appName = "lares"
        c.profiles[2]!.managed = true
        c.profiles.push({ olaresId: DAVE_ID, managed: true, appName: "files" })
      })
    },
    rows: [
      { name: ALICE_ID, status: "logged-in", current: true },
      { name: BOB_ID, status: "pending", current: false },
      { name: ERIN_ID, status: "logged-in", current: false },
      { name: DAVE_ID, status: "pending", current: false }
    ],
    table:
      /^ {4}NAME +OLARES-ID +STATUS +VERSION +SOURCE\n\* +alice@olares\.com +alice@olares\.com +logged-in +- +local\n +bob@olares\.com +bob@olares\.com +pending +- +platform\(lares\)\n +erin@olares\.com +erin@olares\.com +logged-in +- +platform\n +dave@olares\.com +dave@olares\.com +pending +- +platform\(files\)\n$/
  },
  {
    label: "current names a profile that is gone",
    seed: async (h) => {
      await seedTrio(h)
      editConfig(h, (c) => (c.currentProfile = "gone@olares.com"))
    },
    rows: [
      { name: ALICE_ID, status: "logged-in", current: false },
      { name: BOB_ID, status: "expired", current: false },
      { name: "work", status: "invalidated", current: false }
    ]
  }
]

const LISTS: ReadonlyArray<ReadonlyArray<string>> = [
  ["profile", "list"],
  ["profile", "list", "-o", "json"],
  ["profile", "list", "--output=table"]
]

// ---------------------------------------------------------------------------------------------
// Healthy homes: the quick path serves, and prints exactly what the fast path prints
// ---------------------------------------------------------------------------------------------

describe("profile list on a healthy home", () => {
  for (const state of STATES) {
    it(`${state.label}: served by the quick path, same bytes as OLARES_CLI_QUICK=0, nothing touched`, async () => {
      const h = e2e.home
      await state.seed(h)
      const before = snapshot(h.root)
      const runs = await Promise.all(LISTS.map((args) => compare(args, h)))
      for (const [i, r] of runs.entries()) {
        expect(r.path, LISTS[i]!.join(" ")).toBe("quick")
        expect(r.quick.code).toBe(0)
        expect(r.quick.stderr.replace(TRACE, "")).toBe("")
      }
      const doc = JSON.parse(runs[1]!.quick.stdout) as { profiles: Array<Row> }
      expect(doc.profiles).toMatchObject(state.rows)
      if (state.table !== undefined) expect(runs[0]!.quick.stdout).toMatch(state.table)
      if (state.rows.length === 0) expect(runs[0]!.quick.stdout).toMatch(/^no profiles configured\./)
      expect(runs[2]!.quick.stdout).toBe(runs[0]!.quick.stdout)
      expect(snapshot(h.root)).toEqual(before)
    })
  }

  it("OLARES_CLI_KEYSTORE=file (padded too) still takes the quick path", async () => {
    await seedTrio(e2e.home)
    for (const value of ["file", " file "]) {
      const r = await compare(["profile", "list", "-o", "json"], e2e.home, e2e.home, { OLARES_CLI_KEYSTORE: value })
      expect(r.path).toBe("quick")
      expect(r.quick.code).toBe(0)
    }
  })
})

// ---------------------------------------------------------------------------------------------
// profile use: the same sequence on twin homes writes the same config.json, step by step
// ---------------------------------------------------------------------------------------------

describe("profile use on a healthy home", () => {
  const sequences: ReadonlyArray<readonly [string, (h: TempHome) => Promise<void>, ReadonlyArray<string>]> = [
    ["seeded by the CLI", seedTrio, [BOB_ID, "-", "-", "work", "work", CAROL_ID, "-", ALICE_ID, "-"]],
    [
      "written by the Go CLI (the first write canonicalises it)",
      async (h) => {
        await seedProfile(h, { olaresId: ALICE_ID, accessToken: await live() })
        writeConfig(h, GO_CONFIG)
      },
      ["home", ALICE_ID, DAVE_ID, "-", "-", BOB_ID, "home"]
    ]
  ]
  for (const [label, seed, keys] of sequences) {
    it(`${label}: every step served by the quick path, same output and config.json bytes as OLARES_CLI_QUICK=0`, async () => {
      await seed(e2e.home)
      const quickHome = e2e.home
      const fastHome = twin(quickHome)
      for (const key of keys) {
        const r = await compare(["profile", "use", key], quickHome, fastHome)
        expect(r.path, `use ${key}`).toBe("quick")
        expect(r.quick.code, r.quick.stderr).toBe(0)
        expect(r.quick.stdout).toMatch(/^switched to profile \S+ \(\S+@olares\.com\)\n$/)
        expect(readFileSync(configPath(quickHome), "utf8"), `use ${key}`).toBe(
          readFileSync(configPath(fastHome), "utf8")
        )
        expect(mode(configPath(quickHome))).toBe(0o600)
      }
      // locks dir, lock file, records, and no temp file left behind
      expect(snapshot(quickHome.root)).toEqual(snapshot(fastHome.root))
      expect(readdirSync(quickHome.home).filter((n) => n.startsWith(".tmp-"))).toEqual([])
    })
  }

  it("the pointers move as `profile use` documents", async () => {
    await seedTrio(e2e.home)
    const step = async (key: string, want: string) => {
      const r = await run(e2e.home, ["profile", "use", key])
      expect(servedBy(r)).toBe("quick")
      expect(r.stdout).toBe(`switched to profile ${want}\n`)
    }
    await step(BOB_ID, `${BOB_ID} (${BOB_ID})`)
    await step("work", `work (${CAROL_ID})`)
    await step("-", `${BOB_ID} (${BOB_ID})`)
    const cfg = await readConfig(e2e.home)
    expect(cfg.currentProfile).toBe(BOB_ID)
    expect(cfg.previousProfile).toBe("work")
  })
})

// ---------------------------------------------------------------------------------------------
// Declines: the fast path runs instead, and the outcome is exactly an OLARES_CLI_QUICK=0 run's
// ---------------------------------------------------------------------------------------------

interface Decline {
  readonly label: string
  readonly args: ReadonlyArray<string>
  readonly breakHome: (h: TempHome) => void | Promise<void>
  readonly env?: Record<string, string>
  readonly check: (r: CliResult, h: TempHome) => void
}

const listJson = ["profile", "list", "-o", "json"]
const statuses = (r: CliResult) => (JSON.parse(r.stdout) as { profiles: Array<Row> }).profiles.map((p) => p.status)

const DECLINES: ReadonlyArray<Decline> = [
  {
    label: "config.json mode 0644",
    args: listJson,
    breakHome: (h) => chmodSync(configPath(h), 0o644),
    check: (r, h) => {
      expect(r.code).toBe(0)
      expect(r.stderr).toContain(
        `warning: config file ${configPath(h)} was mode 0644, open to other users; changed to 0600`
      )
      expect(mode(configPath(h))).toBe(0o600)
      expect(statuses(r)).toEqual(["logged-in", "expired", "invalidated"])
    }
  },
  {
    label: "config home mode 0755",
    args: ["profile", "list"],
    breakHome: (h) => chmodSync(h.home, 0o755),
    check: (r, h) => {
      expect(r.code).toBe(0)
      expect(r.stderr).toContain(`config directory ${h.home} was mode 0755`)
      expect(mode(h.home)).toBe(0o700)
    }
  },
  {
    label: "a token record with mode 0644",
    args: listJson,
    breakHome: async (h) => chmodSync(await recordFile(h, BOB_ID), 0o644),
    check: (r, h) => {
      expect(r.code).toBe(0)
      const rec = join(storeDir(h), "bob_olares.com.enc")
      expect(r.stderr).toContain(`warning: fixed permissions of ${rec} from 0644 to 0600\n`)
      expect(mode(rec)).toBe(0o600)
      expect(statuses(r)).toEqual(["logged-in", "expired", "invalidated"])
    }
  },
  {
    label: "the token store directory with mode 0755",
    args: listJson,
    breakHome: (h) => chmodSync(storeDir(h), 0o755),
    check: (r, h) => {
      expect(r.code).toBe(0)
      expect(r.stderr).toContain(`fixed permissions of ${storeDir(h)} from 0755 to 0700`)
      expect(mode(storeDir(h))).toBe(0o700)
    }
  },
  {
    label: "a flipped byte in a record",
    args: listJson,
    breakHome: async (h) => {
      const p = await recordFile(h, ALICE_ID)
      const b = readFileSync(p)
      b[20] = b[20]! ^ 0x01
      writeFileSync(p, b)
    },
    check: (r) => {
      expect(r.code).toBe(0)
      expect(statuses(r)).toEqual(["unknown", "expired", "invalidated"])
    }
  },
  {
    label: "a truncated record",
    args: ["profile", "list"],
    breakHome: async (h) => {
      const p = await recordFile(h, BOB_ID)
      writeFileSync(p, readFileSync(p).subarray(0, 20))
    },
    check: (r) => {
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/bob@olares\.com +unknown/)
    }
  },
  {
    label: "a record that decrypts to a mistyped token record",
    args: ["profile", "list"],
    breakHome: async (h) => {
      const key = readFileSync(join(storeDir(h), "master.key"))
      writeFileSync(
        await recordFile(h, BOB_ID),
        encryptBlob(JSON.stringify({ olaresId: BOB_ID, accessToken: 42 }), key)
      )
    },
    check: (r) => {
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/bob@olares\.com +unknown/)
    }
  },
  {
    label: "master.key of 31 bytes",
    args: listJson,
    breakHome: (h) => {
      const p = join(storeDir(h), "master.key")
      writeFileSync(p, readFileSync(p).subarray(0, 31))
    },
    check: (r) => {
      expect(r.code).toBe(0)
      expect(statuses(r)).toEqual(["unknown", "unknown", "unknown"])
    }
  },
  {
    label: "master.key missing while records exist",
    args: listJson,
    breakHome: (h) => rmSync(join(storeDir(h), "master.key")),
    check: (r) => {
      expect(r.code).toBe(0)
      expect(statuses(r)).toEqual(["unknown", "unknown", "unknown"])
    }
  },
  {
    label: "OLARES_CLI_KEYSTORE=bogus",
    args: listJson,
    breakHome: () => {},
    env: { OLARES_CLI_KEYSTORE: "bogus" },
    check: (r) => {
      expect(r.code).toBe(0)
      expect(r.stderr).toContain("OLARES_CLI_KEYSTORE=bogus")
      expect(r.stderr).toMatch(/^warning: /m)
      expect(statuses(r)).toEqual(["logged-in", "expired", "invalidated"])
    }
  },
  {
    label: "OLARES_CLI_KEYSTORE=memory (another backend)",
    args: listJson,
    breakHome: () => {},
    env: { OLARES_CLI_KEYSTORE: "memory" },
    check: (r) => {
      expect(r.code).toBe(0)
      expect(statuses(r)).toEqual(["never", "never", "never"])
    }
  },
  {
    label: "config.json that is not JSON (list)",
    args: ["profile", "list"],
    breakHome: (h) => writeFileSync(configPath(h), "{\"profiles\": [ {\"olaresId\": "),
    check: (r, h) => {
      expect(r.code).toBe(1)
      expect(r.stdout).toBe("")
      expect(r.stderr).toContain(configPath(h))
      expect(r.stderr).toMatch(/not valid JSON/)
    }
  },
  {
    label: "config.json with a mistyped field (use)",
    args: ["profile", "use", BOB_ID],
    breakHome: (h) => writeFileSync(configPath(h), "{\"currentProfile\": 3, \"profiles\": []}"),
    check: (r, h) => {
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(configPath(h))
      expect(r.stderr).toMatch(/currentProfile: expected string/)
      expect(readFileSync(configPath(h), "utf8")).toBe("{\"currentProfile\": 3, \"profiles\": []}")
    }
  },
  {
    label: "a hand-edited profile with an empty olaresId",
    args: listJson,
    breakHome: (h) => editConfig(h, (c) => void c.profiles.push({ olaresId: "" })),
    check: (r) => {
      expect(r.code).toBe(0)
      expect(statuses(r)).toEqual(["logged-in", "expired", "invalidated", "unknown"])
    }
  },
  {
    label: "use nobody",
    args: ["profile", "use", "nobody"],
    breakHome: () => {},
    check: (r) => {
      expect(r.code).toBe(6)
      expect(r.stdout).toBe("")
      expect(r.stderr).toContain("profile \"nobody\" not found")
    }
  },
  {
    label: "use - without a previous profile",
    args: ["profile", "use", "-"],
    breakHome: () => {},
    check: (r) => {
      expect(r.code).toBe(6)
      expect(r.stderr).toContain("no previous profile to switch back to")
    }
  },
  {
    label: "use in a home that does not exist",
    args: ["profile", "use", BOB_ID],
    breakHome: (h) => rmSync(h.home, { recursive: true }),
    check: (r) => {
      expect(r.code).toBe(6)
      expect(r.stderr).toContain(`profile "${BOB_ID}" not found`)
    }
  },
  {
    label: "use with config.json mode 0644",
    args: ["profile", "use", "work"],
    breakHome: (h) => chmodSync(configPath(h), 0o644),
    check: (r, h) => {
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(`switched to profile work (${CAROL_ID})\n`)
      expect(r.stderr).toContain("was mode 0644")
      expect(mode(configPath(h))).toBe(0o600)
      expect(JSON.parse(readFileSync(configPath(h), "utf8"))).toMatchObject({
        currentProfile: "work",
        previousProfile: ALICE_ID
      })
    }
  },
  {
    label: "use with config.lock a symbolic link",
    args: ["profile", "use", BOB_ID],
    breakHome: (h) => {
      mkdirSync(join(h.home, "locks"), { recursive: true, mode: 0o700 })
      rmSync(join(h.home, "locks", "config.lock"), { force: true })
      symlinkSync("planted-target", join(h.home, "locks", "config.lock"))
    },
    check: (r, h) => {
      // refused, never followed: the target is not created and nothing is switched
      expect(r.code).toBe(1)
      expect(r.stderr).toContain("symbolic link")
      expect(existsSync(join(h.home, "locks", "planted-target"))).toBe(false)
      expect(JSON.parse(readFileSync(configPath(h), "utf8")).currentProfile).not.toBe(BOB_ID)
    }
  }
]

describe("the quick path declines", () => {
  for (const d of DECLINES) {
    it(`${d.label}: the fast path serves, exactly as with OLARES_CLI_QUICK=0`, async () => {
      await seedTrio(e2e.home)
      await d.breakHome(e2e.home)
      const quickHome = e2e.home
      const fastHome = twin(quickHome)
      const r = await compare(d.args, quickHome, fastHome, d.env)
      expect(r.path).toBe("fast")
      d.check(r.quick, quickHome)
      // the fast path fixed (or left) both homes the same way, whichever start-up it came from
      expect(snapshot(quickHome.root)).toEqual(snapshot(fastHome.root))
    })
  }
})

// ---------------------------------------------------------------------------------------------
// Locks and concurrency (real processes)
// ---------------------------------------------------------------------------------------------

describe("the config lock", () => {
  it("held by another process: use declines to the fast path, waits, and switches once it is released", async () => {
    const h = e2e.home
    await seedTrio(h)
    const before = readFileSync(configPath(h), "utf8")
    const holder = spawnWorker(["hold", join(h.home, "locks", "config.lock")])
    try {
      await holder.waitFor("locked")
      let done = false
      const use = run(h, ["profile", "use", BOB_ID]).finally(() => (done = true))
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      // still waiting, and nothing written under someone else's lock
      expect(done).toBe(false)
      expect(readFileSync(configPath(h), "utf8")).toBe(before)
      holder.child.kill("SIGKILL") // the kernel releases a dead holder's lock at once
      await holder.exited
      const r = await use
      expect(servedBy(r)).toBe("fast")
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toBe(`switched to profile ${BOB_ID} (${BOB_ID})\n`)
      expect(await readConfig(h)).toMatchObject({ currentProfile: BOB_ID, previousProfile: ALICE_ID })
    } finally {
      holder.child.kill("SIGKILL")
      await holder.exited
    }
  })

  it("16 concurrent uses alternating two profiles, with 4 concurrent full-path imports: nothing lost or left behind", async () => {
    const h = e2e.home
    await seedProfile(h, { olaresId: ALICE_ID, accessToken: await live() })
    await seedProfile(h, { olaresId: BOB_ID, accessToken: await live(), makeCurrent: false })
    const importers = ["qpa", "qpb", "qpc", "qpd"]
    for (const u of importers) e2e.server.addUser({ username: u, password: `${u}-password-xyz` })
    const grants = await Promise.all(importers.map((u) => e2e.server.issueGrant(u)))

    const uses = Array.from({ length: 16 }, (_, i) => {
      const id = i % 2 === 0 ? BOB_ID : ALICE_ID
      return run(h, ["profile", "use", id]).then((r) => ({ id, r }))
    })
    const imports = importers.map((u, i) =>
      run(h, [
        "profile",
        "import",
        "--olares-id",
        `${u}@olares.com`,
        "--auth-url-override",
        e2e.server.url,
        "--no-switch"
      ], {
        OLARES_REFRESH_TOKEN: grants[i]!.refreshToken
      })
    )
    const [used, imported] = await Promise.all([Promise.all(uses), Promise.all(imports)])

    const paths = used.map(({ id, r }) => {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toBe(`switched to profile ${id} (${id})\n`)
      return servedBy(r)
    })
    // a use that met the lock held declined and waited in the fast path; none went anywhere else
    for (const p of paths) expect(["quick", "fast"]).toContain(p)
    expect(paths).toContain("quick")
    for (const r of imported) {
      expect(r.code, r.stderr).toBe(0)
      expect(servedBy(r)).toBe("full")
    }

    const cfg = await readConfig(h) // the Schema decode: the file is whole and valid
    expect([ALICE_ID, BOB_ID]).toContain(cfg.currentProfile)
    expect([ALICE_ID, BOB_ID]).toContain(cfg.previousProfile)
    expect(cfg.previousProfile).not.toBe(cfg.currentProfile)
    expect(cfg.profiles.map((p) => p.olaresId).sort()).toEqual(
      [ALICE_ID, BOB_ID, ...importers.map((u) => `${u}@olares.com`)].sort()
    )
    expect(mode(configPath(h))).toBe(0o600)
    expect(readdirSync(h.home).filter((n) => n.startsWith(".tmp-"))).toEqual([])
    const locks = join(h.home, "locks")
    expect(readdirSync(locks).filter((n) => statSync(join(locks, n)).isDirectory())).toEqual([])

    // and the quick path is back in business afterwards
    const after = await run(h, ["profile", "use", cfg.currentProfile!])
    expect(servedBy(after)).toBe("quick")
    expect(after.code).toBe(0)
  })
})

// ---------------------------------------------------------------------------------------------
// The fast tier against the full CLI: `profile remove <key> --yes` and `profile doctor --offline`
// ---------------------------------------------------------------------------------------------

/**
 * Runs `args` with the default start-up in `fastHome` and with `OLARES_CLI_FAST=0` (the full CLI)
 * in `fullHome`, in parallel; asserts both print the same and returns which path served the default run.
 */
const compareFull = async (
  args: ReadonlyArray<string>,
  fastHome: TempHome,
  fullHome: TempHome,
  env: Record<string, string> = {}
): Promise<{ readonly path: Path; readonly fast: CliResult; readonly full: CliResult }> => {
  const r = await compareWith({ OLARES_CLI_FAST: "0" }, "full", args, fastHome, fullHome, env)
  return { path: r.path, fast: r.on, full: r.off }
}

interface FullCase {
  readonly label: string
  readonly args: ReadonlyArray<string>
  readonly seed?: (h: TempHome) => Promise<void>
  readonly breakHome?: (h: TempHome) => void | Promise<void>
  readonly env?: Record<string, string>
  /** What proves the state is the one the label claims. */
  readonly check: (r: CliResult, h: TempHome) => void | Promise<void>
}

const removeYes = (key: string) => ["profile", "remove", key, "--yes"]
const doctorOffline = ["profile", "doctor", "--offline"]
const doctorJson = ["profile", "doctor", "--offline", "-o", "json"]
const doctorDoc = (r: CliResult) =>
  JSON.parse(r.stdout) as { healthy: boolean; problems: Array<{ code: string }>; profiles: Array<unknown> }
const problemCodes = (r: CliResult) => doctorDoc(r).problems.map((p) => p.code)

const FULL_CASES: ReadonlyArray<FullCase> = [
  {
    label: "remove a profile that is not the current one",
    args: removeYes(BOB_ID),
    check: (r, h) => {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toBe(`removed profile ${BOB_ID} (${BOB_ID})\ncurrent profile is now: ${ALICE_ID}\n`)
      expect(existsSync(join(storeDir(h), "bob_olares.com.enc"))).toBe(false)
    }
  },
  {
    label: "remove the current profile",
    args: ["profile", "remove", "-y", ALICE_ID],
    check: (r) => {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/^removed profile alice@olares\.com \(alice@olares\.com\)\n/)
    }
  },
  {
    label: "remove by alias",
    args: removeYes("work"),
    check: (r) => {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/^removed profile work \(carol@olares\.com\)\n/)
    }
  },
  {
    label: "remove the last profile (the store is purged)",
    args: removeYes(ALICE_ID),
    seed: async (h) => {
      await seedProfile(h, { olaresId: ALICE_ID, accessToken: await live(), refreshToken: await refresh() })
    },
    check: (r, h) => {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toContain("no profiles remain.\n")
      expect(existsSync(join(storeDir(h), "master.key"))).toBe(false)
    }
  },
  {
    label: "remove with config.json mode 0644",
    args: removeYes(BOB_ID),
    breakHome: (h) => chmodSync(configPath(h), 0o644),
    check: (r, h) => {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toContain("was mode 0644")
      expect(mode(configPath(h))).toBe(0o600)
    }
  },
  {
    label: "remove with the token store directory mode 0755",
    args: removeYes(BOB_ID),
    breakHome: (h) => chmodSync(storeDir(h), 0o755),
    check: (r, h) => {
      expect(r.code, r.stderr).toBe(0)
      expect(existsSync(join(storeDir(h), "bob_olares.com.enc"))).toBe(false)
    }
  },
  {
    label: "remove with config.json that is not JSON",
    args: removeYes(BOB_ID),
    breakHome: (h) => writeFileSync(configPath(h), "{\"profiles\": [ {\"olaresId\": "),
    check: (r, h) => {
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/not valid JSON/)
      expect(readFileSync(configPath(h), "utf8")).toBe("{\"profiles\": [ {\"olaresId\": ")
      expect(existsSync(join(storeDir(h), "bob_olares.com.enc"))).toBe(true)
    }
  },
  {
    label: "remove a profile whose record is missing",
    args: removeYes(DAVE_ID),
    breakHome: (h) => editConfig(h, (c) => void c.profiles.push({ olaresId: DAVE_ID })),
    check: (r) => {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/^removed profile dave@olares\.com/)
    }
  },
  {
    label: "remove with master.key missing",
    args: removeYes(BOB_ID),
    breakHome: (h) => rmSync(join(storeDir(h), "master.key")),
    check: (r) => expect(r.stdout + r.stderr).toContain(BOB_ID)
  },
  {
    label: "remove an unknown profile",
    args: removeYes("nobody"),
    check: (r) => {
      expect(r.code).toBe(6)
      expect(r.stdout).toBe("")
      expect(r.stderr).toContain("profile \"nobody\" not found")
    }
  },
  {
    label: "remove a platform-managed profile (refused)",
    args: removeYes(BOB_ID),
    breakHome: (h) =>
      editConfig(h, (c) => {
        c.profiles[1]!.managed = true
        c.profiles[1]!.appName = "lares"
      }),
    check: (r, h) => {
      expect(r.code).not.toBe(0)
      expect(r.stdout).toBe("")
      expect(existsSync(join(storeDir(h), "bob_olares.com.enc"))).toBe(true)
    }
  },
  {
    label: "remove a stray token record (no profile names it)",
    args: removeYes(ERIN_ID),
    breakHome: async (h) => {
      await seedProfile(h, { olaresId: ERIN_ID, accessToken: await live(), makeCurrent: false })
      editConfig(h, (c) => void (c.profiles = c.profiles.filter((p) => p.olaresId !== ERIN_ID)))
    },
    check: (r, h) => {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toBe(`removed stray token record for ${ERIN_ID} (it had no profile in config.json)\n`)
      expect(existsSync(join(storeDir(h), "erin_olares.com.enc"))).toBe(false)
    }
  },
  {
    label: "remove with OLARES_CLI_KEYSTORE=bogus",
    args: removeYes(BOB_ID),
    env: { OLARES_CLI_KEYSTORE: "bogus" },
    check: (r) => {
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toContain("OLARES_CLI_KEYSTORE=bogus")
    }
  },
  {
    label: "doctor on a healthy home",
    args: doctorOffline,
    check: (r) => {
      expect(r.stdout).toMatch(/^token store\n/)
      expect(r.stdout).toContain(ALICE_ID)
    }
  },
  {
    label: "doctor -o json on a healthy home",
    args: doctorJson,
    check: (r) => expect(doctorDoc(r).profiles).toHaveLength(3)
  },
  {
    label: "doctor on no home at all",
    args: doctorJson,
    seed: async () => {},
    check: (r) => {
      expect(r.code).toBe(0)
      expect(problemCodes(r)).toContain("no_profiles")
    }
  },
  {
    label: "doctor with config.json mode 0644 and the home 0755",
    args: doctorOffline,
    breakHome: (h) => {
      chmodSync(configPath(h), 0o644)
      chmodSync(h.home, 0o755)
    },
    check: (r, h) => {
      expect(r.stderr).toContain("was mode 0644")
      expect(mode(configPath(h))).toBe(0o600)
    }
  },
  {
    label: "doctor -o json with a record mode 0644 and the store 0755",
    args: doctorJson,
    breakHome: async (h) => {
      chmodSync(await recordFile(h, BOB_ID), 0o644)
      chmodSync(storeDir(h), 0o755)
    },
    check: (r) => expect(r.stderr).toContain("fixed permissions")
  },
  {
    label: "doctor -o json with config.json that is not JSON",
    args: doctorJson,
    breakHome: (h) => writeFileSync(configPath(h), "{\"profiles\": [ {\"olaresId\": "),
    check: (r) => {
      expect(r.code).toBe(1)
      expect(doctorDoc(r).healthy).toBe(false)
    }
  },
  {
    label: "doctor with a flipped byte in a record and master.key of 31 bytes",
    args: doctorOffline,
    breakHome: async (h) => {
      const p = await recordFile(h, ALICE_ID)
      const b = readFileSync(p)
      b[20] = b[20]! ^ 0x01
      writeFileSync(p, b)
      const k = join(storeDir(h), "master.key")
      writeFileSync(k, readFileSync(k).subarray(0, 31))
    },
    check: (r) => expect(r.code).toBe(1)
  },
  {
    label: "doctor -o json with a managed profile and a missing record",
    args: doctorJson,
    breakHome: (h) =>
      editConfig(h, (c) => {
        c.profiles[1]!.managed = true
        c.profiles.push({ olaresId: DAVE_ID })
      }),
    check: (r) => expect(doctorDoc(r).profiles).toHaveLength(4)
  },
  {
    label: "doctor with OLARES_CLI_KEYSTORE=memory",
    args: doctorOffline,
    env: { OLARES_CLI_KEYSTORE: "memory" },
    check: (r) => expect(r.stdout).toMatch(/backend +memory/)
  }
]

describe("the fast tier (remove --yes, doctor --offline) against the full CLI", () => {
  for (const c of FULL_CASES) {
    it(`${c.label}: served by the fast path, exactly as with OLARES_CLI_FAST=0`, async () => {
      await (c.seed ?? seedTrio)(e2e.home)
      await c.breakHome?.(e2e.home)
      const fastHome = e2e.home
      const fullHome = twin(fastHome)
      const r = await compareFull(c.args, fastHome, fullHome, c.env)
      expect(r.path).toBe("fast")
      await c.check(r.fast, fastHome)
      expect(snapshot(fastHome.root)).toEqual(snapshot(fullHome.root))
    })
  }

  it("the config lock held: remove waits in both, then removes the same; doctor reports it the same", async () => {
    await seedTrio(e2e.home)
    const fastHome = e2e.home
    const fullHome = twin(fastHome)
    const holders = [fastHome, fullHome].map((h) => spawnWorker(["hold", join(h.home, "locks", "config.lock")]))
    try {
      await Promise.all(holders.map((w) => w.waitFor("locked")))
      const doctor = await compareFull(doctorJson, fastHome, fullHome)
      expect(doctor.path).toBe("fast")
      const before = readFileSync(configPath(fastHome), "utf8")
      let done = false
      const removing = compareFull(removeYes(BOB_ID), fastHome, fullHome).finally(() => (done = true))
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      expect(done).toBe(false)
      expect(readFileSync(configPath(fastHome), "utf8")).toBe(before)
      for (const w of holders) w.child.kill("SIGKILL")
      await Promise.all(holders.map((w) => w.exited))
      const r = await removing
      expect(r.path).toBe("fast")
      expect(r.fast.code, r.fast.stderr).toBe(0)
      expect(snapshot(fastHome.root)).toEqual(snapshot(fullHome.root))
    } finally {
      for (const w of holders) w.child.kill("SIGKILL")
      await Promise.all(holders.map((w) => w.exited))
    }
  })
})

// ---------------------------------------------------------------------------------------------
// profile whoami from the cache: the quick tier against the full CLI
// ---------------------------------------------------------------------------------------------

/** A loopback port nothing listens on: a whoami that reads the network fails the same way in both runs. */
const CLOSED = "http://127.0.0.1:9"

/** alice (current) with a cached role, refresh time and version, beside seedTrio's bob and carol. */
const seedCached = async (h: TempHome) => {
  await seedTrio(h)
  editConfig(h, (c) =>
    Object.assign(c.profiles[0]!, {
      ownerRole: "owner",
      whoamiRefreshedAt: Math.floor(Date.now() / 1000) - 7200,
      backendVersion: "1.12.5"
    }))
}

/** Makes `id` the current profile with a cached role. */
const currentWithRole = (h: TempHome, id: string) =>
  editConfig(h, (c) => {
    c.currentProfile = id
    for (const p of c.profiles) if (p.olaresId === id) p.ownerRole = "admin"
  })

const WHOAMI_CASES: ReadonlyArray<FullCase & { readonly path: Path }> = [
  {
    label: "cached role, refresh time and version",
    path: "quick",
    args: ["profile", "whoami"],
    check: (r) =>
      expect(r.stdout).toBe(
        `${ALICE_ID} — Owner\nfrom cache, refreshed 2h ago\nprofile: ${ALICE_ID}   version: 1.12.5\n`
      )
  },
  {
    label: "-o json",
    path: "quick",
    args: ["profile", "whoami", "-o", "json"],
    check: (r) =>
      expect(JSON.parse(r.stdout)).toMatchObject({
        olaresId: ALICE_ID,
        role: "owner",
        roleLabel: "Owner",
        source: "cache",
        refreshedAgoSecs: expect.any(Number),
        backendVersion: "1.12.5"
      })
  },
  {
    label: "current by alias, no refresh time, a loopback auth override, an odd role",
    path: "quick",
    args: ["profile", "whoami", "--output=JSON"],
    breakHome: (h) =>
      editConfig(h, (c) => {
        Object.assign(c.profiles[0]!, { name: "home", authUrlOverride: CLOSED, ownerRole: "super_user" })
        delete c.profiles[0]!.whoamiRefreshedAt
        c.currentProfile = "home"
      }),
    check: (r) => expect(JSON.parse(r.stdout)).toMatchObject({ profile: "home", roleLabel: "Super_user" })
  },
  {
    label: "no role cached (whoami reads the server)",
    path: "full",
    args: ["profile", "whoami"],
    breakHome: (h) =>
      editConfig(h, (c) => {
        delete c.profiles[0]!.ownerRole
        c.profiles[0]!.authUrlOverride = CLOSED
      }),
    check: (r) => expect(r.code).not.toBe(0)
  },
  {
    label: "an expired token",
    path: "full",
    args: ["profile", "whoami", "-o", "json"],
    breakHome: (h) => currentWithRole(h, BOB_ID),
    check: (r) => expect(JSON.parse(r.stdout)).toMatchObject({ olaresId: BOB_ID, source: "cache" })
  },
  {
    label: "an invalidated token",
    path: "full",
    args: ["profile", "whoami"],
    breakHome: (h) => currentWithRole(h, CAROL_ID),
    check: (r) => expect(r.code).not.toBe(0)
  },
  {
    label: "no token record",
    path: "full",
    args: ["profile", "whoami"],
    breakHome: (h) =>
      editConfig(h, (c) => {
        c.profiles.push({ olaresId: DAVE_ID, ownerRole: "owner" })
        c.currentProfile = DAVE_ID
      }),
    check: (r) => expect(r.code).not.toBe(0)
  },
  {
    label: "no profile at all",
    path: "full",
    args: ["profile", "whoami"],
    seed: async (h) => writeConfig(h, "{\n  \"profiles\": []\n}"),
    check: (r) => expect(r.code).not.toBe(0)
  },
  {
    label: "a platform-managed profile",
    path: "full",
    args: ["profile", "whoami"],
    breakHome: (h) => editConfig(h, (c) => Object.assign(c.profiles[0]!, { managed: true, appName: "lares" })),
    check: () => {}
  },
  {
    label: "config.json mode 0644",
    path: "full",
    args: ["profile", "whoami"],
    breakHome: (h) => chmodSync(configPath(h), 0o644),
    check: (r, h) => {
      expect(r.stderr).toContain("was mode 0644")
      expect(mode(configPath(h))).toBe(0o600)
    }
  },
  {
    label: "the record mode 0644",
    path: "full",
    args: ["profile", "whoami", "-o", "json"],
    breakHome: async (h) => chmodSync(await recordFile(h, ALICE_ID), 0o644),
    check: (r) => expect(r.stderr).toContain("fixed permissions")
  },
  {
    label: "config.json that is not JSON",
    path: "full",
    args: ["profile", "whoami"],
    breakHome: (h) => writeFileSync(configPath(h), "{\"profiles\": [ {\"olaresId\": "),
    check: (r) => expect(r.code).toBe(1)
  },
  {
    label: "a bare Go-written olaresId",
    path: "full",
    args: ["profile", "whoami"],
    breakHome: async (h) => {
      await seedProfile(h, { olaresId: "alice", accessToken: await live() })
      editConfig(h, (c) => {
        c.profiles = c.profiles.filter((p) => p.olaresId === "alice")
        Object.assign(c.profiles[0]!, { ownerRole: "owner" })
        c.currentProfile = "alice"
      })
    },
    check: (r) => expect(r.stdout).toContain(ALICE_ID)
  },
  {
    label: "an unsafe stored auth override",
    path: "full",
    args: ["profile", "whoami"],
    breakHome: (h) => editConfig(h, (c) => void (c.profiles[0]!.authUrlOverride = "http://a b")),
    check: (r) => expect(r.code).not.toBe(0)
  },
  {
    label: "OLARES_CLI_KEYSTORE=memory",
    path: "full",
    args: ["profile", "whoami"],
    env: { OLARES_CLI_KEYSTORE: "memory" },
    check: (r) => expect(r.code).not.toBe(0)
  }
]

describe("profile whoami: the quick tier against the full CLI", () => {
  for (const c of WHOAMI_CASES) {
    it(`${c.label}: served by the ${c.path} path, exactly as with OLARES_CLI_FAST=0`, async () => {
      await (c.seed ?? seedCached)(e2e.home)
      await c.breakHome?.(e2e.home)
      const quickHome = e2e.home
      const fullHome = twin(quickHome)
      const traced = twin(quickHome)
      // compared without OLARES_CLI_DEBUG (the full CLI's debug lines say what it loads); a third run traces the path
      const [quick, full, trace] = await Promise.all([
        runCli(c.args, { env: { ...quickHome.env, ...c.env } }),
        runCli(c.args, { env: { ...fullHome.env, ...c.env, OLARES_CLI_FAST: "0" } }),
        run(traced, c.args, c.env)
      ])
      expect(visible(quick, quickHome)).toEqual(visible(full, fullHome))
      expect(servedBy(trace)).toBe(c.path)
      await c.check(quick, quickHome)
      expect(snapshot(quickHome.root)).toEqual(snapshot(fullHome.root))
    })
  }
})
