// Plain-text tables with aligned columns: text left-aligned, numbers right-aligned.
export interface Column {
  title: string;
  align?: "left" | "right";
}

export function formatTable(columns: (Column | string)[], rows: (string | number)[][]): string {
  const cols = columns.map((c) => (typeof c === "string" ? { title: c } : c));
  const cells = rows.map((r) => r.map((v) => String(v)));
  const aligns = cols.map(
    (c, i) => c.align ?? (cells.every((r) => /^[-+]?[\d.,/ ]*$|^-$/.test(r[i] ?? "")) ? "right" : "left"),
  );
  const widths = cols.map((c, i) => Math.max(c.title.length, ...cells.map((r) => (r[i] ?? "").length)));
  const pad = (text: string, i: number) =>
    aligns[i] === "right" ? text.padStart(widths[i] as number) : text.padEnd(widths[i] as number);
  const line = (values: string[]) =>
    values
      .map((v, i) => pad(v, i))
      .join("  ")
      .trimEnd();
  return [line(cols.map((c) => c.title)), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join(
    "\n",
  );
}

/** Prints a titled table followed by notes (one per line, indented). */
export function printTable(
  title: string,
  columns: (Column | string)[],
  rows: (string | number)[][],
  notes: string[] = [],
): void {
  const out = ["", title, "", formatTable(columns, rows)];
  if (notes.length) out.push("", ...notes.map((n) => `  ${n}`));
  console.log(`${out.join("\n")}\n`);
}
