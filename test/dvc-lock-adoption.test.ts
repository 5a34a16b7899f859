import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeProject, reproJson } from './helpers/project.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/**
 * A project DVC has already run: its outputs in the work tree and a dvc.lock (schema 2.0, as
 * DVC's docs describe it) recording their md5s. `foo\n` has the md5 d3b0...ff00; a directory's
 * md5 is that of its JSON listing, with `.dir` appended.
 */
function lockedProject(): string {
  const listing = `[{"md5": "d3b07384d113edec49eaa6238ad5ff00", "relpath": "foo"}]`;
  return makeProject({
    'params.yaml': 'n: 3\nother: 1\n',
    'in.txt': 'foo\n',
    'dvc.yaml': `stages:
  prepare:
    cmd: mkdir -p out && cp in.txt out/foo && touch ran-prepare
    deps: [in.txt]
    params: [n]
    outs: [out]
  copy:
    cmd: cat out/foo > copy.txt && touch ran-copy
    deps: [out]
    outs: [copy.txt]
`,
    'out/foo': 'foo\n',
    'copy.txt': 'foo\n',
    'dvc.lock': `schema: '2.0'
stages:
  prepare:
    cmd: mkdir -p out && cp in.txt out/foo && touch ran-prepare
    deps:
    - path: in.txt
      hash: md5
      md5: d3b07384d113edec49eaa6238ad5ff00
      size: 4
    params:
      params.yaml:
        n: 3
    outs:
    - path: out
      hash: md5
      md5: ${md5(listing)}.dir
      size: 4
      nfiles: 1
  copy:
    cmd: cat out/foo > copy.txt && touch ran-copy
    deps:
    - path: out
      md5: ${md5(listing)}.dir
    outs:
    - path: copy.txt
      md5: d3b07384d113edec49eaa6238ad5ff00
`,
  });
}

describe('adopting a dvc.lock', () => {
  it('takes up-to-date outputs as the stages’ results and reruns nothing', async () => {
    const dir = lockedProject();
    const first = await reproJson(dir);
    assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);
    assert.deepEqual(first.status, { prepare: 'cached', copy: 'cached' });
    assert.ok(
      first.stages.every((s) => s.cache === 'dvc.lock'),
      JSON.stringify(first.stages),
    );
    assert.ok(!existsSync(join(dir, 'ran-prepare')) && !existsSync(join(dir, 'ran-copy')), 'no command ran');
    const lock = JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8')) as { stages: Record<string, unknown> };
    assert.deepEqual(Object.keys(lock.stages).sort(), ['copy', 'prepare'], 'lockfile.json is written as always');
    const second = await reproJson(dir);
    assert.ok(second.stages.every((s) => s.status === 'cached' && s.cache === 'lockfile'));
  });

  it('runs a stage whose tracked param no longer matches dvc.lock, and what depends on it', async () => {
    const dir = lockedProject();
    writeFileSync(join(dir, 'params.yaml'), 'n: 4\nother: 1\n');
    const r = await reproJson(dir);
    assert.equal(r.status.prepare, 'ran');
    assert.ok(existsSync(join(dir, 'ran-prepare')));
  });

  it('runs a stage whose output differs from its recorded md5', async () => {
    const dir = lockedProject();
    writeFileSync(join(dir, 'copy.txt'), 'edited\n');
    const r = await reproJson(dir);
    assert.equal(r.status.prepare, 'cached');
    assert.equal(r.status.copy, 'ran');
    assert.equal(readFileSync(join(dir, 'copy.txt'), 'utf8'), 'foo\n');
  });
});
