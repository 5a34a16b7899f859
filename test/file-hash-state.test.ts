import assert from 'node:assert/strict';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileHasher } from '../src/fingerprint/file-hasher.ts';
import { sha256Hex } from '../src/util/sha256-hex.ts';
import { makeProject } from './helpers/project.ts';

/** A project whose a.txt was hashed into the state file, with the file aged past the racy window. */
async function hashedProject(): Promise<{ dir: string; cache: string }> {
  const dir = makeProject({ 'a.txt': 'one\n' });
  const cache = join(dir, '.pipeline/file-hashes.json');
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(dir, 'a.txt'), old, old);
  const hasher = await FileHasher.open(dir, cache);
  assert.equal(await hasher.hash('a.txt'), sha256Hex('one\n'));
  await hasher.save();
  return { dir, cache };
}

describe('the file-hash state under .pipeline/', () => {
  it('detects a changed file of the same size (its mtime moved)', async () => {
    const { dir, cache } = await hashedProject();
    writeFileSync(join(dir, 'a.txt'), 'two\n');
    assert.equal(statSync(join(dir, 'a.txt')).size, 4);
    assert.equal(await (await FileHasher.open(dir, cache)).hash('a.txt'), sha256Hex('two\n'));
  });

  it('detects a file replaced by another with the same size and mtime (its inode differs)', async () => {
    const { dir, cache } = await hashedProject();
    const { mtime } = statSync(join(dir, 'a.txt'));
    writeFileSync(join(dir, 'b.txt'), 'two\n');
    utimesSync(join(dir, 'b.txt'), mtime, mtime);
    const { renameSync } = await import('node:fs');
    renameSync(join(dir, 'b.txt'), join(dir, 'a.txt'));
    assert.equal(await (await FileHasher.open(dir, cache)).hash('a.txt'), sha256Hex('two\n'));
  });

  it('rehashes a file written within the racy window of its last hash, even with size and mtime unchanged', async () => {
    const dir = makeProject({ 'a.txt': 'one\n' });
    const cache = join(dir, '.pipeline/file-hashes.json');
    const first = await FileHasher.open(dir, cache);
    await first.hash('a.txt');
    await first.save();
    // Doctor the state as if the recorded hash were of other bytes: a hasher that trusted it
    // for a just-written file would return the doctored value.
    const entries = JSON.parse(readFileSync(cache, 'utf8'));
    entries['a.txt'].hash = 'stale';
    writeFileSync(cache, JSON.stringify(entries));
    assert.equal(await (await FileHasher.open(dir, cache)).hash('a.txt'), sha256Hex('one\n'));
  });

  it('ignores a corrupt or foreign state file and rehashes', async () => {
    const { dir, cache } = await hashedProject();
    for (const junk of [
      '{"a.txt": {"size": 4, "mtimeMs"',
      'null',
      '[1, 2]',
      '{"a.txt": null}',
      '{"a.txt": {"size": "4", "hash": 7}}',
      '\u0000\u0001',
    ]) {
      writeFileSync(cache, junk);
      const hasher = await FileHasher.open(dir, cache);
      assert.equal(await hasher.hash('a.txt'), sha256Hex('one\n'));
      await hasher.save();
      // The next save replaces the junk with a state that is trusted again.
      assert.equal(JSON.parse(readFileSync(cache, 'utf8'))['a.txt'].hash, sha256Hex('one\n'));
    }
  });
});
