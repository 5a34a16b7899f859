import assert from 'node:assert/strict';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { canonicalJson, taggedNumber } from '../src/fingerprint/canonical-json.ts';
import { FileHasher } from '../src/fingerprint/file-hasher.ts';
import { explainChange, fingerprintHash, type FingerprintRecord } from '../src/fingerprint/fingerprint.ts';
import { ModuleGraph } from '../src/fingerprint/module-graph.ts';
import { edit, exampleProject, makeProject, reproJson } from './helpers/project.ts';

const base: FingerprintRecord = {
  engine: 1,
  kind: 'uses',
  cmd: null,
  uses: 'stages/a.ts',
  params: { lr: 0.01, nested: { b: 1, a: 2 } },
  deps: { 'data/x.txt': 'aa' },
  code: { 'stages/a.ts': 'c1' },
  packages: { yaml: '2.0.0' },
  outs: [],
  metric_files: [],
};

describe('fingerprint record', () => {
  it('hashes canonically: key order does not matter, values do', () => {
    const reordered = JSON.parse(
      canonicalJson({ ...base, params: { nested: { a: 2, b: 1 }, lr: 0.01 } }),
    ) as FingerprintRecord;
    assert.equal(fingerprintHash(reordered), fingerprintHash(base));
    assert.notEqual(fingerprintHash({ ...base, params: { ...base.params, lr: 0.02 } }), fingerprintHash(base));
    assert.notEqual(canonicalJson({ v: Number.NaN }), canonicalJson({ v: null }));
  });

  it('reads back the non-finite numbers it tags, and only those', () => {
    const written = JSON.parse(canonicalJson({ a: Infinity, b: -Infinity, c: Number.NaN })) as Record<string, string>;
    assert.equal(taggedNumber(written.a!), Infinity);
    assert.equal(taggedNumber(written.b!), -Infinity);
    assert.ok(Number.isNaN(taggedNumber(written.c!)));
    // Text that merely starts like a tag, or tags a finite number, is not one.
    for (const text of ['$number:1.5', '$number:', 'Infinity', 'number:Infinity', ' $number:Infinity'])
      assert.equal(taggedNumber(text), undefined, text);
  });

  it('explains every kind of change', () => {
    const changed: FingerprintRecord = {
      ...base,
      params: { lr: 0.02, nested: { b: 1, a: 3 } },
      deps: { 'data/x.txt': 'bb', other: 'cc' },
      code: { 'stages/a.ts': 'c1', 'stages/helper.ts': 'h' },
      packages: { yaml: '2.1.0' },
    };
    assert.deepEqual(explainChange(base, changed), [
      'param lr: 0.01 -> 0.02',
      'param nested.a: 2 -> 3',
      'dep data/x.txt changed',
      'new dep other',
      'code stages/helper.ts now imported',
      'package yaml: "2.0.0" -> "2.1.0"',
    ]);
    assert.deepEqual(explainChange(undefined, base), ['new stage: never run with this definition']);
  });
});

describe('file hashes', () => {
  it('uses the (path, size, mtime, inode) cache instead of re-reading an unchanged file', async () => {
    const dir = makeProject({ 'a.txt': 'one' });
    const cache = join(dir, '.pipeline/hashes.json');
    const h1 = await (await FileHasher.open(dir, cache)).hash('a.txt');
    const first = await FileHasher.open(dir, cache);
    await first.hash('a.txt');
    await first.save();
    // Age the file past the racy window, then doctor the cached hash: a hasher that trusts the
    // cache returns the doctored value, which proves it did not read the file.
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'a.txt'), old, old);
    const again = await FileHasher.open(dir, cache);
    assert.equal(await again.hash('a.txt'), h1);
    await again.save();
    const entries = JSON.parse(readFileSync(cache, 'utf8'));
    entries['a.txt'].hash = 'from-cache';
    writeFileSync(cache, JSON.stringify(entries));
    assert.equal(await (await FileHasher.open(dir, cache)).hash('a.txt'), 'from-cache');
    // A change of content (and so of size or mtime) is read again.
    writeFileSync(join(dir, 'a.txt'), 'two!');
    assert.notEqual(await (await FileHasher.open(dir, cache)).hash('a.txt'), 'from-cache');
  });

  it('streams large files and hashes directories by content', async () => {
    const big = Buffer.alloc(3 << 20, 7);
    const dir = makeProject({ 'd/x.txt': 'x', 'd/sub/y.txt': 'y' });
    writeFileSync(join(dir, 'big.bin'), big);
    const hasher = await FileHasher.open(dir);
    const { createHash } = await import('node:crypto');
    assert.equal(await hasher.hash('big.bin'), createHash('sha256').update(big).digest('hex'));
    const d1 = await hasher.hash('d');
    writeFileSync(join(dir, 'd/sub/y.txt'), 'Y');
    assert.notEqual(await (await FileHasher.open(dir)).hash('d'), d1);
    assert.equal(await hasher.hash('missing'), undefined);
  });
});

describe('code closure of a uses: module', () => {
  const project = () =>
    makeProject({
      'stages/a.ts':
        "import { h } from './lib/helper.ts';\nimport { parse } from 'yaml';\nimport { readFileSync } from 'node:fs';\nexport default () => h(parse('1'));\n",
      'stages/lib/helper.ts': "import { deep } from './deep.ts';\nexport const h = (x: number) => deep(x);\n",
      'stages/lib/deep.ts': 'export const deep = (x: number) => x + 1;\n',
      'stages/unrelated.ts': 'export const u = 1;\n',
      'package-lock.json': JSON.stringify({
        packages: {
          '': {},
          'node_modules/yaml': { version: '2.3.4' },
          'node_modules/x/node_modules/yaml': { version: '1.0.0' },
        },
      }),
    });

  it('covers the module, every local import transitively, and package versions from package-lock.json', async () => {
    const dir = project();
    const hasher = await FileHasher.open(dir);
    const closure = await (await ModuleGraph.open(dir, hasher)).closure('stages/a.ts');
    assert.deepEqual(Object.keys(closure.files), ['stages/a.ts', 'stages/lib/deep.ts', 'stages/lib/helper.ts']);
    assert.deepEqual(closure.packages, { yaml: '2.3.4' });
  });

  it('reuses a cached closure until a file in it changes', async () => {
    const dir = project();
    const cache = join(dir, '.pipeline/modules.json');
    const g1 = await ModuleGraph.open(dir, await FileHasher.open(dir), cache);
    await g1.closure('stages/a.ts');
    await g1.save();
    writeFileSync(join(dir, 'stages/lib/deep.ts'), "import './extra.ts';\nexport const deep = (x: number) => x + 2;\n");
    writeFileSync(join(dir, 'stages/lib/extra.ts'), 'export {};\n');
    const g2 = await ModuleGraph.open(dir, await FileHasher.open(dir), cache);
    assert.ok(
      'stages/lib/extra.ts' in (await g2.closure('stages/a.ts')).files,
      'a new import below a changed file is found',
    );
  });

  it('in a pipeline: editing an imported helper reruns its stages; editing an unrelated file does not; a package upgrade does', async () => {
    const dir = exampleProject();
    writeFileSync(
      join(dir, 'package-lock.json'),
      JSON.stringify({ packages: { 'node_modules/left-pad': { version: '1.0.0' } } }),
    );
    await reproJson(dir);
    edit(dir, 'stages/unrelated.ts', 'unused = 1', 'unused = 2');
    const unrelated = await reproJson(dir, '--dry');
    assert.ok(
      unrelated.stages.every((s) => s.status === 'cached'),
      JSON.stringify(unrelated.status),
    );

    edit(dir, 'stages/helper.ts', 'x * 2', 'x * 4');
    const helper = await reproJson(dir, '--dry');
    assert.equal(helper.status['train@sgd-1'], 'would-run');
    assert.deepEqual(helper.stages.find((s) => s.name === 'train@sgd-1')?.reasons, ['code stages/helper.ts changed']);
    assert.equal(helper.status.prepare, 'cached');
    edit(dir, 'stages/helper.ts', 'x * 4', 'x * 2');

    edit(dir, 'stages/summary.ts', 'export default', "import leftPad from 'left-pad';\nvoid leftPad;\nexport default");
    const added = await reproJson(dir, '--dry', 'summary');
    assert.deepEqual(added.stages.find((s) => s.name === 'summary')?.reasons, [
      'code stages/summary.ts changed',
      'package left-pad: (none) -> "1.0.0"',
    ]);
    // Record that state without running the (unresolvable) import: fake it in the lockfile.
    const lock = JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8'));
    lock.stages.summary.packages = { 'left-pad': '1.0.0' };
    lock.stages.summary.code['stages/summary.ts'] = (await (await FileHasher.open(dir)).hash('stages/summary.ts'))!;
    const { fingerprint: _f, outputs: _o, outputs_hash: _h, metrics: _m, ...record } = lock.stages.summary;
    lock.stages.summary.fingerprint = fingerprintHash(record as FingerprintRecord);
    writeFileSync(join(dir, 'lockfile.json'), JSON.stringify(lock));
    assert.equal((await reproJson(dir, '--dry', 'summary')).status.summary, 'cached');
    writeFileSync(
      join(dir, 'package-lock.json'),
      JSON.stringify({ packages: { 'node_modules/left-pad': { version: '1.1.0' } } }),
    );
    const upgraded = await reproJson(dir, '--dry', 'summary');
    assert.deepEqual(upgraded.stages.find((s) => s.name === 'summary')?.reasons, [
      'package left-pad: "1.0.0" -> "1.1.0"',
    ]);
  });
});
