import type { Cell } from '../stage-api.ts';

/** A stage's columnar table with one array per field of its rows. */
export type Columns<R> = { [K in keyof R & string]: R[K][] };

/**
 * Turns rows, built one object each, into the columnar table a stage returns. The names fix the
 * column order and keep the columns of a table with no rows; a row with other fields is a bug in
 * the stage, so it throws rather than leaving a column short.
 */
export function columnsOf<R extends Readonly<Record<string, Cell>>>(
  names: readonly (keyof R & string)[],
  rows: readonly R[],
): Columns<R> {
  const columns = new Map<string, Cell[]>(names.map((n) => [n, []]));
  for (const row of rows) {
    const fields = Object.keys(row);
    if (fields.length !== columns.size || fields.some((f) => !columns.has(f)))
      throw new Error(`a row has the fields ${fields.join(', ')}; the table's columns are ${names.join(', ')}`);
    for (const n of names) columns.get(n)!.push(row[n] as Cell);
  }
  return Object.fromEntries(columns) as Columns<R>;
}
