import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, exampleProject, makeProject, reproJson, startCli, type JsonStage } from './helpers/project.ts';

const jsonOf = (stdout: string): JsonStage[] =>
  (JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { stages: JsonStage[] }).stages;
const planOf = (stages: JsonStage[]) =>
  stages.map((s) => `${s.name}:${s.status}${s.cache === undefined ? '' : `/${s.cache}`}`).sort();

/** What a clone of the project has: its files and committed lockfile, no store, no caches. */
function cleanCopy(dir: string, withOuts: boolean): string {
  const copy = mkdtempSync(join(tmpdir(), 'pipeline-clone-'));
  for (const p of [
    'pipeline.yaml',
    'lockfile.json',
    'package.json',
    'data',
    'scripts',
    'stages',
    ...(withOuts ? ['out'] : []),
  ]) {
    cpSync(join(dir, p), join(copy, p), { recursive: true });
  }
  return copy;
}

describe('status decides as repro --dry does', () => {
  for (const withOuts of [false, true]) {
    it(`in a clean copy with the committed lockfile and no store${withOuts ? ', out files present' : ''}: the same stages, "not in the store", nothing written`, async () => {
      const built = exampleProject();
      assert.equal((await reproJson(built)).result.code, 0);
      const dir = cleanCopy(built, withOuts);
      const before = readdirSync(dir).sort();
      const status = await cli(dir, 'status', '--json');
      assert.equal(status.code, 0, status.stderr);
      const dry = await cli(dir, 'repro', '--dry', '--json');
      assert.equal(dry.code, 0, dry.stderr);
      assert.deepEqual(planOf(jsonOf(status.stdout)), planOf(jsonOf(dry.stdout)));
      const stale = jsonOf(status.stdout).filter((s) => s.status === 'would-run');
      assert.equal(stale.length, 8, 'with no store, every stage would run, as repro then does');
      const prepare = jsonOf(status.stdout).find((s) => s.name === 'prepare')!;
      assert.deepEqual(prepare.reasons, withOuts ? ['not in the store'] : ['out/prepared.txt is missing']);
      assert.match((await cli(dir, 'status')).stdout, /^would run prepare: /m);
      assert.deepEqual(readdirSync(dir).sort(), before, 'status and --dry write nothing (no store, no .pipeline/)');
      const ran = await reproJson(dir);
      assert.deepEqual(Object.values(ran.status).filter((s) => s === 'ran').length, 8);
    });
  }

  it('with a store: a result the store holds is "would restore" in both', async () => {
    const dir = exampleProject();
    await reproJson(dir);
    writeFileSync(join(dir, 'out/prepared.txt'), 'changed\n');
    const status = await cli(dir, 'status', '--json');
    const dry = await cli(dir, 'repro', '--dry', '--json');
    assert.deepEqual(planOf(jsonOf(status.stdout)), planOf(jsonOf(dry.stdout)));
    assert.ok(planOf(jsonOf(status.stdout)).includes('prepare:cached/store'));
    assert.match(
      (await cli(dir, 'status')).stdout,
      /^would restore prepare from the store: out\/prepared\.txt was modified$/m,
    );
    assert.equal(readFileSync(join(dir, 'out/prepared.txt'), 'utf8'), 'changed\n', 'status restores nothing');
  });
});

describe('verify --rerun runs through the scheduler and executors of repro', () => {
  it("applies a stage's timeout: a stage that hangs only when rerun is stopped and reported failed", async () => {
    // The scratch copy of a rerun has no .pipeline/ directory: there, and only there, it hangs.
    const dir = makeProject({
      'pipeline.yaml': `stages:
  quick: {cmd: echo quick > out/quick.txt, outs: [out/quick.txt]}
  hangs:
    cmd: if [ ! -e .pipeline/original ]; then sleep 300; fi; echo done > out/hangs.txt
    outs: [out/hangs.txt]
    timeout: 3s
`,
    });
    mkdirSync(join(dir, '.pipeline'), { recursive: true });
    writeFileSync(join(dir, '.pipeline/original'), '');
    assert.equal((await reproJson(dir)).result.code, 0);
    const started = Date.now();
    const r = await cli(dir, 'verify', '--rerun', '-j', '2');
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.ok(seconds < 60, `stopped within the timeout, not after the 300 s sleep (${seconds} s)`);
    assert.match(r.stdout, /^failed +hangs .*timed out after \d+\.\ds \(timeout: 3s\)/m);
    assert.match(r.stdout, /^reproduced quick /m);
    assert.match(r.stdout, /1 of 2 stage\(s\) reproduced bit for bit/);
  });
});

describe('one failure boundary per stage', () => {
  it('a store lookup that throws fails that stage alone: the running stage completes, the failure names a log, the store verifies', async () => {
    const dir = makeProject({
      'pipeline.yaml': `stages:
  slow: {cmd: sleep 2 && echo slow > out/slow.txt, outs: [out/slow.txt]}
  first: {cmd: echo first > out/first.txt, outs: [out/first.txt]}
  broken: {cmd: echo broken > out/broken.txt, outs: [out/broken.txt], deps: [first]}
`,
    });
    const run = startCli(dir, ['repro', '-j', '2', '--json'], { PIPELINE_FAULT: 'throw-lookup:broken' });
    const r = await run.done;
    assert.equal(r.code, 1, r.stderr);
    const status = Object.fromEntries(jsonOf(r.stdout).map((s) => [s.name, s.status]));
    assert.deepEqual(status, { slow: 'ran', first: 'ran', broken: 'failed' });
    const line =
      /broken failed: internal error: injected fault: lookup of broken threw \(a bug in pipeline; stack in (\.pipeline\/logs\/\S+\.log)\)/.exec(
        r.stderr,
      );
    assert.ok(line, r.stderr);
    const log = readFileSync(join(dir, line[1]!), 'utf8');
    assert.match(log, /while handling stage broken/);
    assert.match(log, /at faultThrow /, 'the log holds the stack');
    const verify = await cli(dir, 'verify');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8')).stages).sort(), [
      'first',
      'slow',
    ]);
    const verbose = await cli(dir, '--verbose', 'repro');
    assert.equal(verbose.code, 0, 'without the fault the run completes');
  });

  it('--verbose prints the stack of an internal error', async () => {
    const dir = makeProject({ 'pipeline.yaml': 'stages:\n  a: {cmd: echo a > a.txt, outs: [a.txt]}\n' });
    const r = await startCli(dir, ['--verbose', 'repro'], { PIPELINE_FAULT: 'throw-lookup:a' }).done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: injected fault: lookup of a threw\n\s+at faultThrow/m);
  });
});

describe('a lockfile per profile', () => {
  const project = () =>
    makeProject({
      'pipeline.yaml': `vars: {n: 1}
stages:
  make: {cmd: echo \${n} > out/n.txt, outs: [out/n.txt], params: {n: \${n}}}
  sum:
    uses: stages/sum.ts
    deps: [make]
`,
      'profiles/small.yaml': 'vars: {n: 2}\n',
      'stages/sum.ts':
        "import { readFileSync } from 'node:fs';\nexport default async (ctx: any) => ({ metrics: { n: Number(readFileSync(ctx.root + '/out/n.txt', 'utf8')) } });\n",
    });

  it('--profile NAME reads and writes lockfile.NAME.json; lockfile.json is never touched; status, params diff, metrics and verify follow', async () => {
    const a = project();
    assert.equal((await reproJson(a)).result.code, 0);
    const defaultLock = readFileSync(join(a, 'lockfile.json'));
    const b = project();
    for (const dir of [a, b]) {
      const r = await reproJson(dir, '--profile', 'small');
      assert.equal(r.result.code, 0, r.result.stderr);
      assert.deepEqual(r.status, { make: 'ran', sum: 'ran' });
    }
    assert.deepEqual(
      readFileSync(join(a, 'lockfile.json')),
      defaultLock,
      'the default lockfile is untouched by a profile run',
    );
    assert.ok(!existsSync(join(b, 'lockfile.json')), 'a profile run from nothing writes no lockfile.json');
    assert.equal(
      readFileSync(join(a, 'lockfile.small.json'), 'utf8'),
      readFileSync(join(b, 'lockfile.small.json'), 'utf8'),
      'two profile runs from empty stores agree byte for byte',
    );
    assert.equal(JSON.parse(readFileSync(join(a, 'lockfile.small.json'), 'utf8')).stages.sum.metrics.n, 2);

    assert.equal((await cli(a, '--profile', 'small', 'status')).stdout.trim(), 'everything is up to date');
    assert.match(
      (await cli(a, '--profile', 'small', 'params', 'diff')).stdout,
      /^no params changed since the lockfile$/m,
    );
    assert.match((await cli(a, 'params', 'diff')).stdout, /^no params changed since the lockfile$/m);
    const metrics = JSON.parse((await cli(a, '--profile', 'small', 'metrics', 'show', '--json')).stdout);
    assert.deepEqual(metrics, { sum: { n: 2 } });
    assert.deepEqual(JSON.parse((await cli(a, 'metrics', 'show', '--json')).stdout), { sum: { n: 1 } });
    const verify = await cli(a, '--profile', 'small', 'verify');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /lockfile\.small\.json agrees with the store/);
    // gc without the profile keeps what the profile's lockfile needs.
    assert.equal((await cli(a, 'gc')).code, 0);
    const again = await reproJson(a, '--profile', 'small');
    assert.ok(
      Object.values(again.status).every((s) => s === 'cached'),
      JSON.stringify(again.status),
    );
    assert.deepEqual(readFileSync(join(a, 'lockfile.json')), defaultLock);
  });
});
