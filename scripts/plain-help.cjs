// Baseline of `--help`: print the same screen, read from a file (the benchmark saves the CLI's own).
process.stdout.write(require("node:fs").readFileSync(process.argv[2]))
