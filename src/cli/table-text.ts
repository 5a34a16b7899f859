/** Rows of cells as aligned columns; the first row is the header. Long cells are cut so one wide value cannot wreck the layout. */
export function formatTable(rows: string[][], maxWidth = 64): string {
  const cut = rows.map((r) => r.map((c) => (c.length > maxWidth ? `${c.slice(0, maxWidth - 1)}…` : c)));
  const widths = (cut[0] ?? []).map((_, i) => Math.max(...cut.map((r) => (r[i] ?? '').length)));
  return cut
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
