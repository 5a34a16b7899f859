import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, makeProject, reproJson } from './helpers/project.ts';
import { assertRefusals } from './helpers/refused-queries.ts';

/** A one-stage project with a store. */
function tinyProject(): string {
  return makeProject({
    'pipeline.yaml': `stages:
  make:
    cmd: node -e "require('fs').mkdirSync('out',{recursive:true});require('fs').writeFileSync('out/a.txt','hi')"
    outs: [out/a.txt]
`,
  });
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
