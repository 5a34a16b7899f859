import type { DuckDBConnection } from '@duckdb/node-api';
import type { EncodedTable } from './table-codec.ts';

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
  const listTypes = {
    'INTEGER[]': duck.LIST(duck.INTEGER),
    'DOUBLE[]': duck.LIST(duck.DOUBLE),
  };
  for (let row = 0; row < t.rows; row++) {
    for (const c of t.columns) {
      const v = c.values[row];
      if (v === null || v === undefined) {
        appender.appendNull();
        continue;
      }
      switch (c.type) {
        case 'BOOLEAN':
          appender.appendBoolean(v as boolean);
          break;
        case 'INTEGER':
          appender.appendInteger(v as number);
          break;
        case 'BIGINT':
          appender.appendBigInt(BigInt(v as number));
          break;
        case 'FLOAT':
          appender.appendFloat(v as number);
          break;
        case 'DOUBLE':
          appender.appendDouble(v as number);
          break;
        case 'VARCHAR':
          appender.appendVarchar(v as string);
          break;
        case 'INTEGER[]':
        case 'DOUBLE[]':
          appender.appendList(duck.listValue([...(v as number[])]), listTypes[c.type]);
          break;
      }
    }
    appender.endRow();
  }
  appender.closeSync();
}
