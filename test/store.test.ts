import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { FingerprintRecord } from '../src/fingerprint/fingerprint.ts';
import { asContentHash, asFingerprintHash, asOutputSetHash } from '../src/fingerprint/hash-types.ts';
import { ArtifactStore, type CommitInput } from '../src/store/store.ts';
import { encodeTable, tableHash } from '../src/store/table-codec.ts';
import { assertFailedRun } from './helpers/failed-run.ts';
import { edit, exampleProject, reproJson } from './helpers/project.ts';

const tmpStore = () => join(mkdtempSync(join(tmpdir(), 'store-test-')), 'pipeline.duckdb');

const RECORD: FingerprintRecord = {
  engine: 0,
  kind: 'cmd',
  cmd: ['true'],
  uses: null,
  params: {},
  deps: {},
  code: {},
  packages: {},
  outs: [],
  metric_files: [],
};

function commitInput(
  name: string,
  artifacts: CommitInput['artifacts'],
  outputs: CommitInput['result']['outputs'],
): CommitInput {
  const fingerprint = asFingerprintHash(name);
  return {
    result: { fingerprint, stage: 's', outputs, outputsHash: asOutputSetHash(`oh-${name}`), metrics: { acc: 0.9 } },
    fingerprintRecord: RECORD,
    inputs: { 'data/x': { kind: 'file', hash: asContentHash('h1') } },
    params: { lr: 0.1, opt: { beta: 0.9 } },
    artifacts,
    measurements: { seconds: 1.5 },
    run: {
      invocation: 'inv',
      stage: 's',
      fingerprint,
      status: 'ran',
      cacheHit: false,
      started: new Date(),
      seconds: 1,
      host: 'h',
      node: process.version,
      platform: 'linux',
      backend: 'wasm',
      provenance: { backend: 'wasm' },
      error: null,
    },
  };
}

describe('table artifacts', () => {
  it('round-trip through DuckDB as real tables with the same content hash', async () => {
    const table = encodeTable('t', {
      id: [1, 2, 3],
      big: [1, 2 ** 40, 3],
      text: ['a', "it's", null],
      score: new Float32Array([0.5, 0.25, 0.125]),
      x: [0.1, Number.NaN, -0],
      ok: [true, false, null],
      tokens: [[1, 2, 3], [], [7]],
    });
    assert.deepEqual(
      table.columns.map((c) => c.type),
      ['INTEGER', 'BIGINT', 'VARCHAR', 'FLOAT', 'DOUBLE', 'BOOLEAN', 'INTEGER[]'],
    );
    const hash = tableHash(table);
    const store = await ArtifactStore.open(tmpStore());
    await store.commit(commitInput('f1', [{ kind: 'table', hash, table }], { 'table:t': { kind: 'table', hash } }));
    const back = await store.readTable(hash);
    assert.deepEqual(back, {
      id: [1, 2, 3],
      big: [1, 2 ** 40, 3],
      text: ['a', "it's", null],
      score: [0.5, 0.25, 0.125],
      x: [0.1, Number.NaN, -0],
      ok: [true, false, null],
      tokens: [[1, 2, 3], [], [7]],
    });
    const reread = encodeTable('t', back);
    reread.columns[3]!.type = 'FLOAT';
    assert.equal(tableHash(reread), hash, 'the stored table hashes to its address');
    const sql = await store.query(
      `SELECT sum(id) AS s FROM ${(await store.query(`SELECT table_name FROM artifacts WHERE hash = '${hash}'`))[0]!.table_name as string}`,
    );
    assert.deepEqual(sql, [{ s: '6' }]);
    assert.deepEqual(await store.query('SELECT stage, name, value FROM params ORDER BY name'), [
      { stage: 's', name: 'lr', value: '0.1' },
      { stage: 's', name: 'opt.beta', value: '0.9' },
    ]);
    await store.close();
  });

  it('rejects ragged and mixed-type columns with a message naming them', () => {
    assert.throws(() => encodeTable('t', { a: [1, 2], b: [1] }), /table "t": column "b" has 1 rows, others have 2/);
    assert.throws(() => encodeTable('t', { a: [1, 'x'] }), /column "t\.a" mixes number and string values/);
  });
});

describe('store transactions', () => {
  it('stores metrics and measurements that are integral doubles beyond int64 (a learning rate of 1e30)', async () => {
    const store = await ArtifactStore.open(tmpStore());
    const withBlob = (fingerprint: string, blob: string) => {
      const hash = asContentHash(blob);
      return commitInput(fingerprint, [{ kind: 'blob', hash, bytes: new Uint8Array([1]) }], {
        'blob:w': { kind: 'blob', hash },
      });
    };
    const one = withBlob('fa1', 'bb1');
    one.result.metrics = { selected_learning_rate: 1e30, acc: 0.9 };
    one.measurements = { seconds: 1e300 };
    const two = withBlob('fa2', 'bb2');
    two.result.metrics = { selected_learning_rate: -1e25 };
    // One input alone and a batch: both ways a commit is written.
    await store.commit(one);
    await store.commitMany([two]);
    assert.deepEqual((await store.findResult(asFingerprintHash('fa1')))?.metrics, {
      selected_learning_rate: 1e30,
      acc: 0.9,
    });
    assert.deepEqual(await store.measurementsOf(asFingerprintHash('fa1')), { seconds: 1e300 });
    assert.deepEqual((await store.findResult(asFingerprintHash('fa2')))?.metrics, { selected_learning_rate: -1e25 });
    await store.close();
  });

  it('a failed commit stores nothing, and the store stays usable', async () => {
    const store = await ArtifactStore.open(tmpStore());
    const good = encodeTable('t', { a: [1] });
    const bad = { columns: [{ name: 'a', type: 'INTEGER' as const, values: ['not a number'] }], rows: 1 };
    await assert.rejects(
      store.commit(
        commitInput(
          'f2',
          [
            { kind: 'table', hash: tableHash(good), table: good },
            { kind: 'table', hash: asContentHash('badhash'), table: bad },
          ],
          {},
        ),
      ),
      /storing the results of s failed, nothing was stored/,
    );
    assert.equal(await store.findResult(asFingerprintHash('f2')), undefined);
    assert.deepEqual(await store.query('SELECT count(*)::INT AS n FROM artifacts'), [{ n: 0 }]);
    assert.deepEqual(
      await store.query("SELECT count(*)::INT AS n FROM information_schema.tables WHERE table_name LIKE 'table_%'"),
      [{ n: 0 }],
    );
    await store.commit(
      commitInput('f3', [{ kind: 'blob', hash: asContentHash('b1'), bytes: new Uint8Array([1, 2]) }], {
        'blob:w': { kind: 'blob', hash: asContentHash('b1') },
      }),
    );
    assert.deepEqual((await store.findResult(asFingerprintHash('f3')))?.metrics, { acc: 0.9 });
    assert.deepEqual(await store.measurementsOf(asFingerprintHash('f3')), { seconds: 1.5 });
    assert.deepEqual([...(await store.readBlob(asContentHash('b1')))], [1, 2]);
    await store.close();
  });

  it('upgrades a version-1 store in place, backfilling params and lineage kinds', async () => {
    const path = tmpStore();
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const { VERSION_1 } = await import('../src/store/schema.ts');
    const inst = await DuckDBInstance.create(path);
    const db = await inst.connect();
    await db.run(VERSION_1);
    await db.run(`INSERT INTO store_meta VALUES ('schema_version', '1')`);
    await db.run(
      `INSERT INTO results VALUES ('fa', 'up', 'oh-a', '{"params":{"lr":0.1,"opt":{"b":2}}}', now()), ('fb', 'down', 'oh-b', '{"params":{}}', now())`,
    );
    await db.run(`INSERT INTO lineage VALUES ('fb', 'up', 'oh-a'), ('fb', 'data.txt', 'abc')`);
    db.closeSync();
    inst.closeSync();
    const store = await ArtifactStore.open(path);
    assert.deepEqual(await store.query(`SELECT value FROM store_meta WHERE key = 'schema_version'`), [{ value: '3' }]);
    assert.deepEqual(await store.query('SELECT stage, name, value FROM params ORDER BY name'), [
      { stage: 'up', name: 'lr', value: '0.1' },
      { stage: 'up', name: 'opt.b', value: '2' },
    ]);
    assert.deepEqual(await store.query('SELECT input, kind FROM lineage ORDER BY input'), [
      { input: 'data.txt', kind: 'file' },
      { input: 'up', kind: 'stage' },
    ]);
    await store.close();
  });

  it('opens a store whose creation was killed half-way (a file with some tables and no version)', async () => {
    const path = tmpStore();
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inst = await DuckDBInstance.create(path);
    const db = await inst.connect();
    await db.run('CREATE TABLE blobs (hash VARCHAR PRIMARY KEY, bytes BLOB NOT NULL)');
    db.closeSync();
    inst.closeSync();
    const ro = await ArtifactStore.open(path, { readOnly: true });
    assert.deepEqual(await ro.query('SELECT count(*)::INT AS n FROM results'), [{ n: 0 }]);
    await ro.close();
  });

  it('refuses a store written by a newer schema version instead of overwriting it', async () => {
    const path = tmpStore();
    const store = await ArtifactStore.open(path);
    await store.query("UPDATE store_meta SET value = '99' WHERE key = 'schema_version'");
    await store.close();
    await assert.rejects(
      ArtifactStore.open(path),
      /written by a newer version of pipeline \(store schema 99, this one reads 3\); upgrade pipeline, or move the file aside/,
    );
  });
});

describe('what a stage returns', () => {
  it('an output that cannot be stored fails the stage with its name, storing nothing for it', async () => {
    const dir = exampleProject();
    edit(
      dir,
      'stages/summary.ts',
      'json: { runs: stage.length, measured }',
      'json: { runs: stage.length, measured }, tables: { bad: { a: [1, 2], b: [1] } }',
    );
    assertFailedRun(await reproJson(dir), { summary: 'failed' }, [
      /summary failed: table "bad": column "b" has 1 rows, others have 2/,
    ]);
    const lock = JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8'));
    assert.equal(lock.stages.summary, undefined);
  });
});
