/** Plain-text tables like Go's tabwriter with padding 2: each column as wide as its widest cell + 2, the last unpadded. */

/** Renders rows of cells into aligned lines; `decorate` may wrap a padded cell (e.g. in colour) without moving columns. */
export const renderTable = (
  rows: ReadonlyArray<ReadonlyArray<string>>,
  decorate: (row: number, col: number, padded: string) => string = (_r, _c, s) => s
): string => {
  const widths: Array<number> = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  return rows
    .map((row, r) =>
      row.map((cell, i) => decorate(r, i, i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join("")
    )
    .join("\n")
}
