import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertFailedRun } from './helpers/failed-run.ts';
import { cli, edit, exampleProject, makeProject, reproJson } from './helpers/project.ts';

const lockfile = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8')) as {
    stages: Record<string, { fingerprint: string; params: Record<string, unknown> }>;
  };
const all = (status: Record<string, string>, s: string) => Object.values(status).every((v) => v === s);

describe('pipeline repro on the example project', () => {
  it('runs everything, then nothing, then only what a param change touches, then nothing after the revert', async () => {
    const dir = exampleProject();
    const first = await reproJson(dir);
    assert.equal(first.result.code, 0, first.result.stderr);
    assert.equal(first.stages.length, 8);
    assert.ok(all(first.status, 'ran'), JSON.stringify(first.status));
    const lock1 = lockfile(dir);
    assert.deepEqual(Object.keys(lock1.stages).sort(), Object.keys(first.status).sort());
    assert.equal(lock1.stages['train@adam-2']?.params.seed, 2, 'matrix value keeps its number type');

    const second = await reproJson(dir);
    assert.equal(second.result.code, 0);
    assert.ok(all(second.status, 'cached'), JSON.stringify(second.status));
    assert.ok(second.stages.every((s) => s.cache === 'lockfile'));

    edit(dir, 'pipeline.yaml', 'lr: 0.01', 'lr: 0.02');
    const third = await reproJson(dir);
    assert.equal(third.status.prepare, 'cached');
    for (const [name, st] of Object.entries(third.status)) if (name !== 'prepare') assert.equal(st, 'ran', name);
    assert.notDeepEqual(lockfile(dir), lock1);

    edit(dir, 'pipeline.yaml', 'lr: 0.02', 'lr: 0.01');
    const fourth = await reproJson(dir);
    assert.ok(all(fourth.status, 'cached'), JSON.stringify(fourth.status));
    assert.ok(fourth.stages.filter((s) => s.name !== 'prepare').every((s) => s.cache === 'store'));
    assert.deepEqual(lockfile(dir), lock1, 'reverting the param brings back the identical lockfile');
  });

  it('explains with --dry what would run and why, and runs nothing', async () => {
    const dir = exampleProject();
    await reproJson(dir);
    edit(dir, 'pipeline.yaml', 'n: 100', 'n: 50');
    edit(dir, 'stages/helper.ts', 'x * 2', 'x * 3');
    const before = readFileSync(join(dir, 'lockfile.json'), 'utf8');
    const dry = await reproJson(dir, '--dry');
    assert.equal(dry.result.code, 0);
    const why = Object.fromEntries(dry.stages.map((s) => [s.name, s.reasons ?? []]));
    assert.deepEqual(why.prepare, ['command changed', 'param n: 100 -> 50']);
    assert.equal(dry.status.prepare, 'would-run');
    assert.equal(dry.status['train@sgd-1'], 'would-run');
    assert.deepEqual(why['train@sgd-1'], ['upstream prepare will run']);
    assert.equal(readFileSync(join(dir, 'lockfile.json'), 'utf8'), before, '--dry writes nothing');

    edit(dir, 'pipeline.yaml', 'n: 50', 'n: 100');
    const dry2 = await reproJson(dir, '--dry');
    assert.equal(dry2.status.prepare, 'cached');
    assert.deepEqual(dry2.stages.find((s) => s.name === 'train@adam-3')?.reasons, ['code stages/helper.ts changed']);
    const status = await cli(dir, 'status');
    assert.match(status.stdout, /train@adam-3: code stages\/helper\.ts changed/);

    edit(dir, 'stages/helper.ts', 'x * 3', 'x * 2');
    edit(dir, 'data/raw.txt', 'fox', 'cat');
    const input = await reproJson(dir, '--dry');
    assert.deepEqual(input.stages.find((s) => s.name === 'prepare')?.reasons, ['dep data/raw.txt changed']);
    edit(dir, 'data/raw.txt', 'cat', 'fox');
    assert.equal((await cli(dir, 'status')).stdout.trim(), 'everything is up to date');
  });

  it('dag, show and params diff describe the pipeline and its recorded state', async () => {
    const dir = exampleProject();
    const dag = await cli(dir, 'dag');
    assert.match(dag.stdout, /^prepare {2}<- {2}file data\/raw\.txt, file scripts\/prepare\.js$/m);
    assert.match(
      dag.stdout,
      /^summary {2}<- {2}train@sgd-1, train@sgd-2, train@sgd-3, train@adam-1, train@adam-2, train@adam-3$/m,
    );
    const mermaid = (await cli(dir, 'dag', '--format', 'mermaid')).stdout;
    assert.match(mermaid, /^flowchart TD\n {2}s0\["prepare"\]/);
    assert.equal((mermaid.match(/-->/g) ?? []).length, 12);
    const json = JSON.parse((await cli(dir, 'dag', '--format', 'json', 'train@sgd-1')).stdout);
    assert.deepEqual(json.edges, [{ from: 'prepare', to: 'train@sgd-1' }]);
    assert.match((await cli(dir, 'dag', '--format', 'dot')).stdout, /"prepare" -> "train@sgd-1";/);

    assert.match((await cli(dir, 'show', 'prepare')).stdout, /not run yet/);
    await reproJson(dir);
    const show = (await cli(dir, 'show', 'train@adam-2')).stdout;
    assert.match(show, /^ {2}params {7}\{"lr":0\.01,"optimizer":"adam","seed":2\}$/m);
    assert.match(show, /^ {2}code {9}stages\/helper\.ts {2}[0-9a-f]{12}$/m);
    assert.match(show, /^ {2}metric {7}lines = 100$/m);
    assert.match(show, /^ {4}\S+ \S+ {2}ran /m);

    edit(dir, 'pipeline.yaml', 'n: 100', 'n: 7');
    const diff = JSON.parse((await cli(dir, 'params', 'diff', '--json')).stdout);
    assert.deepEqual(diff, [{ stage: 'prepare', param: 'n', old: 100, new: 7 }]);
    assert.match((await cli(dir, 'params', 'diff')).stdout, /^prepare +n +100 +7$/m);
  });

  it('restores a deleted or modified out file from the store without running the stage', async () => {
    const dir = exampleProject();
    await reproJson(dir);
    const out = join(dir, 'out/prepared.txt');
    const original = readFileSync(out, 'utf8');
    writeFileSync(out, 'tampered\n');
    const r = await reproJson(dir);
    assert.equal(r.status.prepare, 'cached');
    assert.equal(r.stages.find((s) => s.name === 'prepare')?.cache, 'store');
    assert.equal(readFileSync(out, 'utf8'), original);
    rmSync(out);
    await reproJson(dir);
    assert.equal(readFileSync(out, 'utf8'), original);
  });

  it('selects targets: a matrix name with its upstream, an expanded name, and --downstream', async () => {
    const dir = exampleProject();
    const one = await reproJson(dir, 'train@sgd-2');
    assert.deepEqual(Object.keys(one.status).sort(), ['prepare', 'train@sgd-2']);
    const group = await reproJson(dir, 'train');
    assert.equal(group.stages.length, 7);
    edit(dir, 'data/raw.txt', 'fox', 'dog');
    const down = await reproJson(dir, '--downstream', 'train@adam-1');
    assert.deepEqual(Object.keys(down.status).sort(), ['summary', 'train@adam-1']);
    const unknown = await cli(dir, 'repro', 'trian');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no stage named "trian" \(did you mean "train"\?\)/);
  });

  it('a missing input after a cached expansion still gets its file:line:column', async () => {
    const dir = exampleProject();
    await reproJson(dir);
    rmSync(join(dir, 'data/raw.txt'));
    const r = await cli(dir, 'repro');
    assert.equal(r.code, 2);
    assert.match(
      r.stderr.split('\n')[0]!,
      /pipeline\.yaml:6:12: error: stage "prepare" depends on "data\/raw\.txt", which is neither a stage nor an existing file$/,
    );
  });

  it('an upstream rerun that reproduces its outputs leaves downstream cached; a changed upstream param label does not', async () => {
    const dir = exampleProject();
    await reproJson(dir);
    edit(dir, 'stages/helper.ts', 'x * 2;', 'x * 2; // same numbers');
    const same = await reproJson(dir);
    assert.equal(same.status['train@sgd-1'], 'ran');
    assert.equal(same.status.summary, 'cached', 'identical upstream outputs do not force the summary');
    // A param the train stage ignores changes no output, but the summary can see it in ctx.inputs.
    edit(dir, 'pipeline.yaml', 'lr: 0.01}', 'lr: 0.01, note: relabelled}');
    const relabelled = await reproJson(dir);
    assert.equal(relabelled.status['train@sgd-1'], 'ran');
    assert.equal(relabelled.status.summary, 'ran');
  });

  it("metrics show and metrics diff against a git revision, in DVC's manner", async () => {
    const dir = exampleProject();
    await reproJson(dir);
    const shown = JSON.parse((await cli(dir, 'metrics', 'show', 'train', '--json')).stdout) as Record<
      string,
      Record<string, number>
    >;
    assert.equal(Object.keys(shown).length, 6);
    assert.equal(shown['train@sgd-1']!.lines, 100);
    assert.match((await cli(dir, 'metrics', 'show', 'prepare')).stdout, /^no metrics recorded$/m);
    const { execFileSync } = await import('node:child_process');
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, stdio: 'pipe' });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'first');
    edit(dir, 'pipeline.yaml', 'lr: 0.01', 'lr: 0.02');
    await reproJson(dir);
    const diff = JSON.parse((await cli(dir, 'metrics', 'diff', '--json', '--targets', 'train@sgd-1')).stdout) as Array<{
      metric: string;
      old: number;
      new: number;
      change: number;
    }>;
    assert.deepEqual(
      diff.map((d) => d.metric),
      ['final_loss'],
    );
    assert.ok(diff[0]!.new < diff[0]!.old && Math.abs(diff[0]!.change - (diff[0]!.new - diff[0]!.old)) < 1e-15);
    assert.match(
      (await cli(dir, 'metrics', 'diff', 'HEAD')).stdout,
      /^stage +metric +HEAD +workspace +change\ntrain@adam-1 +final_loss /,
    );
    assert.equal((await cli(dir, 'metrics', 'diff', 'no-such-rev')).code, 2);
  });

  it('metrics diff reads a non-finite metric at a git revision as the work tree has it', async () => {
    const dir = makeProject({
      'pipeline.yaml': 'stages:\n  score:\n    uses: stages/score.ts\n',
      'package.json': '{"type": "module"}\n',
      'stages/score.ts': 'export default async () => ({ metrics: { perplexity: Infinity, accuracy: 0.5 } });\n',
    });
    assert.equal((await reproJson(dir)).result.code, 0);
    const { execFileSync } = await import('node:child_process');
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, stdio: 'pipe' });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'first');
    const same = await cli(dir, 'metrics', 'diff', 'HEAD');
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stdout, 'no metric changed since HEAD\n');
    const all = JSON.parse((await cli(dir, 'metrics', 'diff', 'HEAD', '--all', '--json')).stdout) as unknown[];
    assert.deepEqual(all, [
      { stage: 'score', metric: 'accuracy', old: 0.5, new: 0.5, change: 0 },
      // JSON has no Infinity: the printed object says null, as JSON.stringify writes it.
      { stage: 'score', metric: 'perplexity', old: null, new: null, change: 0 },
    ]);
  });

  it('measurements reach downstream stages but neither the hashes nor the lockfile', async () => {
    const dir = exampleProject();
    await reproJson(dir);
    const before = readFileSync(join(dir, 'lockfile.json'), 'utf8');
    assert.ok(!before.includes('finished_ms'));
    const forced = await reproJson(dir, '--force', 'train@sgd-1');
    assert.equal(forced.status['train@sgd-1'], 'ran');
    const after = await reproJson(dir);
    assert.equal(after.status.summary, 'cached', 'a new measurement alone does not rerun downstream');
    assert.equal(readFileSync(join(dir, 'lockfile.json'), 'utf8'), before);
    const q = JSON.parse(
      (await cli(dir, 'query', "SELECT count(*)::INT AS n FROM measurements WHERE name = 'finished_ms'", '--json'))
        .stdout,
    );
    assert.deepEqual(q, [{ n: 6 }]);
    const out = await cli(dir, 'export', 'summary:measured', '--format', 'json', '-o', join(dir, 's.json'));
    assert.equal(out.code, 0, out.stderr);
    assert.equal(JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')), true);
  });

  it('--force reruns cached stages', async () => {
    const dir = exampleProject();
    await reproJson(dir);
    const r = await reproJson(dir, '--force', 'prepare');
    assert.deepEqual(r.status, { prepare: 'ran' });
  });

  it('a failing stage: exit 1, its output tail printed, earlier stages stay stored, later ones skipped', async () => {
    const failure = 'console.error("summary is about to fail"); throw new Error("boom in summary"); ';
    const dir = exampleProject();
    edit(dir, 'stages/summary.ts', 'return {', `${failure}return {`);
    assertFailedRun(await reproJson(dir, '-j', '2'), { summary: 'failed', 'train@sgd-1': 'ran' }, [
      /summary failed: boom in summary/,
      /summary is about to fail/,
    ]);
    const lock = lockfile(dir);
    assert.ok(lock.stages['train@sgd-1'] !== undefined && lock.stages.summary === undefined);
    edit(dir, 'stages/summary.ts', failure, '');
    const again = await reproJson(dir);
    assert.equal(again.result.code, 0);
    assert.equal(again.status.summary, 'ran');
    assert.equal(again.status['train@sgd-1'], 'cached');
  });

  it('a failing cmd stage skips what depends on it', async () => {
    const dir = exampleProject();
    edit(dir, 'pipeline.yaml', 'node scripts/prepare.js', 'echo about to fail >&2; exit 3; node scripts/prepare.js');
    assertFailedRun(await reproJson(dir), { prepare: 'failed', summary: 'skipped' }, [
      /exited with code 3/,
      /about to fail/,
    ]);
    assert.ok(!existsSync(join(dir, 'lockfile.json')) || lockfile(dir).stages.prepare === undefined);
  });
});

describe('pipeline --version', () => {
  it('prints the package version and the engine version stored in lockfile entries, and exits 0', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const { ENGINE_VERSION } = await import('../src/fingerprint/fingerprint.ts');
    for (const flag of ['--version', '-V']) {
      const r = await cli(makeProject({}), flag);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${pkg.version} (engine ${ENGINE_VERSION})\n`);
    }
  });
});
