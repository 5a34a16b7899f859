import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, makeProject, reproJson } from './helpers/project.ts';

/** A one-stage project with a store, and a file outside the project that a query must not read. */
export function tinyProject(): string {
  return makeProject({
    'pipeline.yaml': `stages:
  make:
    cmd: node -e "require('fs').mkdirSync('out',{recursive:true});require('fs').writeFileSync('out/a.txt','hi')"
    outs: [out/a.txt]
`,
  });
}

/** Each statement that would reach outside the store, and the reason a refusal must give. */
export const REFUSED: Array<[string, (dir: string) => string, RegExp, string?]> = [
  ['COPY TO', (d) => `COPY (SELECT 42) TO '${join(d, 'leak.csv')}'`, /touch no file but the store: (COPY|access to \S+leak\.csv) is refused/, 'leak.csv'],
  ['COPY FROM a file', () => `COPY runs FROM '/etc/passwd'`, /touch no file but the store/],
  ['EXPORT DATABASE', (d) => `EXPORT DATABASE '${join(d, 'dump')}'`, /touch no file but the store: (EXPORT|access to \S+dump\S*) is refused/, 'dump'],
  ['read_csv of a system file', () => `SELECT * FROM read_csv('/etc/passwd')`, /touch no file but the store: access to \/etc\/passwd is refused/],
  ['read_parquet', (d) => `SELECT * FROM read_parquet('${join(d, 'x.parquet')}')`, /touch no file but the store/],
  ['read_text', () => `SELECT * FROM read_text('/etc/hostname')`, /touch no file but the store/],
  ['glob', () => `SELECT * FROM glob('/etc/*')`, /touch no file but the store/],
  ['ATTACH', (d) => `ATTACH '${join(d, 'other.duckdb')}' AS other`, /touch no file but the store: (ATTACH|access to \S+other\.duckdb) is refused/, 'other.duckdb'],
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

describe('pipeline query touches nothing but the store', () => {
  it('refuses COPY TO, reading files, ATTACH, INSTALL/LOAD, settings and writes; export still writes Parquet', async () => {
    const dir = tinyProject();
    const r = await reproJson(dir);
    assert.equal(r.result.code, 0, r.result.stderr);
    await assertRefusals(dir);
    const ok = await cli(dir, 'query', 'SELECT stage, status FROM runs', '--json');
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), [{ stage: 'make', status: 'ran' }]);
    assert.equal((await cli(dir, 'query', 'EXPLAIN SELECT * FROM runs')).code, 0);
    assert.equal((await cli(dir, 'query', 'DESCRIBE runs')).code, 0);
    const bundle = join(dir, 'bundle');
    const exported = await cli(dir, 'export', '--bundle', bundle);
    assert.equal(exported.code, 0, exported.stderr);
    const runs = await cli(dir, 'export', 'make:file:out/a.txt', '-o', join(dir, 'copy.txt'));
    assert.equal(runs.code, 0, runs.stderr);
    assert.equal(readFileSync(join(dir, 'copy.txt'), 'utf8'), 'hi');
  });
});
