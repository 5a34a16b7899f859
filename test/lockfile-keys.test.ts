import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fingerprintHash } from '../src/fingerprint/fingerprint.ts';
import { asContentHash, type ContentHash, type FingerprintHash } from '../src/fingerprint/hash-types.ts';
import {
  lockfileFromJson,
  lockfileText,
  lockfileTextCached,
  readLockfile,
  recordOf,
  writeLockfile,
  type LockEntry,
} from '../src/store/lockfile.ts';

const committed = join(import.meta.dirname, '..', 'lockfile.json');

describe('lockfile keys', () => {
  it('reads the committed lockfile into the code names and writes it back byte for byte', async () => {
    const text = readFileSync(committed, 'utf8');
    const lock = await readLockfile(committed);
    const entries = Object.values(lock.stages);
    assert.ok(entries.length > 0);
    for (const entry of entries) {
      assert.equal(typeof entry.outputsHash, 'string');
      assert.equal('outputs_hash' in entry, false);
      assert.equal('params_from' in entry, false);
      // The record the entry holds still hashes to the fingerprint it was stored under.
      assert.equal(fingerprintHash(recordOf(entry)), entry.fingerprint);
    }
    assert.equal(lockfileText(lock), text);
    assert.equal(lockfileTextCached(lock, new Map()), text);
    const copy = join(mkdtempSync(join(tmpdir(), 'lockfile-keys-')), 'lockfile.json');
    await writeLockfile(copy, lock);
    assert.equal(readFileSync(copy, 'utf8'), text);
  });

  it('maps params_from to paramsFrom and back, and keeps keys it does not know', () => {
    const onDisk = JSON.parse(readFileSync(committed, 'utf8')) as { stages: Record<string, Record<string, unknown>> };
    const [name, entry] = Object.entries(onDisk.stages)[0]!;
    const origin = { stage: 'select', json: 'selection', key: 'optimizer', hash: 'ab'.repeat(32) };
    const data = { version: 1, stages: { [name]: { ...entry, params_from: { optimizer: origin }, later_key: [1] } } };
    const lock = lockfileFromJson(data, 'test');
    const read = lock.stages[name]! as LockEntry & { later_key?: unknown };
    assert.deepEqual(read.paramsFrom, { optimizer: origin });
    assert.deepEqual(read.later_key, [1]);
    const back = JSON.parse(lockfileText(lock)) as typeof data;
    assert.deepEqual(back, data);
  });

  it('reads a non-finite metric back as the number it was (canonical JSON writes it as a tagged string)', () => {
    const onDisk = JSON.parse(readFileSync(committed, 'utf8')) as { stages: Record<string, Record<string, unknown>> };
    const [name, entry] = Object.entries(onDisk.stages)[0]!;
    const metrics = {
      test_perplexity: Number.POSITIVE_INFINITY,
      low: Number.NEGATIVE_INFINITY,
      odd: Number.NaN,
      acc: 0.5,
    };
    const lock = lockfileFromJson({ version: 1, stages: { [name]: { ...entry, metrics } } }, 'test');
    const text = lockfileText(lock);
    assert.match(text, /"test_perplexity": "\$number:Infinity"/);
    assert.deepEqual(lockfileFromJson(JSON.parse(text), 'test').stages[name]!.metrics, metrics);
  });

  it('keeps the three kinds of hash apart at compile time', () => {
    const entry = Object.values(JSON.parse(readFileSync(committed, 'utf8')).stages)[0] as { fingerprint: string };
    const content: ContentHash = asContentHash('cd'.repeat(32));
    const takesContent = (h: ContentHash): string => h.slice(0, 12);
    const fingerprint = entry.fingerprint as FingerprintHash;
    // @ts-expect-error a fingerprint hash is not a content hash
    assert.equal(takesContent(fingerprint), fingerprint.slice(0, 12));
    // @ts-expect-error nor is a plain string
    assert.equal(takesContent('ef'.repeat(32)), 'efefefefefef');
    assert.equal(takesContent(content), 'cdcdcdcdcdcd');
  });
});
