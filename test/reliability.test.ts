import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArtifactStore } from '../src/store/store.ts';
import { assertFailedRun } from './helpers/failed-run.ts';
import { cli, makeProject, reproJson, startCli } from './helpers/project.ts';

/** 20 chained and fanned-out cmd stages, each a little slow, all deterministic. */
function twentyStages(): string {
  const lines = ['stages:'];
  for (let i = 0; i < 12; i++) {
    lines.push(`  chain${i}:`, `    cmd: sleep 0.05 && echo ${i} > out/chain${i}.txt`, `    outs: [out/chain${i}.txt]`);
    if (i > 0) lines.push(`    deps: [out/chain${i - 1}.txt]`);
  }
  lines.push(
    '  fan:',
    '    cmd: sleep 0.05 && echo ${item.k} > out/fan${item.k}.txt',
    '    deps: [chain11]',
    '    matrix: {k: [1, 2, 3, 4, 5, 6, 7]}',
    '    outs: [out/fan${item.k}.txt]',
  );
  lines.push('  total:', '    uses: stages/total.ts', '    deps: [fan]');
  return makeProject({
    'pipeline.yaml': `${lines.join('\n')}\n`,
    'stages/total.ts': `import { readFileSync } from 'node:fs';
export default async function (ctx: any) {
  const names: string[] = ctx.inputs.map((i: any) => i.name);
  return { tables: { inputs: { name: names } }, metrics: { count: names.length } };
}
`,
  });
}

/** A small deterministic generator so the kill moments are the same on every run of the suite. */
function* moments(seed: number, count: number, maxMs: number): Generator<number> {
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    yield Math.floor((x / 2 ** 31) * maxMs);
  }
}

async function killAndCheck(
  dir: string,
  killAfterMs: number | 'fault',
  expectedLock: string,
  env?: Record<string, string>,
): Promise<void> {
  const run = startCli(dir, ['repro'], env);
  if (killAfterMs !== 'fault') {
    await sleep(killAfterMs);
    try {
      process.kill(-run.child.pid!, 'SIGKILL');
    } catch {
      // It finished before the moment came: still a valid (uninterrupted) sample.
    }
  }
  await run.done;
  const verify = await cli(dir, 'verify');
  if (existsSync(join(dir, 'artifacts/pipeline.duckdb')))
    assert.equal(verify.code, 0, `after a kill at ${killAfterMs}: ${verify.stdout}${verify.stderr}`);
  const before = existsSync(join(dir, 'lockfile.json'))
    ? Object.keys(JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8')).stages)
    : [];
  const resumed = await reproJson(dir);
  assert.equal(resumed.result.code, 0, resumed.result.stderr);
  for (const name of before)
    assert.equal(resumed.status[name], 'cached', `${name} finished before the kill and must not run again`);
  assert.equal(
    readFileSync(join(dir, 'lockfile.json'), 'utf8'),
    expectedLock,
    `the lockfile after a kill at ${killAfterMs} ms and a rerun equals an uninterrupted run's`,
  );
}

describe('killed at any moment', () => {
  it('20 seeded SIGKILLs of the whole process group: store verifies, nothing finished is lost, the rerun converges', async () => {
    const reference = twentyStages();
    const started = Date.now();
    const full = await reproJson(reference);
    assert.equal(full.result.code, 0, full.result.stderr);
    assert.equal(full.stages.length, 20);
    const duration = Date.now() - started;
    const expected = readFileSync(join(reference, 'lockfile.json'), 'utf8');
    for (const ms of moments(42, 20, duration)) await killAndCheck(twentyStages(), ms, expected);
  });

  it('killed inside a store transaction and between lockfile write and rename', async () => {
    const reference = twentyStages();
    await reproJson(reference);
    const expected = readFileSync(join(reference, 'lockfile.json'), 'utf8');
    for (const fault of ['commit:chain5', 'lockfile:chain5', 'commit:total']) {
      const dir = twentyStages();
      await killAndCheck(dir, 'fault', expected, { PIPELINE_FAULT: fault });
    }
  });
});

describe('stopping stages and their children', () => {
  const project = (extra = '') =>
    makeProject({
      'pipeline.yaml': `stages:\n  quick: {cmd: echo ok}\n  hang:\n    cmd: (sleep 300; echo late) & echo $! > grandchild.pid; wait\n    deps: [quick]\n${extra}`,
    });
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  async function grandchild(dir: string): Promise<number> {
    for (let i = 0; i < 300 && !existsSync(join(dir, 'grandchild.pid')); i++) await sleep(50);
    await sleep(100);
    return Number(readFileSync(join(dir, 'grandchild.pid'), 'utf8'));
  }

  it('SIGINT to the coordinator alone stops a stage and the processes it started; exit 130', async () => {
    const dir = project();
    const run = startCli(dir, ['repro']);
    const pid = await grandchild(dir);
    assert.ok(alive(pid));
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130);
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
    assert.ok(!alive(pid), 'the grandchild was stopped too');
    assert.match(r.stderr, /interrupted; finished and stored: quick/);
  });

  it('a per-stage timeout stops the stage and its children, fails it, and keeps what finished', async () => {
    const dir = project('    timeout: 1s\n');
    assertFailedRun(await reproJson(dir), { hang: 'failed', quick: 'ran' }, [
      /hang failed: timed out after \d+\.\ds \(timeout: 1s\); the stage and its child processes were stopped/,
    ]);
    const pid = Number(readFileSync(join(dir, 'grandchild.pid'), 'utf8'));
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
    assert.ok(!alive(pid));
  });
});

describe('a corrupt, foreign or full store', () => {
  const simple = () => makeProject({ 'pipeline.yaml': 'stages:\n  a: {cmd: echo a > a.txt, outs: [a.txt]}\n' });

  for (const [name, damage] of [
    ['garbage bytes', (p: string) => writeFileSync(p, Buffer.alloc(8192, 0x5a))],
    ['a truncated file', (p: string) => writeFileSync(p, readFileSync(p).subarray(0, 4096))],
  ] as const) {
    it(`${name}: a clear error naming the file and a way out; the file is left as it was`, async () => {
      const dir = simple();
      await reproJson(dir);
      const path = join(dir, 'artifacts/pipeline.duckdb');
      damage(path);
      const bytes = readFileSync(path);
      writeFileSync(join(dir, 'pipeline.yaml'), 'stages:\n  a: {cmd: echo b > a.txt, outs: [a.txt]}\n');
      const r = await cli(dir, 'repro');
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^error: cannot open the store .*pipeline\.duckdb: .*\(move the file aside to start a new store, or restore it from a copy; nothing was written\)$/m,
      );
      assert.deepEqual(readFileSync(path), bytes);
    });
  }

  it('a store from a newer schema version is refused and not touched', async () => {
    const dir = simple();
    await reproJson(dir);
    const path = join(dir, 'artifacts/pipeline.duckdb');
    const s = await ArtifactStore.open(path);
    await s.exec("UPDATE store_meta SET value = '7' WHERE key = 'schema_version'");
    await s.close();
    const bytes = readFileSync(path);
    writeFileSync(join(dir, 'pipeline.yaml'), 'stages:\n  a: {cmd: echo c > a.txt, outs: [a.txt]}\n');
    const r = await cli(dir, 'repro');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /written by a newer version of pipeline \(store schema 7/);
    assert.deepEqual(readFileSync(path), bytes);
  });

  it('a full disk fails the stage cleanly: nothing half-stored, earlier results intact', async (t) => {
    const dir = makeProject({
      'pipeline.yaml': 'stages:\n  small: {uses: stages/small.ts}\n  big: {uses: stages/big.ts, deps: [small]}\n',
      'stages/small.ts': 'export default async () => ({ json: { ok: true } });\n',
      'stages/big.ts':
        "import { randomBytes } from 'node:crypto';\nexport default async () => ({ blobs: { weights: randomBytes(24 << 20) } });\n",
    });
    mkdirSync(join(dir, 'artifacts'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', join(dir, 'artifacts')], { stdio: 'ignore' });
    } catch {
      t.skip('mounting a small tmpfs needs root (CI runs as root)');
      return;
    }
    try {
      assertFailedRun(await reproJson(dir), { small: 'ran', big: 'failed' }, [
        /big failed: storing the results of big failed, nothing was stored: .*(space|disk|write)/i,
      ]);
      const verify = await cli(dir, 'verify');
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      const q = JSON.parse((await cli(dir, 'query', 'SELECT stage FROM results ORDER BY stage', '--json')).stdout);
      assert.deepEqual(q, [{ stage: 'small' }]);
      // Read-only: the same store, remounted read-only, gives a clear error and stays intact.
      execFileSync('mount', ['-o', 'remount,ro', join(dir, 'artifacts')]);
      writeFileSync(join(dir, 'stages/big.ts'), 'export default async () => ({ json: { small: true } });\n');
      const ro = await cli(dir, 'repro');
      assert.equal(ro.code, 1);
      assert.match(ro.stderr, /error: cannot open the store .*(read-only|Read-only)/);
    } finally {
      execFileSync('umount', ['-l', join(dir, 'artifacts')]);
    }
  });
});
