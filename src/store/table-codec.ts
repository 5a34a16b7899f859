import { createHash } from 'node:crypto';
import type { Cell, Column, Table, TableData } from '../stage-api.ts';
import { UserError } from '../errors.ts';
import { asContentHash, type ContentHash } from '../fingerprint/hash-types.ts';

export type ColumnType = 'BOOLEAN' | 'INTEGER' | 'BIGINT' | 'FLOAT' | 'DOUBLE' | 'VARCHAR' | 'INTEGER[]' | 'DOUBLE[]';

export interface EncodedColumn {
  name: string;
  type: ColumnType;
  values: Cell[];
}

/** A table with one SQL type per column, values normalised to what DuckDB gives back. */
export interface EncodedTable {
  columns: EncodedColumn[];
  rows: number;
}

const INT32_MAX = 2 ** 31 - 1;

function isInt32(v: number): boolean {
  return Number.isInteger(v) && v <= INT32_MAX && v >= -INT32_MAX - 1 && !Object.is(v, -0);
}

function inferType(name: string, values: readonly Cell[]): ColumnType {
  let kind: 'none' | 'boolean' | 'number' | 'string' | 'list' = 'none';
  let allInt32 = true;
  let allSafeInt = true;
  for (const v of values) {
    if (v === null) continue;
    const k =
      typeof v === 'boolean'
        ? 'boolean'
        : typeof v === 'number'
          ? 'number'
          : typeof v === 'string'
            ? 'string'
            : Array.isArray(v)
              ? 'list'
              : undefined;
    if (k === undefined)
      throw new UserError(
        `column "${name}" holds a ${typeof v}; tables hold strings, numbers, booleans, null or lists of numbers`,
      );
    if (kind !== 'none' && kind !== k) throw new UserError(`column "${name}" mixes ${kind} and ${k} values`);
    kind = k;
    if (k === 'number') {
      allInt32 &&= isInt32(v as number);
      allSafeInt &&= Number.isSafeInteger(v) && !Object.is(v, -0);
    } else if (k === 'list') {
      for (const x of v as readonly number[]) {
        if (typeof x !== 'number')
          throw new UserError(`column "${name}" has a list holding a ${typeof x}; lists hold numbers`);
        allInt32 &&= isInt32(x);
      }
    }
  }
  switch (kind) {
    case 'boolean':
      return 'BOOLEAN';
    case 'number':
      return allInt32 ? 'INTEGER' : allSafeInt ? 'BIGINT' : 'DOUBLE';
    case 'list':
      return allInt32 ? 'INTEGER[]' : 'DOUBLE[]';
    default:
      return 'VARCHAR';
  }
}

function fromTyped(col: Column): { values: Cell[]; type?: ColumnType } {
  if (col instanceof Float32Array) return { values: Array.from(col), type: 'FLOAT' };
  if (col instanceof Float64Array) return { values: Array.from(col), type: 'DOUBLE' };
  if (col instanceof Int32Array) return { values: Array.from(col), type: 'INTEGER' };
  return { values: (col as readonly Cell[]).map((v) => (v === undefined ? null : v)) };
}

/** Checks a stage's table and fixes each column's SQL type. */
export function encodeTable(name: string, table: Table): EncodedTable {
  const entries = Object.entries(table);
  if (entries.length === 0) throw new UserError(`table "${name}" has no columns`);
  let rows: number | undefined;
  const columns = entries.map(([col, data]) => {
    if (col.length === 0) throw new UserError(`table "${name}" has a column with an empty name`);
    const { values, type } = fromTyped(data);
    if (rows !== undefined && values.length !== rows) {
      throw new UserError(`table "${name}": column "${col}" has ${values.length} rows, others have ${rows}`);
    }
    rows = values.length;
    return { name: col, type: type ?? inferType(`${name}.${col}`, values), values };
  });
  return { columns, rows: rows ?? 0 };
}

/**
 * Content hash of a table: its column names, types and values. Numbers are hashed by their
 * IEEE-754 bytes so that NaN, -0 and null stay distinct; the same table read back from DuckDB
 * hashes the same, which is what lets `verify` recompute it.
 */
export function tableHash(t: EncodedTable): ContentHash {
  const h = createHash('sha256');
  h.update(JSON.stringify({ rows: t.rows, columns: t.columns.map((c) => [c.name, c.type]) }));
  const f64 = new Float64Array(1);
  const bytes = new Uint8Array(f64.buffer);
  for (const c of t.columns) {
    h.update(`\0column:${c.name}\0`);
    const numeric = c.type === 'INTEGER' || c.type === 'BIGINT' || c.type === 'FLOAT' || c.type === 'DOUBLE';
    for (const v of c.values) {
      if (v === null) h.update('\x01');
      else if (numeric) {
        f64[0] = v as number;
        h.update('\x02');
        h.update(bytes);
      } else h.update(`\x03${JSON.stringify(v)}`);
    }
  }
  return asContentHash(h.digest('hex'));
}

/** Plain arrays per column, with DuckDB's BIGINTs brought back to numbers. */
export function decodeColumns(columns: Record<string, unknown[]>): TableData {
  const out: TableData = {};
  for (const [name, values] of Object.entries(columns)) {
    out[name] = values.map((v) => normalise(v));
  }
  return out;
}

function normalise(v: unknown): Cell {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'bigint' ? Number(x) : (x as number)));
  return v as Cell;
}
