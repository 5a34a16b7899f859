import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from './project.ts';

/** Each statement that would reach outside the store, and the reason a refusal must give. */
export const REFUSED: Array<[string, (dir: string) => string, RegExp, string?]> = [
  [
    'COPY TO',
    (d) => `COPY (SELECT 42) TO '${join(d, 'leak.csv')}'`,
    /touch no file but the store: (COPY|access to \S+leak\.csv) is refused/,
    'leak.csv',
  ],
  ['COPY FROM a file', () => `COPY runs FROM '/etc/passwd'`, /touch no file but the store/],
  [
    'EXPORT DATABASE',
    (d) => `EXPORT DATABASE '${join(d, 'dump')}'`,
    /touch no file but the store: (EXPORT|access to \S+dump\S*) is refused/,
    'dump',
  ],
  [
    'read_csv of a system file',
    () => `SELECT * FROM read_csv('/etc/passwd')`,
    /touch no file but the store: access to \/etc\/passwd is refused/,
  ],
  ['read_parquet', (d) => `SELECT * FROM read_parquet('${join(d, 'x.parquet')}')`, /touch no file but the store/],
  ['read_text', () => `SELECT * FROM read_text('/etc/hostname')`, /touch no file but the store/],
  ['glob', () => `SELECT * FROM glob('/etc/*')`, /touch no file but the store/],
  [
    'ATTACH',
    (d) => `ATTACH '${join(d, 'other.duckdb')}' AS other`,
    /touch no file but the store: (ATTACH|access to \S+other\.duckdb) is refused/,
    'other.duckdb',
  ],
  ['INSTALL', () => 'INSTALL httpfs', /touch no file but the store/],
  ['LOAD', () => 'LOAD httpfs', /touch no file but the store/],
  ['SET enable_external_access', () => 'SET enable_external_access = true', /settings are locked/],
  ['a write', () => 'DELETE FROM runs', /read-only for queries; this statement would change it: DELETE/],
  ['a write after a read', () => 'SELECT 1; DROP TABLE runs', /would change it: DROP/],
];

/** Asserts that every statement in REFUSED is refused with its one-line reason and leaves no file. */
export async function assertRefusals(dir: string): Promise<void> {
  const before = readdirSync(dir).sort();
  for (const [what, sql, reason, file] of REFUSED) {
    const r = await cli(dir, 'query', sql(dir));
    assert.equal(r.code, 1, `${what}: exit ${r.code}, ${r.stderr}`);
    assert.match(r.stderr, /^error: [^\n]+\n$/, `${what}: one line`);
    assert.match(r.stderr, reason, what);
    assert.equal(r.stdout, '', what);
    if (file !== undefined) assert.equal(existsSync(join(dir, file)), false, `${what} created ${file}`);
  }
  assert.deepEqual(readdirSync(dir).sort(), before, 'no query created a file');
}
