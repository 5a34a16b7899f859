import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArtifactStore } from '../src/store/store.ts';
import { cli, makeProject, reproJson, startCli } from './helpers/project.ts';

/**
 * Two `uses:` stages that can only succeed if they run at the same time: each announces itself
 * with a file and waits (up to 20 s) for the other's. Run one at a time, the first gives up and
 * fails; so passing shows real concurrency without timing anything.
 */
function rendezvousProject(): string {
  const stage = (me: string, other: string) => `import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
export default async function (ctx: any) {
  writeFileSync(ctx.root + '/${me}.started', String(process.pid));
  for (let i = 0; i < 200; i++) {
    if (existsSync(ctx.root + '/${other}.started')) return { metrics: { pid: process.pid } };
    await sleep(100);
  }
  throw new Error('${other} never started alongside ${me}');
}
`;
  return makeProject({
    'pipeline.yaml':
      'stages:\n  left: {uses: stages/left.ts}\n  right: {uses: stages/right.ts}\n  both: {cmd: echo done, deps: [left, right]}\n',
    'stages/left.ts': stage('left', 'right'),
    'stages/right.ts': stage('right', 'left'),
  });
}

/** A pipeline with quick stages around one slow stage, to be interrupted or contended. */
function slowProject(seconds: number): string {
  return makeProject({
    'pipeline.yaml': `stages:
  first: {cmd: echo first > first.txt, outs: [first.txt]}
  slow:
    uses: stages/slow.ts
    deps: [first]
    params: {seconds: ${seconds}}
  last: {cmd: echo last, deps: [slow]}
`,
    'stages/slow.ts': `import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
export default async function (ctx: any) {
  writeFileSync(ctx.root + '/slow.started', '');
  await sleep(ctx.params.seconds * 1000);
  return { tables: { t: { x: [1, 2, 3] } } };
}
`,
  });
}

async function waitFor(path: string, timeoutMs = 30000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${path}`);
    await sleep(50);
  }
}

describe('concurrency', () => {
  it('-j 2 runs two independent uses: stages at once, in separate processes', async () => {
    const dir = rendezvousProject();
    const r = await reproJson(dir, '-j', '2');
    assert.equal(r.result.code, 0, r.result.stderr);
    assert.deepEqual(r.status, { left: 'ran', right: 'ran', both: 'ran' });
    const lock = JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8'));
    assert.notEqual(lock.stages.left.metrics.pid, lock.stages.right.metrics.pid);
  });

  it('a second repro fails at once naming the holder, or waits with --wait', async () => {
    const dir = slowProject(3);
    const first = startCli(dir, ['repro']);
    await waitFor(join(dir, 'slow.started'));
    const second = await cli(dir, 'repro');
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      new RegExp(
        `^error: another pipeline process \\(pid ${first.child.pid} on .*holds .*lock; wait for it, or pass --wait`,
      ),
    );
    const waiting = cli(dir, 'repro', '--wait', '--json');
    const r1 = await first.done;
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = await waiting;
    assert.equal(r2.code, 0, r2.stderr);
    const stages = JSON.parse(r2.stdout.trim()).stages as Array<{ status: string }>;
    assert.ok(
      stages.every((s) => s.status === 'cached'),
      'the waiter finds everything done',
    );
  });

  it('SIGKILL to the whole run mid-stage leaves the store valid; the rerun completes', async () => {
    const dir = slowProject(30);
    const run = startCli(dir, ['repro']);
    await waitFor(join(dir, 'slow.started'));
    process.kill(-run.child.pid!, 'SIGKILL');
    const killed = await run.done;
    assert.equal(killed.signal, 'SIGKILL');

    // The lockfile is whole and holds the stage that finished; the store opens and agrees.
    const lock = JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8'));
    assert.deepEqual(Object.keys(lock.stages), ['first']);
    const store = await ArtifactStore.open(join(dir, 'artifacts/pipeline.duckdb'));
    assert.ok(await store.findResult(lock.stages.first.fingerprint));
    const results = await store.query('SELECT stage FROM results ORDER BY stage');
    assert.deepEqual(results, [{ stage: 'first' }]);
    await store.close();

    // A stale writer lock from the killed process is taken over; the finished stage is not redone.
    assert.ok(existsSync(join(dir, '.pipeline/lock')));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      join(dir, 'pipeline.yaml'),
      readFileSync(join(dir, 'pipeline.yaml'), 'utf8').replace('seconds: 30', 'seconds: 0'),
    );
    const rerun = await reproJson(dir);
    assert.equal(rerun.result.code, 0, rerun.result.stderr);
    assert.deepEqual(rerun.status, { first: 'cached', slow: 'ran', last: 'ran' });
  });

  it('SIGINT stops running stages, stores nothing partial, and exits 130', async () => {
    const dir = slowProject(30);
    const run = startCli(dir, ['repro']);
    await waitFor(join(dir, 'slow.started'));
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /interrupted; finished and stored: first/);
    const lock = JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8'));
    assert.deepEqual(Object.keys(lock.stages), ['first']);
    assert.ok(!existsSync(join(dir, '.pipeline/lock')), 'the writer lock is released');
  });
});
