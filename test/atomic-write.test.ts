import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeFileAtomic } from '../src/util/atomic-write.ts';
import { sha256Hex } from '../src/util/sha256-hex.ts';

describe('writeFileAtomic', () => {
  it('writes text and bytes, creating the directory, and replaces a file whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-write-'));
    const path = join(dir, 'a', 'b', 'file.txt');
    await writeFileAtomic(path, 'first');
    assert.equal(readFileSync(path, 'utf8'), 'first');
    await writeFileAtomic(path, new Uint8Array([104, 105]));
    assert.equal(readFileSync(path, 'utf8'), 'hi');
    // Concurrent writes of one process use temporaries of their own: one of them wins whole.
    await Promise.all(['x'.repeat(100_000), 'y'.repeat(100_000)].map((text) => writeFileAtomic(path, text)));
    assert.match(readFileSync(path, 'utf8'), /^(x{100000}|y{100000})$/);
    assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['file.txt']);
  });

  it('a write that fails leaves the old file and no temporary behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-write-'));
    const path = join(dir, 'lock.json');
    writeFileSync(path, 'old');
    await assert.rejects(
      writeFileAtomic(path, 'new', {
        beforeRename: () => {
          throw new Error('stopped before the rename');
        },
      }),
      /stopped before the rename/,
    );
    assert.equal(readFileSync(path, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['lock.json']);
    // A rename onto a directory fails too: the temporary is removed.
    mkdirSync(join(dir, 'taken'));
    writeFileSync(join(dir, 'taken', 'inside'), '');
    await assert.rejects(writeFileAtomic(join(dir, 'taken'), 'x'));
    assert.deepEqual(readdirSync(dir).sort(), ['lock.json', 'taken']);
  });
});

describe('sha256Hex', () => {
  it('hashes text as UTF-8 and bytes alike (FIPS 180-2 test vector)', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    assert.equal(sha256Hex('abc'), abc);
    assert.equal(sha256Hex(new Uint8Array([97, 98, 99])), abc);
    assert.equal(sha256Hex('é'), sha256Hex(new Uint8Array([0xc3, 0xa9])));
  });
});
