import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { asFingerprintHash } from '../src/fingerprint/hash-types.ts';
import type { Resources } from '../src/config/schema.ts';
import { jobResources, sbatchOptions, slurmTime } from '../src/run/slurm/sbatch-options.ts';
import { describeExit, failureMessage } from '../src/run/slurm/slurm-executor.ts';
import { parseScontrolLine } from '../src/run/slurm/slurm-commands.ts';
import { cli, edit, exampleProject, makeProject, startCli, type CliResult, type JsonStage } from './helpers/project.ts';
import { sha256Hex } from '../src/util/sha256-hex.ts';

/**
 * The Slurm executor against a real Slurm: the one-node cluster test/slurm/start.sh brings up
 * on 127.0.0.1 (`npm test`, test/run.sh, starts it before the suite and stops it after). Where no cluster
 * answers, the cluster tests are skipped with the reason; the tests above them need no cluster.
 */

interface SlurmJson {
  stages: Array<
    JsonStage & { job?: { id: string; state: string; exitCode: string | null; node: string | null }; error?: string }
  >;
  executor: string;
  submitted: number;
}

function parseJson(r: CliResult): SlurmJson {
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as SlurmJson;
  } catch {
    throw new Error(`repro --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

async function reproSlurm(
  dir: string,
  ...args: string[]
): Promise<{ result: CliResult; json: SlurmJson; status: Record<string, string> }> {
  const result = await cli(dir, 'repro', '--json', ...args);
  const json = parseJson(result);
  return { result, json, status: Object.fromEntries(json.stages.map((s) => [s.name, s.status])) };
}

async function waitFor(path: string, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${path}`);
    await sleep(100);
  }
}

/** The store verifies, and lockfile.json agrees with it. */
async function assertStoreValid(dir: string): Promise<void> {
  const v = await cli(dir, 'verify');
  assert.equal(v.code, 0, `verify: ${v.stdout}${v.stderr}`);
}

describe('Slurm executor, without a cluster', () => {
  it('maps resources to sbatch options; a stage overrides the executor defaults key by key', () => {
    const merged = jobResources(
      { partition: 'gpu', account: 'lab', time: '2h', gpus: 1, sbatch_args: ['--exclude=n7'] },
      { gpus: 0, mem: '16g', cpus: 4 },
    );
    assert.deepEqual(merged, { partition: 'gpu', account: 'lab', time: '2h', cpus: 4, mem: '16g', gpus: 0 });
    assert.deepEqual(sbatchOptions(merged), [
      '--partition=gpu',
      '--account=lab',
      '--time=120',
      '--cpus-per-task=4',
      '--mem=16G',
    ]);
    const all: Resources = {
      cpus: 8,
      mem: 500,
      gpus: 'a100:2',
      gres: 'gpu:1',
      time: '1-12:00:00',
      partition: 'p',
      account: 'a',
      qos: 'high',
      constraint: 'a100&ib',
    };
    assert.deepEqual(sbatchOptions(all), [
      '--partition=p',
      '--account=a',
      '--qos=high',
      '--time=1-12:00:00',
      '--cpus-per-task=8',
      '--mem=500M',
      '--gpus=a100:2',
      '--gres=gpu:1',
      '--constraint=a100&ib',
    ]);
    assert.deepEqual(
      [slurmTime('90s'), slurmTime('1.5h'), slurmTime('1d'), slurmTime('10s'), slurmTime('01:30:00')],
      ['2', '90', '1440', '1', '01:30:00'],
    );
  });

  it("reads scontrol's one-line records and words a failed job's state and exit code", () => {
    const f = parseScontrolLine(
      'JobId=7 JobName=train@a b JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15 TimeLimit=00:01:00 NodeList=gpu03 Command=/x/job.sh StdOut=/p/job.log',
    );
    assert.equal(f.JobName, 'train@a b');
    assert.equal(f.JobState, 'TIMEOUT');
    assert.equal(f.StdOut, '/p/job.log');
    assert.equal(describeExit('1:0'), 'exit code 1');
    assert.equal(describeExit('0:9'), 'exit code 0, signal 9');
    const d = { id: '7', reason: null, node: 'gpu03', exitCode: '0:15', timeLimit: '00:01:00' };
    assert.equal(
      failureMessage({ ...d, state: 'TIMEOUT' }, undefined, undefined),
      'Slurm job 7 TIMEOUT: stopped at its time limit of 1 min (resources.time), exit code 0, signal 15',
    );
    assert.match(
      failureMessage({ ...d, state: 'OUT_OF_MEMORY', exitCode: '0:125' }, undefined, '4G'),
      /OUT_OF_MEMORY: it used more memory than it asked for \(resources\.mem: 4G\)/,
    );
    const said = {
      version: 1,
      ok: false as const,
      stage: 's',
      fingerprint: asFingerprintHash('f'),
      reason: 'failed' as const,
      message: 'boom',
      host: 'h',
    };
    assert.equal(
      failureMessage({ ...d, state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '1:0' }, said, undefined),
      'Slurm job 7 FAILED, exit code 1: boom',
    );
  });

  it('resources do not enter the fingerprint: a bigger node computes the same result', async () => {
    const dir = exampleProject();
    const before = parseJson(await cli(dir, 'repro', '--dry', '--json'));
    edit(
      dir,
      'pipeline.yaml',
      '    uses: stages/train.ts\n',
      '    uses: stages/train.ts\n    resources: {cpus: 4, mem: 16G, gpus: "${item.seed}", time: 2h, partition: gpu}\n',
    );
    writeFileSync(
      join(dir, 'pipeline.yaml'),
      `${readFileSync(join(dir, 'pipeline.yaml'), 'utf8')}executor:\n  slurm: {account: lab, sbatch_args: [--exclude=n7]}\n`,
    );
    const after = parseJson(await cli(dir, 'repro', '--dry', '--json'));
    assert.deepEqual(
      after.stages.map((s) => [s.name, s.fingerprint]),
      before.stages.map((s) => [s.name, s.fingerprint]),
    );
  });

  it('run-stage refuses a stage whose fingerprint differs, runs one that matches, and never opens the store', async () => {
    const dir = exampleProject();
    const dry = parseJson(await cli(dir, 'repro', '--dry', '--json'));
    const fingerprint = dry.stages.find((s) => s.name === 'prepare')!.fingerprint!;
    const out = join(dir, 'staging');

    const wrong = await cli(dir, 'run-stage', 'prepare', '--fingerprint', '0'.repeat(64), '--out', out);
    assert.equal(wrong.code, 3, wrong.stdout + wrong.stderr);
    assert.match(
      wrong.stdout,
      /prepare: the stage changed between submission and run \(fingerprint [0-9a-f]{12} here, 000000000000 submitted\); it was not run/,
    );
    assert.equal(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).reason, 'changed');
    assert.ok(!existsSync(join(dir, 'out/prepared.txt')), 'nothing ran');

    const right = await cli(dir, 'run-stage', 'prepare', '--fingerprint', fingerprint, '--out', out);
    assert.equal(right.code, 0, right.stdout + right.stderr);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      ok: boolean;
      files: Array<{ path: string; staged: string; sha256: string }>;
    };
    assert.equal(manifest.ok, true);
    const file = manifest.files[0]!;
    assert.equal(file.path, 'out/prepared.txt');
    assert.equal(file.sha256, sha256Hex(readFileSync(join(out, file.staged))));
    assert.equal(file.sha256, sha256Hex(readFileSync(join(dir, 'out/prepared.txt'))));
    assert.ok(!existsSync(join(dir, 'artifacts/pipeline.duckdb')), 'run-stage never creates or opens the store');
  });
});

// Where the test cluster of test/slurm/start.sh keeps its configuration.
const CLUSTER_CONF = join(process.env.PIPELINE_SLURM_DIR ?? '/tmp/pipeline-slurm', 'slurm.conf');

function clusterUnavailable(): string | undefined {
  const conf = process.env.SLURM_CONF ?? (existsSync(CLUSTER_CONF) ? CLUSTER_CONF : undefined);
  const env = { ...process.env, ...(conf === undefined ? {} : { SLURM_CONF: conf }) };
  try {
    const ping = execFileSync('scontrol', ['ping'], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10_000,
    });
    if (!/is UP/.test(ping)) return `slurmctld does not answer (${ping.trim()}): run test/slurm/start.sh`;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? "Slurm's client commands are not installed (Debian: apt-get install slurmctld slurmd slurm-client munge; then test/slurm/start.sh)"
      : `no Slurm cluster answers${conf === undefined ? '' : ` at SLURM_CONF=${conf}`}: run test/slurm/start.sh`;
  }
  // The CLI processes the tests start inherit this, and so do the jobs they submit.
  if (conf !== undefined) process.env.SLURM_CONF = conf;
  return undefined;
}

const unavailable = clusterUnavailable();
if (unavailable !== undefined) process.stderr.write(`skipping the Slurm cluster tests: ${unavailable}\n`);

/** This project's jobs that slurmctld still lists as queued or running. */
function activeJobsOf(dir: string): string[] {
  const out = execFileSync('squeue', ['--noheader', '--format=%i|%T|%Z'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split('|'))
    .filter(([, , workdir]) => workdir === dir)
    .map(([id, state]) => `${id} ${state}`);
}

const EXECUTOR = 'executor:\n  slurm: {poll_interval: 250ms}\n';

// Concurrent: the time-limit test waits a minute or more for Slurm, the others use that time.
describe('Slurm executor on a real cluster', { skip: unavailable, concurrency: true }, () => {
  it('runs a matrix pipeline of 8 stages as jobs, to the same lockfile as the local executor; a second run submits nothing', async () => {
    const onSlurm = exampleProject();
    const local = exampleProject();
    // Resources and the executor block only in the Slurm copy: neither may change a fingerprint.
    for (const dir of [onSlurm]) {
      edit(
        dir,
        'pipeline.yaml',
        '    uses: stages/train.ts\n',
        '    uses: stages/train.ts\n    resources: {cpus: 1, mem: 100M, time: 10m}\n',
      );
      writeFileSync(join(dir, 'pipeline.yaml'), readFileSync(join(dir, 'pipeline.yaml'), 'utf8') + EXECUTOR);
    }
    const [slurm, here] = await Promise.all([reproSlurm(onSlurm, '-j', '4'), reproSlurm(local, '-j', '2')]);
    assert.equal(slurm.result.code, 0, slurm.result.stderr);
    assert.equal(here.result.code, 0, here.result.stderr);
    assert.equal(slurm.json.executor, 'slurm');
    assert.equal(slurm.json.stages.length, 8);
    assert.equal(slurm.json.submitted, 8);
    for (const s of slurm.json.stages) {
      assert.equal(s.status, 'ran', s.name);
      assert.equal(s.job?.state, 'COMPLETED', s.name);
      assert.equal(s.job?.exitCode, '0:0', s.name);
    }
    assert.equal(here.json.executor, 'local');
    assert.equal(here.json.submitted, 0);
    assert.equal(
      readFileSync(join(onSlurm, 'lockfile.json'), 'utf8'),
      readFileSync(join(local, 'lockfile.json'), 'utf8'),
    );
    // The staging directory of a run whose jobs all succeeded is gone.
    assert.deepEqual(execFileSync('find', [join(onSlurm, '.pipeline/slurm'), '-type', 'f'], { encoding: 'utf8' }), '');

    const again = await reproSlurm(onSlurm);
    assert.equal(again.result.code, 0, again.result.stderr);
    assert.equal(again.json.submitted, 0, 'every stage is a cache hit, decided by the coordinator');
    assert.ok(
      again.json.stages.every((s) => s.status === 'cached' && s.job === undefined),
      JSON.stringify(again.status),
    );

    // --executor local overrides pipeline.yaml's executor.
    const forced = await reproSlurm(onSlurm, '--executor', 'local', '--force', 'prepare');
    assert.deepEqual([forced.json.executor, forced.json.submitted, forced.status.prepare], ['local', 0, 'ran']);
    await assertStoreValid(onSlurm);
  });

  it('a failing job: its Slurm state, exit code and log tail; a job sbatch refuses; nothing of them stored; with -k independent stages go on', async () => {
    const dir = makeProject({
      'pipeline.yaml': `stages:
  bad:
    cmd: echo about to fail >&2; exit 3
  after-bad: {cmd: echo never, deps: [bad]}
  nowhere: {cmd: echo never, resources: {partition: no-such-partition}}
  good:
    cmd: echo fine > good.txt
    outs: [good.txt]
`,
    });
    const r = await reproSlurm(dir, '--executor', 'slurm', '-k', '-j', '2');
    assert.equal(r.result.code, 1, r.result.stderr);
    assert.deepEqual(r.status, { bad: 'failed', 'after-bad': 'skipped', nowhere: 'failed', good: 'ran' });
    assert.equal(r.json.submitted, 2, 'sbatch refused the job for a partition that does not exist');
    assert.match(r.result.stderr, /✗ nowhere failed: sbatch refused the job: .*invalid partition/i);
    const bad = r.json.stages.find((s) => s.name === 'bad')!;
    assert.equal(bad.job?.state, 'FAILED');
    assert.equal(bad.job?.exitCode, '1:0', 'run-stage exits 1 when the stage fails');
    assert.match(
      r.result.stderr,
      /✗ bad failed: Slurm job \d+ FAILED, exit code 1: command exited with code 3: echo about to fail >&2; exit 3 \(log: \.pipeline\/slurm\/[0-9a-f]{8}\/bad-[0-9a-f]{8}\/job\.log\)\n {4}pipeline run-stage: bad on .*\n {4}about to fail\n/,
    );
    const lock = JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8')) as { stages: Record<string, unknown> };
    assert.deepEqual(Object.keys(lock.stages), ['good']);
    const runs = JSON.parse(
      (
        await cli(
          dir,
          'query',
          "SELECT stage, status, provenance->>'slurm_state' AS state FROM runs ORDER BY stage",
          '--json',
        )
      ).stdout,
    );
    assert.deepEqual(runs, [
      { stage: 'bad', status: 'failed', state: 'FAILED' },
      { stage: 'good', status: 'ran', state: 'COMPLETED' },
      { stage: 'nowhere', status: 'failed', state: null },
    ]);
    await assertStoreValid(dir);
  });

  it('SIGINT to the coordinator cancels its jobs (scancel), stores nothing partial and exits 130', async () => {
    const dir = makeProject({
      'pipeline.yaml': `stages:
  first: {cmd: echo first > first.txt, outs: [first.txt]}
  slow:
    uses: stages/slow.ts
    deps: [first]
  slower: {cmd: touch slower.started; sleep 300, deps: [first]}
  last: {cmd: echo last, deps: [slow]}
${EXECUTOR}`,
      'stages/slow.ts': `import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
export default async function (ctx: any) {
  writeFileSync(ctx.root + '/slow.started', '');
  await sleep(300_000, undefined, { signal: ctx.signal });
  return { json: { never: true } };
}
`,
    });
    const run = startCli(dir, ['repro', '-j', '2']);
    let r: CliResult;
    try {
      await waitFor(join(dir, 'slow.started'));
      assert.ok(activeJobsOf(dir).length >= 1);
    } finally {
      // Also when the wait failed: a coordinator left running would keep its jobs queued.
      run.child.kill('SIGINT');
      r = await run.done;
    }
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.match(r.stderr, /interrupted; finished and stored: first/);
    assert.match(r.stdout, /✗ slow failed: interrupted/);
    assert.deepEqual(activeJobsOf(dir), [], 'none of its jobs is left in the queue');
    const lock = JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8')) as { stages: Record<string, unknown> };
    assert.deepEqual(Object.keys(lock.stages), ['first']);
    assert.ok(!existsSync(join(dir, '.pipeline/lock')), 'the writer lock is released');
    await assertStoreValid(dir);
  });

  it(
    "a job past its time limit: Slurm's TIMEOUT, the limit, the exit code and the log tail; the store stays valid",
    { timeout: 240_000 },
    async () => {
      // Slurm's shortest limit is a minute, and slurmctld checks limits every 30 s: 60-90 s here.
      // What the job says of itself after Slurm's SIGTERM ("stopped by a signal", or nothing if
      // SIGKILL came first) depends on timing, so that part of the message is not pinned down.
      const dir = makeProject({
        'pipeline.yaml': `stages:
  first: {cmd: echo first > first.txt, outs: [first.txt]}
  slow:
    cmd: echo sleeping past the limit; sleep 600
    deps: [first]
    resources: {time: 1m}
${EXECUTOR}`,
      });
      const r = await reproSlurm(dir);
      assert.equal(r.result.code, 1, r.result.stderr);
      assert.deepEqual(r.status, { first: 'ran', slow: 'failed' });
      assert.equal(r.json.stages.find((s) => s.name === 'slow')!.job?.state, 'TIMEOUT');
      assert.match(
        r.result.stderr,
        /✗ slow failed: Slurm job \d+ TIMEOUT: stopped at its time limit of 1 min \(resources\.time\), exit code \d+(, signal \d+)?(: .*)? \(log: \S+\/job\.log\)\n(?: {4}.*\n)* {4}sleeping past the limit\n {4}.*DUE TO TIME LIMIT/,
      );
      const lock = JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8')) as { stages: Record<string, unknown> };
      assert.deepEqual(Object.keys(lock.stages), ['first']);
      await assertStoreValid(dir);
    },
  );
});
