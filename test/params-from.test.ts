import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cli, edit, makeProject, reproJson } from './helpers/project.ts';

interface Entry {
  fingerprint: string;
  params: Record<string, unknown>;
  params_from?: Record<string, { stage: string; json: string; key?: string; hash: string }>;
  outputs: Record<string, { hash: string }>;
  outputs_hash: string;
}
const lockfile = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8')) as { stages: Record<string, Entry> };

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A search-and-fine-tune in miniature: `select@ARCH` picks a learning rate (its param `lr`) and
 * writes it in its json output `selection`, beside a note and a table that are not selected;
 * `finetune@ARCH` takes the selection's optimizer as its `optimizer` param and its lr as a nested
 * param, and records what its context saw; `report` reads the fine-tunes' params.
 */
const PIPELINE = `vars:
  archs: [a, b]
stages:
  select:
    uses: stages/select.ts
    matrix: {arch: \${archs}}
    params: {arch: \${item.arch}, lr: 0.1, note: 1}
  finetune:
    uses: stages/finetune.ts
    matrix: {arch: \${archs}}
    params:
      optimizer: {name: sgd, learning_rate: 0.5}
      epochs: 2
    params_from:
      optimizer: {stage: "select@\${item.arch}", json: selection, key: optimizer}
      schedule.peak: {stage: "select@\${item.arch}", json: selection, key: values.lr}
  report:
    uses: stages/report.ts
    deps: [finetune]
`;

const FILES = {
  'package.json': '{"type": "module"}\n',
  'stages/select.ts': `export default async function (ctx: any) {
  const optimizer = { name: 'adam', learning_rate: ctx.params.lr };
  return {
    json: { selection: { arch: ctx.params.arch, optimizer, values: { lr: ctx.params.lr }, note: ctx.params.note } },
    tables: { trials: { trial: [0, 1], note: [ctx.params.note, ctx.params.note] } },
  };
}
`,
  'stages/finetune.ts': `export default async function (ctx: any) {
  return { json: { seen: ctx.params }, metrics: { lr: ctx.params.optimizer.learning_rate } };
}
`,
  'stages/report.ts': `export default async function (ctx: any) {
  return { json: { lrs: ctx.inputs.map((i: any) => [i.name, i.params.optimizer.learning_rate]) } };
}
`,
};

function project(yaml = PIPELINE, files: Record<string, string> = {}): string {
  const dir = makeProject({ 'pipeline.yaml': yaml, ...FILES, ...files });
  dirs.push(dir);
  return dir;
}

/** A stored json output of a stage, read back with `pipeline export`. */
async function storedJson(dir: string, stage: string, output: string): Promise<unknown> {
  const hash = lockfile(dir).stages[stage]!.outputs[`json:${output}`]!.hash;
  const r = await cli(dir, 'export', hash, '--format', 'json', '-o', join(dir, 'exported.json'));
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(readFileSync(join(dir, 'exported.json'), 'utf8'));
}

describe('params_from', () => {
  it('says before the first run which values are not known yet, and from where', async () => {
    const dir = project();
    const dry = await reproJson(dir, '--dry');
    assert.equal(dry.result.code, 0, dry.result.stderr);
    const why = Object.fromEntries(dry.stages.map((s) => [s.name, s.reasons ?? []]));
    assert.equal(dry.status['finetune@a'], 'would-run');
    assert.deepEqual(why['finetune@a'], [
      'optimizer: from select@a json:selection key optimizer, not known until that stage runs',
      'schedule.peak: from select@a json:selection key values.lr, not known until that stage runs',
    ]);
    assert.deepEqual(why.report, ['upstream finetune@a will run']);
    const status = await cli(dir, 'status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      /^would run finetune@b: optimizer: from select@b json:selection key optimizer, not known until that stage runs; schedule\.peak: from select@b/m,
    );
    assert.ok(!existsSync(join(dir, 'lockfile.json')), 'planning writes nothing');
    const diff = await cli(dir, 'params', 'diff', '--json');
    const pending = (JSON.parse(diff.stdout) as Array<{ stage: string; param: string; pending?: string }>).filter(
      (c) => c.pending !== undefined,
    );
    assert.deepEqual(
      pending.map((c) => `${c.stage} ${c.param}`),
      ['finetune@a optimizer', 'finetune@a schedule.peak', 'finetune@b optimizer', 'finetune@b schedule.peak'],
    );
    const dag = await cli(dir, 'dag');
    assert.match(dag.stdout, /^finetune@a {2}<- {2}select@a$/m, 'the implicit edge is drawn');
  });

  it("puts the selected value into the stage's context, its lockfile params and the fingerprint", async () => {
    const dir = project();
    const first = await reproJson(dir);
    assert.equal(first.result.code, 0, first.result.stderr);
    assert.ok(
      Object.values(first.status).every((s) => s === 'ran'),
      JSON.stringify(first.status),
    );
    const lock = lockfile(dir);
    const ft = lock.stages['finetune@a']!;
    const selected = { epochs: 2, optimizer: { name: 'adam', learning_rate: 0.1 }, schedule: { peak: 0.1 } };
    assert.deepEqual(ft.params, selected);
    assert.deepEqual(await storedJson(dir, 'finetune@a', 'seen'), selected, 'ctx.params holds the resolved values');
    assert.deepEqual(ft.params_from?.optimizer, {
      stage: 'select@a',
      json: 'selection',
      key: 'optimizer',
      hash: lock.stages['select@a']!.outputs['json:selection']!.hash,
    });
    assert.deepEqual(
      await storedJson(dir, 'report', 'lrs'),
      [
        ['finetune@a', 0.1],
        ['finetune@b', 0.1],
      ],
      'downstream contexts see the resolved params too',
    );
    const show = await cli(dir, 'show', 'finetune@a');
    assert.match(show.stdout, /params {7}\{"epochs":2,"optimizer":\{"learning_rate":0\.1,"name":"adam"\}/);
    assert.match(show.stdout, /param from {3}optimizer <- select@a json:selection key optimizer/);
    const lineage = await cli(dir, 'lineage', 'finetune@a');
    assert.match(lineage.stdout, /params \{"epochs":2,"optimizer":\{"learning_rate":0\.1,"name":"adam"\}/);
    const verify = await cli(dir, 'verify');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);

    const again = await reproJson(dir);
    assert.ok(
      Object.values(again.status).every((s) => s === 'cached'),
      JSON.stringify(again.status),
    );
    assert.equal((await cli(dir, 'status')).stdout.trim(), 'everything is up to date');
  });

  it('reruns a stage when the selected value changes, and only then', async () => {
    const dir = project();
    assert.equal((await reproJson(dir)).result.code, 0);
    const before = lockfile(dir);

    // The source reruns and changes what it outputs, but not the selected values.
    edit(dir, 'pipeline.yaml', 'note: 1', 'note: 2');
    const same = await reproJson(dir);
    assert.equal(same.status['select@a'], 'ran');
    assert.notEqual(
      lockfile(dir).stages['select@a']!.outputs_hash,
      before.stages['select@a']!.outputs_hash,
      'the source output did change',
    );
    assert.equal(same.status['finetune@a'], 'cached');
    assert.equal(same.stages.find((s) => s.name === 'finetune@a')?.cache, 'lockfile');
    assert.equal(lockfile(dir).stages['finetune@a']!.fingerprint, before.stages['finetune@a']!.fingerprint);

    // Now the selection changes: only the source runs first, and params diff shows the new value.
    edit(dir, 'pipeline.yaml', 'lr: 0.1', 'lr: 0.2');
    const sel = await reproJson(dir, 'select');
    assert.deepEqual(sel.status, { 'select@a': 'ran', 'select@b': 'ran' });
    const diff = JSON.parse((await cli(dir, 'params', 'diff', '--json')).stdout) as unknown[];
    assert.deepEqual(diff, [
      { stage: 'finetune@a', param: 'optimizer.learning_rate', old: 0.1, new: 0.2 },
      { stage: 'finetune@a', param: 'schedule.peak', old: 0.1, new: 0.2 },
      { stage: 'finetune@b', param: 'optimizer.learning_rate', old: 0.1, new: 0.2 },
      { stage: 'finetune@b', param: 'schedule.peak', old: 0.1, new: 0.2 },
    ]);
    const text = await cli(dir, 'params', 'diff');
    assert.match(text.stdout, /^finetune@a\s+optimizer\.learning_rate\s+0\.1\s+0\.2$/m);
    const dry = await reproJson(dir, '--dry');
    assert.deepEqual(dry.stages.find((s) => s.name === 'finetune@a')?.reasons, [
      'param optimizer.learning_rate: 0.1 -> 0.2',
      'param schedule.peak: 0.1 -> 0.2',
    ]);
    const changed = await reproJson(dir);
    assert.equal(changed.status['finetune@a'], 'ran');
    assert.equal(changed.status.report, 'ran');
    assert.deepEqual(lockfile(dir).stages['finetune@a']!.params.optimizer, { name: 'adam', learning_rate: 0.2 });

    // Back to the first selection: restored from the store, the lockfile as it was.
    edit(dir, 'pipeline.yaml', 'lr: 0.2', 'lr: 0.1');
    edit(dir, 'pipeline.yaml', 'note: 2', 'note: 1');
    const back = await reproJson(dir);
    assert.ok(
      Object.values(back.status).every((s) => s === 'cached'),
      JSON.stringify(back.status),
    );
    assert.deepEqual(lockfile(dir), before);
  });

  it('fails only the stage whose source lacks the named output or key, with a located message', async () => {
    // select@a's selection has no optimizer; select@b's optimizer is a string where an object is declared.
    const dir = project(PIPELINE, {
      'stages/select.ts': `export default async function (ctx: any) {
  const optimizer = ctx.params.arch === 'a' ? undefined : 'adam';
  return { json: { selection: { values: { lr: ctx.params.lr }, ...(optimizer === undefined ? {} : { optimizer }) } } };
}
`,
    });
    const run = await reproJson(dir, '--keep-going');
    assert.equal(run.result.code, 1);
    assert.equal(run.status['select@a'], 'ran');
    assert.equal(run.status['finetune@a'], 'failed');
    assert.equal(run.status['finetune@b'], 'failed');
    assert.equal(run.status.report, 'skipped');
    const errors = JSON.parse(run.result.stdout.trim().split('\n').at(-1)!) as {
      stages: Array<{ name: string; error?: string }>;
    };
    const error = (n: string) => errors.stages.find((s) => s.name === n)?.error ?? '';
    assert.equal(
      error('finetune@a'),
      'pipeline.yaml:15:7: params_from.optimizer of stage finetune@a: json:selection of select@a has no key "optimizer" (the value has keys values)',
    );
    assert.equal(
      error('finetune@b'),
      'pipeline.yaml:15:7: params_from.optimizer of stage finetune@b: select@b json:selection key optimizer is a string, but the declared param is an object',
    );
    assert.ok(!error('finetune@a').includes('\n'), 'one line');

    // Without the key, a missing json output is named, with the outputs the stage has.
    edit(dir, 'pipeline.yaml', 'json: selection, key: optimizer', 'json: selektion, key: optimizer');
    const missing = await reproJson(dir, '--keep-going');
    const out = JSON.parse(missing.result.stdout.trim().split('\n').at(-1)!) as {
      stages: Array<{ name: string; error?: string }>;
    };
    assert.equal(
      out.stages.find((s) => s.name === 'finetune@a')?.error,
      'pipeline.yaml:15:7: params_from.optimizer of stage finetune@a: select@a has no json output "selektion" (it has selection)',
    );
  });

  it('refuses a bad reference before anything runs: one located line, exit 2', async () => {
    const base = (entry: string, extra = '') => `stages:
  select:
    uses: stages/select.ts
    params: {arch: a, lr: 0.1, note: 1}${extra}
  finetune:
    uses: stages/finetune.ts
    params: {optimizer: {name: sgd}, epochs: 2}
    params_from:
      ${entry}
`;
    const cases: Array<{ yaml: string; error: RegExp }> = [
      {
        yaml: base('optimizer: {stage: selekt, json: selection}'),
        error:
          /^(?:\S*\/)?pipeline\.yaml:9:7: error: params_from\.optimizer of stage "finetune" reads from "selekt", which is not a stage \(did you mean "select"\?\)$/,
      },
      {
        yaml: base('optimizer: {stage: select, jsn: selection}'),
        error:
          /^(?:\S*\/)?pipeline\.yaml:9:34: error: unknown key "jsn" in params_from\.optimizer of stage "finetune" \(did you mean "json"\?\)$/,
      },
      {
        yaml: base('optimizer: {stage: select, json: 3}'),
        error: /^(?:\S*\/)?pipeline\.yaml:9:40: error: stages\.finetune\.params_from\.optimizer\.json: /,
      },
      {
        yaml: base('epochs.inner: {stage: select, json: selection}'),
        error:
          /^(?:\S*\/)?pipeline\.yaml:9:7: error: params_from\.epochs\.inner of stage "finetune": param epochs is 2, not an object, so epochs\.inner cannot be set inside it$/,
      },
      {
        yaml: base('optimizer: {stage: finetune, json: selection}'),
        error:
          /^(?:\S*\/)?pipeline\.yaml:9:7: error: params_from\.optimizer of stage "finetune" names the stage itself$/,
      },
      {
        yaml: base('optimizer: {stage: "${missing}", json: selection}'),
        error: /^(?:\S*\/)?pipeline\.yaml:9:\d+: error: .*missing/,
      },
      {
        yaml: base('optimizer: {stage: select, json: selection}', '\n    deps: [finetune]'),
        error:
          /^(?:\S*\/)?pipeline\.yaml:10:7: error: dependency cycle: select -> finetune -> select \(each stage depends on the next; finetune through params_from\.optimizer\)$/,
      },
      {
        yaml: `stages:
  select:
    uses: stages/select.ts
    matrix: {arch: [a, b]}
    params: {arch: \${item.arch}, lr: 0.1, note: 1}
  finetune:
    uses: stages/finetune.ts
    params_from:
      optimizer: {stage: select, json: selection}
`,
        error:
          /^(?:\S*\/)?pipeline\.yaml:9:7: error: params_from\.optimizer of stage "finetune" names the matrix "select" \(2 stages\): name one expansion, such as "select@a"$/,
      },
      {
        yaml: `stages:
  select:
    uses: stages/select.ts
    params: {arch: a, lr: 0.1, note: 1}
  finetune:
    cmd: echo \${optimizer}
    params: {optimizer: sgd}
    params_from:
      optimizer: {stage: select, json: selection}
`,
        error: /^(?:\S*\/)?pipeline\.yaml:8:5: error: params_from of stage "finetune" needs a `uses:` stage/,
      },
    ];
    for (const c of cases) {
      const dir = project(c.yaml);
      for (const verb of [['repro'], ['status'], ['dag']]) {
        const r = await cli(dir, ...verb);
        assert.equal(r.code, 2, `${verb[0]}: ${c.yaml}\n${r.stderr}`);
        assert.match(r.stderr.split('\n')[0] ?? '', c.error, `${verb[0]}: ${r.stderr}`);
      }
      assert.ok(!existsSync(join(dir, 'lockfile.json')), 'nothing ran');
    }
  });

  it('allows the source in deps too, as one edge', async () => {
    const yaml = PIPELINE.replace(
      '    params:\n      optimizer:',
      '    deps: ["select@${item.arch}"]\n    params:\n      optimizer:',
    );
    assert.notEqual(yaml, PIPELINE);
    const dir = project(yaml);
    const dag = await cli(dir, 'dag', '--format', 'json');
    assert.equal(dag.code, 0, dag.stderr);
    const edges = (JSON.parse(dag.stdout) as { edges: Array<{ from: string; to: string }> }).edges;
    assert.deepEqual(
      edges.filter((e) => e.to === 'finetune@a'),
      [{ from: 'select@a', to: 'finetune@a' }],
    );
    const status = await cli(dir, 'status');
    assert.match(status.stdout, /^would run finetune@a: optimizer: from select@a json:selection key optimizer/m);
  });

  it('with --downstream, an unselected source and stage count as their recorded results', async () => {
    const dir = project();
    assert.equal((await reproJson(dir)).result.code, 0);
    writeFileSync(join(dir, 'stages/report.ts'), `${FILES['stages/report.ts']}// edited\n`);
    const down = await reproJson(dir, '--downstream', 'report');
    assert.deepEqual(down.status, { report: 'ran' });
    assert.deepEqual(down.stages[0]?.reasons, ['code stages/report.ts changed']);
  });
});
