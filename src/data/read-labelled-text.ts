import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';

export interface LabelledText {
  text: string[];
  label: string[];
  group: string[];
}

/**
 * Reads a labelled corpus from a TSV/CSV file (header row with `text`, `label` and optional
 * `group` columns), JSON Lines (objects with the same keys) or Parquet (columns of those names;
 * rows are numbered from 1 in errors). A row missing a text or label is
 * an error naming the file and line, not a silent drop.
 */
export async function readLabelledText(path: string): Promise<LabelledText> {
  const raw = await readFile(path, 'utf8');
  const ext = extname(path).toLowerCase();
  const rows: Array<{ line: number; row: Record<string, unknown> }> = [];
  if (ext === '.jsonl' || ext === '.ndjson') {
    raw.split(/\r?\n/).forEach((l, i) => {
      if (l.trim() === '') return;
      try {
        rows.push({ line: i + 1, row: JSON.parse(l) as Record<string, unknown> });
      } catch (e) {
        throw new Error(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
    });
  } else if (ext === '.tsv' || ext === '.csv') {
    const { fromCSV } = await import('arquero');
    const table = fromCSV(raw, { delimiter: ext === '.tsv' ? '\t' : ',', autoType: false });
    const objects = table.objects() as Array<Record<string, unknown>>;
    objects.forEach((row, i) => rows.push({ line: i + 2, row }));
  } else if (ext === '.parquet') {
    // An in-memory DuckDB reads Parquet; it never touches the project's store file.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      const reader = await db.runAndReadAll(`SELECT * FROM read_parquet('${path.replace(/'/g, "''")}')`);
      reader.getRowObjectsJS().forEach((row, i) => rows.push({ line: i + 1, row: row as Record<string, unknown> }));
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  } else {
    throw new Error(`${path}: unsupported corpus format "${ext}" (use .tsv, .csv, .jsonl or .parquet)`);
  }
  const out: LabelledText = { text: [], label: [], group: [] };
  for (const { line, row } of rows) {
    for (const field of ['text', 'label'] as const) {
      if (typeof row[field] !== 'string' || (row[field] as string).length === 0) {
        throw new Error(`${path}:${line}: field "${field}" is missing or empty`);
      }
    }
    out.text.push(row.text as string);
    out.label.push(row.label as string);
    out.group.push(typeof row.group === 'string' && row.group !== '' ? row.group : 'all');
  }
  return out;
}
