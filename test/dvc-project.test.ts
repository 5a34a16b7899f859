import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, edit, makeProject, reproJson } from './helpers/project.ts';

interface DagJson {
  stages: Array<{ name: string; cmd?: string; upstream: string[]; files: string[] }>;
  edges: Array<{ from: string; to: string }>;
}

async function dag(dir: string): Promise<DagJson> {
  const r = await cli(dir, 'dag', '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as DagJson;
}

/** A DVC project written from DVC's docs: a root dvc.yaml with params and a subfolder one. */
function dvcProject(): string {
  return makeProject({
    '.dvc/config': '',
    'params.yaml':
      'prepare:\n  split: 0.2\n  seed: 20.0\ntrain:\n  lr: 0.0001\n  epochs: 3\nunused: 1\nlangs: [en, fr]\n',
    'dvc.yaml': `stages:
  prepare:
    cmd: mkdir -p data/prepared && echo "split \${prepare.split} seed \${prepare.seed}" > data/prepared/info.txt && cp data/raw.txt data/prepared/raw.txt
    deps: [data/raw.txt]
    params: [prepare.split, prepare.seed]
    outs: [data/prepared]
  train:
    foreach: \${langs}
    do:
      cmd:
        - cat data/prepared/info.txt > model-\${item}.txt
        - echo "lr \${train.lr} lang \${item}" >> model-\${item}.txt
      deps: [data/prepared/info.txt]
      params: [train.lr]
      outs: [model-\${item}.txt]
  report:
    cmd: cat model-en.txt model-fr.txt > report.txt
    deps: [model-en.txt, model-fr.txt]
    metrics:
      - report.txt:
          cache: false
`,
    'data/raw.txt': 'raw data\n',
    'sub/params.yaml': 'k: 5\n',
    'sub/dvc.yaml': `stages:
  where:
    wdir: work
    cmd: pwd > here.txt && echo \${k} >> here.txt
    params:
      - ../params.yaml:
          - k
    outs: [here.txt]
`,
    'sub/work/.keep': '',
  });
}

describe('running a DVC project as it is', () => {
  it('lists every expanded stage with its resolved cmd and links deps inside directory outputs, without the data', async () => {
    const dir = dvcProject();
    rmSync(join(dir, 'data'), { recursive: true }); // a fresh clone without its data
    const g = await dag(dir);
    const byName = Object.fromEntries(g.stages.map((s) => [s.name, s]));
    assert.deepEqual(Object.keys(byName).sort(), ['prepare', 'report', 'sub/dvc.yaml:where', 'train@en', 'train@fr']);
    assert.equal(
      byName['train@fr']?.cmd,
      'cat data/prepared/info.txt > model-fr.txt\necho "lr 0.0001 lang fr" >> model-fr.txt',
    );
    assert.match(byName.prepare?.cmd ?? '', /split 0\.2 seed 20\.0/);
    assert.deepEqual(byName['train@en']?.upstream, ['prepare'], 'a dep inside a directory output links to its stage');
    assert.deepEqual(byName.report?.upstream.sort(), ['train@en', 'train@fr']);
    const status = await cli(dir, 'status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /would run prepare: .*data\/raw\.txt does not exist/);
    const run = await cli(dir, 'repro');
    assert.equal(run.code, 1);
    assert.match(run.stdout + run.stderr, /data\/raw\.txt does not exist/, 'repro names what is missing');
  });

  it('runs it: wdir, params by key, a directory output stored, restored and verified', async () => {
    const dir = dvcProject();
    const first = await reproJson(dir);
    assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);
    assert.ok(
      Object.values(first.status).every((s) => s === 'ran'),
      JSON.stringify(first.status),
    );
    assert.equal(
      readFileSync(join(dir, 'sub/work/here.txt'), 'utf8'),
      `${join(dir, 'sub/work')}\n5\n`,
      'cmd runs in wdir',
    );
    assert.match(readFileSync(join(dir, 'report.txt'), 'utf8'), /lr 0\.0001 lang fr/);

    edit(dir, 'params.yaml', 'unused: 1', 'unused: 2');
    const untouched = await reproJson(dir);
    assert.ok(
      Object.values(untouched.status).every((s) => s === 'cached'),
      `another key of params.yaml reruns nothing: ${JSON.stringify(untouched.status)}`,
    );
    edit(dir, 'params.yaml', 'lr: 0.0001', 'lr: 0.001');
    const tracked = await reproJson(dir);
    assert.equal(tracked.status.prepare, 'cached');
    assert.equal(tracked.status['train@en'], 'ran');
    edit(dir, 'params.yaml', 'lr: 0.001', 'lr: 0.0001');
    assert.equal((await reproJson(dir)).status['train@en'], 'cached');

    rmSync(join(dir, 'data/prepared'), { recursive: true });
    const restored = await reproJson(dir);
    assert.equal(restored.status.prepare, 'cached');
    assert.equal(
      readFileSync(join(dir, 'data/prepared/raw.txt'), 'utf8'),
      'raw data\n',
      'the directory comes back as a whole',
    );
    writeFileSync(join(dir, 'data/prepared/info.txt'), 'tampered\n');
    writeFileSync(join(dir, 'data/prepared/extra.txt'), 'stray\n');
    const repaired = await reproJson(dir);
    assert.equal(repaired.status.prepare, 'cached');
    assert.match(readFileSync(join(dir, 'data/prepared/info.txt'), 'utf8'), /split 0\.2/);
    assert.ok(!existsSync(join(dir, 'data/prepared/extra.txt')));
    const verify = await cli(dir, 'verify');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const exported = await cli(dir, 'export', 'prepare:data/prepared', '-o', join(dir, 'exported'));
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(
      readFileSync(join(dir, 'exported/raw.txt'), 'utf8'),
      'raw data\n',
      'a directory output exports as the directory',
    );
    const bundle = await cli(dir, 'export', '--bundle', join(dir, 'bundle'));
    assert.equal(bundle.code, 0, bundle.stderr);
    assert.ok(existsSync(join(dir, 'bundle/files/data/prepared/info.txt')));

    writeFileSync(join(dir, 'data/raw.txt'), 'new raw data\n');
    const changed = await reproJson(dir);
    assert.equal(changed.status.prepare, 'ran', 'a changed input file reruns its stage');
    assert.equal(readFileSync(join(dir, 'data/prepared/raw.txt'), 'utf8'), 'new raw data\n');
  });

  it('reruns a stage when a file inside its dependency directory changes', async () => {
    const dir = makeProject({
      'dvc.yaml':
        'stages:\n  count:\n    cmd: find images -type f | wc -l > n.txt && find images -type f | sort | xargs cat > all.txt\n    deps: [images]\n    outs: [n.txt, all.txt]\n',
      'images/a.txt': 'a\n',
      'images/nested/b.txt': 'b\n',
    });
    assert.equal((await reproJson(dir)).status.count, 'ran');
    assert.equal((await reproJson(dir)).status.count, 'cached');
    writeFileSync(join(dir, 'images/nested/b.txt'), 'B\n');
    assert.equal((await reproJson(dir)).status.count, 'ran');
  });

  it('keeps a persist: true output between runs and removes other outputs first', async () => {
    const dir = makeProject({
      'params.yaml': 'n: 1\n',
      'dvc.yaml': `stages:
  grow:
    cmd: mkdir -p keep drop && echo \${n} >> keep/log.txt && echo \${n} >> drop/log.txt
    params: [n]
    outs:
      - keep:
          persist: true
      - drop
`,
    });
    assert.equal((await reproJson(dir)).status.grow, 'ran');
    edit(dir, 'params.yaml', 'n: 1', 'n: 2');
    assert.equal((await reproJson(dir)).status.grow, 'ran');
    assert.equal(readFileSync(join(dir, 'keep/log.txt'), 'utf8'), '1\n2\n');
    assert.equal(readFileSync(join(dir, 'drop/log.txt'), 'utf8'), '2\n');
  });

  it('never runs a frozen stage, even with --force, and runs an always_changed one every time', async () => {
    const dir = makeProject({
      'dvc.yaml': `stages:
  imported:
    cmd: echo never > frozen-ran.txt
    outs: [data.txt]
    frozen: true
  use:
    cmd: cat data.txt > copy.txt
    deps: [data.txt]
    outs: [copy.txt]
  clock:
    cmd: date +%s%N >> ticks.txt
    always_changed: true
    desc: appends a tick
    meta: {owner: me}
`,
      'data.txt': 'given\n',
    });
    const first = await reproJson(dir);
    assert.equal(first.result.code, 0, first.result.stderr);
    assert.equal(first.status.use, 'ran');
    assert.equal(first.status.clock, 'ran');
    const forced = await reproJson(dir, '--force');
    assert.notEqual(forced.status.imported, 'ran');
    assert.ok(!existsSync(join(dir, 'frozen-ran.txt')), 'a frozen stage never runs');
    const again = await reproJson(dir);
    assert.equal(again.status.use, 'cached');
    assert.equal(again.status.clock, 'ran', 'always_changed runs every time');
    assert.equal(readFileSync(join(dir, 'ticks.txt'), 'utf8').trim().split('\n').length, 3);
  });

  it('refuses an undefined ${item.x} with a located one-line error and exit 2', async () => {
    const dir = makeProject({
      'dvc.yaml': 'stages:\n  t:\n    foreach:\n      - {a: 1}\n    do:\n      cmd: echo ${item.b}\n',
    });
    const r = await cli(dir, 'dag');
    assert.equal(r.code, 2);
    const first = r.stderr.split('\n')[0] ?? '';
    assert.match(first, /dvc\.yaml:6:12: error: .*Could not find 'item\.b'/);
  });

  it('refuses an alias bomb in dvc.yaml with a located one-line error and exit 2', async () => {
    // Nine levels of nine aliases: 9^9 nodes if expanded.
    const levels = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 9; i++)
      levels.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const dir = makeProject({ 'dvc.yaml': `vars:\n  - ${levels.join('\n    ')}\nstages:\n  t:\n    cmd: echo hi\n` });
    const r = await cli(dir, 'dag');
    assert.equal(r.code, 2, r.stderr);
    const first = r.stderr.split('\n')[0] ?? '';
    assert.match(first, /dvc\.yaml:\d+:\d+: error: invalid YAML: aliases here expand to too many nodes/);
  });

  it('names a subfolder dvc.yaml stage sub/dvc.yaml:stage and skips .dvc, .git and node_modules', async () => {
    const dir = makeProject({
      'dvc.yaml': 'stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n',
      'x/y/dvc.yaml': 'stages:\n  b:\n    cmd: cat ../../a.txt > b.txt\n    deps: [../../a.txt]\n    outs: [b.txt]\n',
      'node_modules/p/dvc.yaml': 'stages:\n  no:\n    cmd: exit 1\n',
      '.git/dvc.yaml': 'stages:\n  no:\n    cmd: exit 1\n',
      '.dvc/dvc.yaml': 'stages:\n  no:\n    cmd: exit 1\n',
    });
    mkdirSync(join(dir, 'empty'));
    const g = await dag(dir);
    assert.deepEqual(
      g.stages.map((s) => s.name),
      ['a', 'x/y/dvc.yaml:b'],
    );
    assert.deepEqual(g.edges, [{ from: 'a', to: 'x/y/dvc.yaml:b' }]);
    const run = await reproJson(dir);
    assert.equal(run.status['x/y/dvc.yaml:b'], 'ran');
    writeFileSync(
      join(dir, 'x/y/dvc.yaml'),
      'stages:\n  b:\n    cmd: cat ../../../elsewhere.txt\n    deps: [../../../elsewhere.txt]\n',
    );
    assert.deepEqual(
      (await dag(dir)).stages.find((s) => s.name === 'x/y/dvc.yaml:b')?.files,
      ['../elsewhere.txt'],
      'an external dep is kept, unlinked',
    );
    assert.equal(readFileSync(join(dir, 'x/y/b.txt'), 'utf8'), 'a\n');
  });
});

describe('directory outputs in a pipeline.yaml project', () => {
  it('stores a directory out as a tree, restores it as a whole, and reruns the consumer when a file inside changes', async () => {
    const dir = makeProject({
      'pipeline.yaml': `stages:
  make:
    cmd: mkdir -p tree/sub && echo one > tree/a.txt && echo two > tree/sub/b.txt
    outs: [tree]
  read:
    cmd: cat tree/a.txt tree/sub/b.txt > both.txt
    deps: [tree/sub/b.txt, make]
    outs: [both.txt]
`,
    });
    const first = await reproJson(dir);
    assert.equal(first.result.code, 0, first.result.stderr + first.result.stdout);
    assert.deepEqual(first.status, { make: 'ran', read: 'ran' });
    rmSync(join(dir, 'tree'), { recursive: true });
    const restored = await reproJson(dir);
    assert.equal(restored.status.make, 'cached');
    assert.equal(restored.status.read, 'cached');
    assert.equal(readFileSync(join(dir, 'tree/sub/b.txt'), 'utf8'), 'two\n');
    const verify = await cli(dir, 'verify');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const lock = JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8')) as {
      stages: Record<string, { outputs: Record<string, unknown> }>;
    };
    assert.deepEqual(Object.keys(lock.stages.make?.outputs ?? {}), ['dir:tree']);
  });
});
