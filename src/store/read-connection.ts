import type { DuckDBConnection } from '@duckdb/node-api';
import type { JsonValue } from '../fingerprint/canonical-json.ts';
import type { TableData } from '../stage-api.ts';
import type { Row, SqlParams, StoreReads } from './store-reads.ts';
import { decodeColumns } from './table-codec.ts';

export class ReadRefused extends Error {}

// DuckDB's StatementType numbers (duckdb.h): SELECT covers SHOW, DESCRIBE and SUMMARIZE too.
const READ_STATEMENTS = new Map([
  [1, 'SELECT'],
  [4, 'EXPLAIN'],
]);
const STATEMENT_NAMES = [
  'INVALID',
  'SELECT',
  'INSERT',
  'UPDATE',
  'EXPLAIN',
  'DELETE',
  'PREPARE',
  'CREATE',
  'EXECUTE',
  'ALTER',
  'TRANSACTION',
  'COPY',
  'ANALYZE',
  'SET VARIABLE',
  'CREATE FUNCTION',
  'DROP',
  'EXPORT',
  'PRAGMA',
  'VACUUM',
  'CALL',
  'SET',
  'LOAD',
  'RELATION',
  'EXTENSION',
  'LOGICAL PLAN',
  'ATTACH',
  'DETACH',
  'MULTI',
  'COPY DATABASE',
  'UPDATE EXTENSIONS',
  'MERGE INTO',
];

// Statements that reach outside the store: files, databases, extensions.
const FILE_STATEMENTS = new Set([11, 16, 21, 23, 25, 26, 28, 29]);
const WRITE_STATEMENTS = new Set([2, 3, 5, 7, 9, 10, 12, 14, 15, 18, 19, 30]);

function refusal(type: number): string {
  const name = STATEMENT_NAMES[type] ?? `type ${type}`;
  if (FILE_STATEMENTS.has(type))
    return `queries touch no file but the store: ${name} is refused (only SELECT and EXPLAIN run)`;
  if (WRITE_STATEMENTS.has(type))
    return `the store is opened read-only for queries; this statement would change it: ${name} is refused`;
  return `queries only read, and the store's settings are locked: ${name} is refused (only SELECT and EXPLAIN run)`;
}

/** DuckDB's file-access refusal, reworded so the user learns why rather than only what. */
function explain(e: unknown): Error {
  const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
  if (/file system operations are disabled by configuration/.test(msg)) {
    const what = /Cannot access (?:file|directory) "([^"]*)"/.exec(msg)?.[1];
    return new ReadRefused(`queries touch no file but the store: access to ${what ?? 'files'} is refused`);
  }
  if (/configuration has been locked/.test(msg))
    return new ReadRefused(`the store's settings are locked for queries: ${msg}`);
  return e instanceof Error ? e : new Error(msg);
}

/**
 * A connection that only reads: each call runs statements DuckDB classifies as SELECT or
 * EXPLAIN, inside a transaction that is rolled back, on an instance whose file access is off
 * and whose settings are locked. The coordinator of a run hands these out over its read socket
 * beside its own (writing) connection, so a slow query never holds up a commit.
 */
export class ReadConnection implements StoreReads {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly db: DuckDBConnection,
    private readonly onClose: () => void = () => undefined,
  ) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async checked(sql: string): Promise<void> {
    let statements;
    try {
      statements = await this.db.extractStatements(sql);
    } catch (e) {
      throw explain(e);
    }
    if (statements.count === 0) throw new ReadRefused('there is no statement to run');
    for (let i = 0; i < statements.count; i++) {
      let type: number;
      try {
        const prepared = await statements.prepare(i);
        type = prepared.statementType;
        prepared.destroySync();
      } catch (e) {
        throw explain(e);
      }
      if (!READ_STATEMENTS.has(type)) throw new ReadRefused(refusal(type));
    }
  }

  /** Runs read statements in a transaction that is always rolled back; returns the last result. */
  private read<T>(
    sql: string,
    params: SqlParams | undefined,
    take: (r: Awaited<ReturnType<DuckDBConnection['runAndReadAll']>>) => T,
  ): Promise<T> {
    return this.serial(async () => {
      await this.checked(sql);
      await this.db.run('BEGIN TRANSACTION');
      try {
        return take(await this.db.runAndReadAll(sql, params));
      } catch (e) {
        throw explain(e);
      } finally {
        await this.db.run('ROLLBACK').catch(() => undefined);
      }
    });
  }

  rows(sql: string, params?: SqlParams): Promise<Row[]> {
    return this.read(sql, params, (r) => r.getRowObjectsJS() as Row[]);
  }

  query(sql: string, params?: SqlParams): Promise<Row[]> {
    return this.read(sql, params, (r) => r.getRowObjectsJson() as Row[]);
  }

  async readTable(hash: string): Promise<TableData> {
    const rows = await this.rows(`SELECT table_name FROM artifacts WHERE hash = $h AND kind = 'table'`, { h: hash });
    const name = rows[0]?.table_name;
    if (name === undefined) throw new Error(`table artifact ${hash} is not in the store`);
    const quoted = `"${String(name).replace(/"/g, '""')}"`;
    return this.read(`SELECT * FROM ${quoted}`, undefined, (r) =>
      decodeColumns(r.getColumnsObjectJS() as Record<string, unknown[]>),
    );
  }

  async readJson(hash: string): Promise<JsonValue> {
    const rows = await this.rows(`SELECT json_value FROM artifacts WHERE hash = $h AND kind = 'json'`, { h: hash });
    const text = rows[0]?.json_value;
    if (text === undefined || text === null) throw new Error(`json artifact ${hash} is not in the store`);
    return JSON.parse(String(text)) as JsonValue;
  }

  async readBlob(hash: string): Promise<Uint8Array> {
    const rows = await this.rows('SELECT bytes FROM blobs WHERE hash = $h', { h: hash });
    const bytes = rows[0]?.bytes;
    if (!(bytes instanceof Uint8Array)) throw new Error(`blob ${hash} is not in the store`);
    return bytes;
  }

  /** Closes after the call in progress, if any. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.db.closeSync();
    this.onClose();
  }
}
