/**
 * The tiny table renderer: left-aligned columns separated by three spaces,
 * kubectl style, no trailing spaces. Widths count characters (no ANSI colour is
 * ever passed in).
 */
export interface TableOptions {
  /** Prefix of every line (describe indents its tables). */
  indent?: string;
  /** Spaces between columns. Default 3. */
  gap?: number;
}

export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], opts: TableOptions = {}): string {
  const indent = opts.indent ?? '';
  const gap = ' '.repeat(opts.gap ?? 3);
  const all = [header, ...rows];
  const columns = Math.max(...all.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < columns; c++) widths.push(Math.max(...all.map((r) => width(r[c] ?? ''))));
  return all
    .map((row) => {
      const cells: string[] = [];
      for (let c = 0; c < columns; c++) {
        const cell = row[c] ?? '';
        cells.push(c === columns - 1 ? cell : cell + ' '.repeat((widths[c] ?? 0) - width(cell)));
      }
      return (indent + cells.join(gap)).trimEnd();
    })
    .join('\n');
}

/** Character count; cells never hold control characters (see `cell`). */
function width(s: string): number {
  return [...s].length;
}

/** Makes any value safe for a table cell: one line, `<none>` when empty. */
export function cell(v: string | number | undefined | null): string {
  if (v === undefined || v === null || v === '') return '<none>';
  return String(v).replace(/\s*\n\s*/g, ' ');
}
