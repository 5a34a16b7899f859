import type { DuckDBConnection } from '@duckdb/node-api';
import type { Cell } from '../stage-api.ts';
import type { ColumnType, EncodedTable } from './table-codec.ts';

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Creates table `name` with the encoded table's column types and appends its rows. */
export async function appendTable(db: DuckDBConnection, name: string, t: EncodedTable): Promise<void> {
  const cols = t.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
  await db.run(`CREATE TABLE ${quoteIdent(name)} (${cols})`);
  if (t.rows === 0) return;
  const duck = await import('@duckdb/node-api');
  const appender = await db.createAppender(name);
  const integerList = duck.LIST(duck.INTEGER);
  const doubleList = duck.LIST(duck.DOUBLE);
  // One writer per SQL type, chosen once per column rather than once per cell.
  const writers: Record<ColumnType, (v: Cell) => void> = {
    BOOLEAN: (v) => appender.appendBoolean(v as boolean),
    INTEGER: (v) => appender.appendInteger(v as number),
    BIGINT: (v) => appender.appendBigInt(BigInt(v as number)),
    FLOAT: (v) => appender.appendFloat(v as number),
    DOUBLE: (v) => appender.appendDouble(v as number),
    VARCHAR: (v) => appender.appendVarchar(v as string),
    'INTEGER[]': (v) => appender.appendList(duck.listValue([...(v as number[])]), integerList),
    'DOUBLE[]': (v) => appender.appendList(duck.listValue([...(v as number[])]), doubleList),
  };
  const columns = t.columns.map((c) => ({ values: c.values, write: writers[c.type] }));
  for (let row = 0; row < t.rows; row++) {
    for (const c of columns) {
      const v = c.values[row];
      if (v === null || v === undefined) appender.appendNull();
      else c.write(v);
    }
    appender.endRow();
  }
  appender.closeSync();
}
