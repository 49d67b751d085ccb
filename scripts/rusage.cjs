// Preloaded (`node -r`) into every process the start-up benchmark runs: at exit, writes the
// process's CPU time and peak memory to fd 3, which the benchmark reads. The same for both sides.
const { writeSync } = require("node:fs")

process.on("exit", () => {
  const u = process.resourceUsage()
  writeSync(3, JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssKb: u.maxRSS }))
})
