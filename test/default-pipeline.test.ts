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
    assert.equal(ra.stages.length, 8);
    assert.ok(ra.stages.every((s) => s.status === 'ran'));
    const rb = await reproJson(b, '-j', '2');
    assert.equal(rb.result.code, 0, rb.result.stderr);
    assert.equal(readFileSync(join(a, 'lockfile.json'), 'utf8'), readFileSync(join(b, 'lockfile.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(join(a, 'lockfile.json'), 'utf8'));
    const ingest = lock.stages.ingest.metrics;
    assert.equal(ingest.texts, 400 * 4 + 250, 'at most 400 texts per SpamAssassin group (hard-ham-1 has 250)');
    const pre = lock.stages['preprocess@as-is'].metrics;
    const balanced = lock.stages['preprocess@balanced'].metrics;
    assert.ok(pre.rows_kept > 1500 && pre.rows_kept <= ingest.texts);
    assert.equal(pre.validation, balanced.validation, 'balancing touches only the training split');
    assert.ok(balanced.train < pre.train);
    for (const data of ['as-is', 'balanced']) {
      const m = lock.stages[`baseline@${data}-0.1`].metrics;
      assert.ok(m.test_accuracy > 0.85, `naive Bayes separates spam from ham (${data}: ${m.test_accuracy})`);
      assert.deepEqual(Object.keys(m).filter((k) => k.startsWith('test_accuracy_')).length, 5);
    }
    assert.match(readFileSync(join(a, 'out/baseline-summary.md'), 'utf8'), /^\| balanced \| 0\.1 \| \d+\.\d \| 0\.\d{3} \|/m);
    const again = await reproJson(a);
    assert.ok(again.stages.every((s) => s.status === 'cached'));
  });
});
