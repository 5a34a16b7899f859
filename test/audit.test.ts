import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ArtifactStore } from '../src/store/store.ts';
import { checkBundleRecords } from './helpers/bundle.ts';
import { cli, edit, exampleProject, reproJson } from './helpers/project.ts';

const storeOf = (dir: string) => join(dir, 'artifacts/pipeline.duckdb');
const lockOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8'));

async function withStore<T>(dir: string, fn: (s: ArtifactStore) => Promise<T>): Promise<T> {
  const store = await ArtifactStore.open(storeOf(dir));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function builtProject(): Promise<string> {
  const dir = exampleProject();
  const r = await reproJson(dir);
  assert.equal(r.result.code, 0, r.result.stderr);
  return dir;
}

describe('pipeline verify', () => {
  it('passes on an intact store, then catches a tampered table, blob and lockfile entry, and a missing artifact', async () => {
    const dir = await builtProject();
    const ok = await cli(dir, 'verify');
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(
      ok.stdout,
      /^verified: \d+ artifacts and 8 results match their hashes, and lockfile\.json agrees with the store$/m,
    );

    const lock = lockOf(dir);
    const curve = lock.stages['train@sgd-1'].outputs['table:curve'].hash as string;
    const outFile = lock.stages.prepare.outputs['file:out/prepared.txt'].hash as string;
    await withStore(dir, async (s) => {
      const [t] = await s.rows('SELECT table_name FROM artifacts WHERE hash = $h', { h: curve });
      await s.exec(`UPDATE "${String(t!.table_name)}" SET loss = loss + 0.001 WHERE step = 2`);
      await s.exec(`UPDATE blobs SET bytes = 'forged'::BLOB WHERE hash = $h`, { h: outFile });
    });
    lock.stages.summary.params = { forged: true };
    lock.stages['train@adam-1'].outputs['table:curve'].hash = 'f'.repeat(64);
    writeFileSync(join(dir, 'lockfile.json'), JSON.stringify(lock));

    const bad = await cli(dir, 'verify', '--json');
    assert.equal(bad.code, 1);
    const { mismatches } = JSON.parse(bad.stdout) as {
      mismatches: Array<{
        problem: string;
        artifact: string | null;
        stage: string | null;
        expected: string | null;
        found: string | null;
      }>;
    };
    const find = (re: RegExp, stage?: string) =>
      mismatches.find(
        (m) => re.test(m.problem) && (stage === undefined || (m.stage ?? '').split(', ').includes(stage)),
      );
    const table = find(/content does not match its hash/, 'train@sgd-1');
    assert.ok(table, JSON.stringify(mismatches, null, 1));
    assert.equal(table.artifact, curve);
    assert.equal(table.expected, curve);
    assert.notEqual(table.found, curve);
    assert.ok(find(/content does not match its hash/, 'prepare'), 'the forged out-file blob is caught');
    assert.ok(find(/lockfile entry does not hash to its fingerprint/, 'summary'));
    assert.ok(find(/lockfile output table:curve differs from the store/, 'train@adam-1'));
    const human = await cli(dir, 'verify');
    assert.equal(human.code, 1);
    assert.match(human.stdout, /^4 problem\(s\) found:\nproblem +artifact +stage +expected +found/);

    await withStore(dir, (s) => s.exec('DELETE FROM artifacts WHERE hash = $h', { h: curve }));
    const missing = JSON.parse((await cli(dir, 'verify', '--json')).stdout) as {
      mismatches: Array<{ problem: string }>;
    };
    assert.ok(missing.mismatches.some((m) => /points to an artifact that is not stored/.test(m.problem)));
  });

  it('--rerun re-executes stages from stored inputs and compares bit for bit; a non-deterministic stage is caught', async () => {
    const dir = await builtProject();
    const all = await cli(dir, 'verify', '--rerun', '--json');
    assert.equal(all.code, 0, all.stderr);
    const report = JSON.parse(all.stdout) as {
      reproduced: number;
      total: number;
      stages: Array<{ stage: string; status: string }>;
    };
    assert.deepEqual([report.reproduced, report.total], [8, 8]);
    assert.ok(!existsSync(join(dir, 'out/rerun')), 'the work tree is not touched');

    const sample = JSON.parse(
      (await cli(dir, 'verify', '--rerun', '--sample', '2', '--seed', '5', '--json')).stdout,
    ) as typeof report;
    const again = JSON.parse(
      (await cli(dir, 'verify', '--rerun', '--sample', '2', '--seed', '5', '--json')).stdout,
    ) as typeof report;
    assert.equal(sample.total, 2);
    assert.deepEqual(
      sample.stages.map((s) => s.stage),
      again.stages.map((s) => s.stage),
      'a seeded sample is the same sample',
    );

    edit(
      dir,
      'stages/summary.ts',
      'json: { runs: stage.length, measured }',
      'json: { runs: stage.length, noise: Math.random() }',
    );
    await reproJson(dir);
    const noisy = await cli(dir, 'verify', '--rerun', 'summary', 'prepare');
    assert.equal(noisy.code, 1);
    assert.match(noisy.stdout, /^differs +summary .*json:noise: recorded [0-9a-f]{12}, rerun [0-9a-f]{12}/m);
    assert.match(noisy.stdout, /^reproduced prepare /m);
    assert.match(noisy.stdout, /1 of 2 stage\(s\) reproduced bit for bit/);
  });
});

describe('pipeline lineage, query, export, show RUN', () => {
  it('traces a result down to the raw files, answers read-only SQL, exports artifacts and a bundle', async () => {
    const dir = await builtProject();
    const ascii = (await cli(dir, 'lineage', 'summary')).stdout;
    assert.match(ascii, /^summary {2}\[[0-9a-f]{12}, .*\] {2}uses stages\/summary\.ts$/m);
    assert.match(ascii, /<- file data\/raw\.txt [0-9a-f]{12}/);
    assert.match(ascii, /params \{"lr":0\.01,"optimizer":"adam","seed":3\}/);
    assert.match(ascii, /code stages\/helper\.ts [0-9a-f]{12}/);
    const json = JSON.parse((await cli(dir, 'lineage', 'summary', '--format', 'json')).stdout);
    assert.equal(json.inputs.length, 6);
    assert.equal(json.inputs[0].from.inputs[0].from.stage, 'prepare');
    assert.deepEqual(
      json.inputs[0].from.inputs[0].from.inputs.map((i: { name: string; kind: string }) => [i.name, i.kind]),
      [
        ['data/raw.txt', 'file'],
        ['scripts/prepare.js', 'file'],
      ],
    );
    const curve = lockOf(dir).stages['train@sgd-2'].outputs['table:curve'].hash as string;
    assert.match(
      (await cli(dir, 'lineage', curve.slice(0, 10))).stdout,
      /^train@(sgd|adam)-2 /,
      'an artifact shared by two stages traces to one of them',
    );
    assert.match((await cli(dir, 'lineage', 'summary', '--format', 'mermaid')).stdout, /^flowchart BT\n/);
    assert.equal((await cli(dir, 'lineage', 'nothing-like-this')).code, 1);

    const q = await cli(
      dir,
      'query',
      "SELECT stage, name, value FROM params WHERE stage = 'train@adam-2' ORDER BY name",
      '--json',
    );
    assert.deepEqual(JSON.parse(q.stdout), [
      { stage: 'train@adam-2', name: 'lr', value: '0.01' },
      { stage: 'train@adam-2', name: 'optimizer', value: '"adam"' },
      { stage: 'train@adam-2', name: 'seed', value: '2' },
    ]);
    for (const view of ['stages', 'runs', 'artifacts', 'lineage', 'metrics', 'params', 'invocations']) {
      const r = await cli(dir, 'query', `SELECT count(*) AS n FROM ${view}`, '--csv');
      assert.equal(r.code, 0, `${view}: ${r.stderr}`);
      assert.match(r.stdout, /^n\n[1-9]\d*\n$/);
    }
    const write = await cli(dir, 'query', 'DELETE FROM runs');
    assert.equal(write.code, 1);
    assert.match(write.stderr, /^error: the store is opened read-only for queries; this statement would change it/);
    assert.equal((await cli(dir, 'query', 'SELEC 1')).code, 2);
    assert.match(
      (await cli(dir, 'query', "SELECT stage, kind FROM stages WHERE stage = 'prepare'")).stdout,
      /^stage +kind\nprepare +cmd\n\(1 row\)$/m,
    );

    const csv = join(dir, 'curve.csv');
    assert.equal((await cli(dir, 'export', 'train@sgd-2:curve', '--format', 'csv', '-o', csv)).code, 0);
    assert.match(readFileSync(csv, 'utf8'), /^step,loss\n1,/);
    const parquet = join(dir, 'summary.parquet');
    assert.equal((await cli(dir, 'export', 'summary:table:summary', '-o', parquet)).code, 0);
    assert.equal(readFileSync(parquet).subarray(0, 4).toString(), 'PAR1');
    const jsonFile = join(dir, 'runs.json');
    assert.equal((await cli(dir, 'export', 'summary:runs', '--format', 'json', '-o', jsonFile)).code, 0);
    assert.equal(readFileSync(jsonFile, 'utf8').trim(), '6');
    assert.match(
      (await cli(dir, 'export', 'summary:nope', '-o', jsonFile)).stderr,
      /stage "summary" has no output "nope"/,
    );

    const bundle = join(dir, 'bundle');
    assert.equal((await cli(dir, 'export', '--bundle', bundle)).code, 0);
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')) as {
      files: Array<{ path: string; sha256: string; artifact: string | null }>;
    };
    const paths = manifest.files.map((f) => f.path);
    assert.ok(
      paths.includes('lockfile.json') &&
        paths.includes('tables/summary/summary.parquet') &&
        paths.includes('files/out/prepared.txt'),
    );
    const outFile = manifest.files.find((f) => f.path === 'files/out/prepared.txt')!;
    assert.equal(outFile.sha256, outFile.artifact, 'an out file exports byte for byte');
    // Every manifest hash is its file's (checked by checkBundleRecords), and the store's own
    // records travel with it: who ran what, where, when, from which commit.
    const runs = await checkBundleRecords(dir, bundle);
    assert.ok(
      runs.every(
        (r) => typeof r.host === 'string' && typeof r.node === 'string' && r.started !== null && r.status !== null,
      ),
    );
    assert.deepEqual([...new Set(runs.map((r) => r.stage))].sort(), Object.keys(lockOf(dir).stages).sort());
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const inv = (
      await db.runAndReadAll(
        `SELECT command, git_commit, git_dirty FROM read_parquet('${join(bundle, 'records/invocations.parquet')}')`,
      )
    ).getRowObjectsJson();
    db.closeSync();
    assert.ok(inv.length >= 1 && inv.every((i) => /repro/.test(String(i.command))), JSON.stringify(inv));

    const run = (await cli(dir, 'show', 'last')).stdout;
    for (const field of [
      'command',
      'node',
      'platform',
      'cpu',
      'pipeline_hash',
      'git_commit',
      'git_dirty',
      'ended',
      'exit_status',
    ])
      assert.match(run, new RegExp(`^ {2}${field} `, 'm'));
    assert.match(run, /^ {2}exit_status +0$/m);
    assert.match(run, /^ {4}summary +ran /m);
  });
});

describe('pipeline gc', () => {
  it('removes only what the lockfile (and --keep-last) does not need, in one go, and shrinks the file', async () => {
    const dir = await builtProject();
    edit(dir, 'pipeline.yaml', 'lr: 0.01', 'lr: 0.05');
    await reproJson(dir);
    const dry = await cli(dir, 'gc', '--dry');
    assert.match(dry.stdout, /^would remove 7 result\(s\) and \d+ artifact\(s\)/);
    const kept = await cli(dir, 'gc', '--keep-last', '2', '--dry');
    assert.match(kept.stdout, /^would remove 0 result\(s\)/);

    const before = statSync(storeOf(dir)).size;
    const gc = await cli(dir, 'gc');
    assert.equal(gc.code, 0, gc.stderr);
    assert.ok(statSync(storeOf(dir)).size <= before);
    const verify = await cli(dir, 'verify');
    assert.equal(verify.code, 0, verify.stdout);
    const noop = await reproJson(dir);
    assert.ok(
      noop.stages.every((s) => s.status === 'cached'),
      'everything the lockfile needs is still there',
    );
    edit(dir, 'pipeline.yaml', 'lr: 0.05', 'lr: 0.01');
    const back = await reproJson(dir);
    assert.equal(back.status['train@sgd-1'], 'ran', 'the collected results are really gone');
  });

  it('refuses to run without a lockfile', async () => {
    const dir = await builtProject();
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'lockfile.json'));
    const r = await cli(dir, 'gc');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /lockfile\.json is missing; gc keeps what the lockfile needs/);
  });
});
