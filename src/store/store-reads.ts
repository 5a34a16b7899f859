import type { JsonValue } from '../fingerprint/canonical-json.ts';
import type { ContentHash } from '../fingerprint/hash-types.ts';
import type { TableData } from '../stage-api.ts';

export type Row = Record<string, unknown>;
export type SqlParams = Record<string, string | number>;

/**
 * What the read-only commands need from the store. The store opened in this process and the
 * client of a running `repro`'s read socket both provide it, so each command is written once.
 */
export interface StoreReads {
  /** Rows with DuckDB's JS values (bigint, Uint8Array, Date). */
  rows(sql: string, params?: SqlParams): Promise<Row[]>;
  /** Rows as JSON-safe objects (what `pipeline query` prints). */
  query(sql: string, params?: SqlParams): Promise<Row[]>;
  readTable(hash: ContentHash): Promise<TableData>;
  readJson(hash: ContentHash): Promise<JsonValue>;
  readBlob(hash: ContentHash): Promise<Uint8Array>;
}
