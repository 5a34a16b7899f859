import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { reproJson } from './helpers/project.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** A copy of this repository's default pipeline with an empty store and no lockfile. */
function freshCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'default-pipeline-'));
  for (const p of ['pipeline.yaml', 'package.json', 'package-lock.json', 'data', 'stages', 'src']) cpSync(join(REPO, p), join(dir, p), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

describe('the default pipeline', () => {
  it('runs from an empty store, twice, to byte-identical lockfiles; a third run does nothing', async () => {
    const a = freshCopy();
    const b = freshCopy();
    const ra = await reproJson(a, '-j', '2');
    assert.equal(ra.result.code, 0, ra.result.stderr);
    assert.ok(ra.stages.length >= 10 && ra.stages.every((s) => s.status === 'ran'));
    const rb = await reproJson(b, '-j', '2');
    assert.equal(rb.result.code, 0, rb.result.stderr);
    assert.equal(readFileSync(join(a, 'lockfile.json'), 'utf8'), readFileSync(join(b, 'lockfile.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(join(a, 'lockfile.json'), 'utf8'));
    const pre = lock.stages['preprocess@1'].metrics;
    assert.equal(pre.train + pre.validation + pre.test, pre.rows_kept);
    assert.ok(pre.test >= 4 && pre.validation >= 4, 'every label reaches validation and test');
    assert.match(readFileSync(join(a, 'out/baseline-summary.md'), 'utf8'), /\| 0\.5 \| 5 \| \d+\.\d ± \d+\.\d \|/);
    const again = await reproJson(a);
    assert.ok(again.stages.every((s) => s.status === 'cached'));
  });
});
