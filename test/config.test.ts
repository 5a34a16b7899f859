import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { quote } from 'zx/core';
import { formatDiagnostic } from '../src/config/diagnostic.ts';
import { expandStages } from '../src/config/expand.ts';
import type { ConfigFailure } from '../src/config/failure.ts';
import { parsePipeline } from '../src/config/load.ts';
import type { StageSpec } from '../src/config/stage-spec.ts';
import { buildGraph } from '../src/graph/build.ts';
import { selectStages } from '../src/graph/select.ts';
import { schemaText } from '../scripts/write-schema.ts';
import { cli, makeProject } from './helpers/project.ts';

function expand(yaml: string): StageSpec[] {
  const loaded = parsePipeline('/p/pipeline.yaml', yaml);
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.map((f) => f.diagnostic.message).join('\n'));
  const specs = expandStages(loaded.value, quote);
  assert.ok(specs.ok, specs.ok ? '' : specs.error.map((f) => f.diagnostic.message).join('\n'));
  return specs.value;
}

/** Every failure for a pipeline, as the first line the CLI would print. */
function failuresOf(yaml: string, files: Record<string, string> = {}): string[] {
  const dir = makeProject({ 'pipeline.yaml': yaml, ...files });
  const file = join(dir, 'pipeline.yaml');
  const loaded = parsePipeline(file, yaml);
  let failures: ConfigFailure[] = [];
  if (!loaded.ok) failures = loaded.error;
  else {
    const specs = expandStages(loaded.value, quote);
    if (!specs.ok) failures = specs.error;
    else {
      const graph = buildGraph(specs.value, dir, loaded.value.map);
      if (!graph.ok) failures = graph.error;
    }
  }
  return failures.map((f) => formatDiagnostic(f.diagnostic, dir).split('\n')[0]!);
}

describe('matrix expansion and interpolation', () => {
  it('expands a matrix into name@values stages with typed item values', () => {
    const specs = expand(`vars:
  seeds: [1, 2]
stages:
  train:
    uses: stages/train.ts
    matrix:
      optimizer: [sgd, adam]
      seed: \${seeds}
    params: {optimizer: \${item.optimizer}, seed: \${item.seed}, lr: 0.01, tag: "\${item.optimizer}-s\${item.seed}"}
`);
    assert.deepEqual(
      specs.map((s) => s.name),
      ['train@sgd-1', 'train@sgd-2', 'train@adam-1', 'train@adam-2'],
    );
    assert.deepEqual(specs[3]!.params, { optimizer: 'adam', seed: 2, lr: 0.01, tag: 'adam-s2' });
    assert.deepEqual(specs[3]!.item, { optimizer: 'adam', seed: 2 });
    assert.ok(specs.every((s) => s.group === 'train'));
  });

  it('interpolates vars and params into cmd, deps and outs, shell-quoting values in cmd', () => {
    const [s] = expand(`vars:
  data: data/raw.txt
stages:
  prepare:
    cmd: cat \${data} > \${out} && echo \${msg}
    deps: [\${data}]
    outs: [\${out}]
    params: {out: out/x.txt, msg: "a; rm -rf ~"}
`);
    assert.deepEqual(s!.deps, ['data/raw.txt']);
    assert.deepEqual(s!.outs, ['out/x.txt']);
    assert.equal(s!.cmd[0], "cat data/raw.txt > out/x.txt && echo $'a; rm -rf ~'");
  });

  it('resolves nested references, so a matrix picks its settings by name', () => {
    const specs = expand(`vars:
  optimizers:
    sgd: {lr: 0.01, momentum: 0.9}
    adamw: {lr: 5.0e-5, decay: 0.01}
stages:
  finetune:
    uses: f.ts
    matrix: {optimizer: [sgd, adamw]}
    params: {optimizer: \${optimizers.\${item.optimizer}}, label: "\${item.optimizer}@\${optimizers.\${item.optimizer}.lr}"}
`);
    assert.deepEqual(specs[0]!.params, { optimizer: { lr: 0.01, momentum: 0.9 }, label: 'sgd@0.01' });
    assert.deepEqual(specs[1]!.params, { optimizer: { lr: 5e-5, decay: 0.01 }, label: 'adamw@0.00005' });
    const bad = parsePipeline(
      '/p/pipeline.yaml',
      'vars: {o: {}}\nstages:\n  a: {cmd: "x ${o.${item.k}}", matrix: {k: [z]}}\n',
    );
    assert.ok(bad.ok);
    const r = expandStages(bad.value, quote);
    assert.ok(!r.ok && r.error[0]!.diagnostic.message === 'undefined variable ${o.z}');
  });

  it('resolves vars that refer to vars and params that refer to params, keeping types', () => {
    const [s] = expand(`vars:
  base: data
  file: \${base}/raw.txt
  sizes: {small: 8}
  size: \${sizes.small}
stages:
  a:
    cmd: cat \${file} \${both}
    params: {n: \${size}, both: "\${n}-\${tag}", tag: t}
`);
    assert.deepEqual(s!.params, { n: 8, both: '8-t', tag: 't' });
    assert.equal(s!.cmd[0], 'cat data/raw.txt 8-t');
  });

  it('keeps a list or map var whole when it is the entire value', () => {
    const [s] = expand(`vars:
  cfg: {layers: 2, heads: [4, 8]}
stages:
  a:
    uses: a.ts
    params: {model: \${cfg}}
`);
    assert.deepEqual(s!.params, { model: { layers: 2, heads: [4, 8] } });
  });
});

describe('bad pipeline.yaml: one located line each', () => {
  const stage = (extra: string) => `stages:\n  a:\n    cmd: echo hi\n${extra}`;
  const cases: Array<[string, string, RegExp, Record<string, string>?]> = [
    ['malformed YAML', 'stages:\n  a: [\n', /^pipeline\.yaml:\d+:\d+: error: invalid YAML/],
    ['empty file', '', /^pipeline\.yaml:1:1: error: the file is empty/],
    [
      'unknown stage key with suggestion',
      stage('    dpes: [x]\n'),
      /^pipeline\.yaml:4:5: error: unknown key "dpes" in stage "a" \(did you mean "deps"\?\)$/,
    ],
    [
      'unknown top-level key',
      'stage:\n  a: {cmd: x}\n',
      /^pipeline\.yaml:1:1: error: unknown key "stage" \(did you mean "stages"\?\)$/,
    ],
    [
      'wrong type',
      stage('    deps: data.txt\n'),
      /^pipeline\.yaml:4:11: error: stages\.a\.deps: Invalid input: expected array/,
    ],
    [
      'neither cmd nor uses',
      'stages:\n  a:\n    deps: []\n',
      /^pipeline\.yaml:2:3: error: stage "a" must have exactly one of "cmd" or "uses"$/,
    ],
    [
      'both cmd and uses',
      stage('    uses: a.ts\n'),
      /^pipeline\.yaml:2:3: error: stage "a" must have exactly one of "cmd" or "uses"$/,
    ],
    [
      'undefined variable',
      'stages:\n  a:\n    cmd: echo ${nope}\n',
      /^pipeline\.yaml:3:10: error: undefined variable \$\{nope\}$/,
    ],
    [
      'undefined item key',
      'stages:\n  a:\n    cmd: echo ${item.x}\n    matrix: {y: [1]}\n',
      /^pipeline\.yaml:3:10: error: undefined variable \$\{item\.x\}$/,
    ],
    [
      'missing stage or file dep',
      stage('    deps: [missing.txt]\n'),
      /^pipeline\.yaml:4:12: error: stage "a" depends on "missing\.txt", which is neither a stage nor an existing file$/,
    ],
    [
      'misspelt stage dep',
      'stages:\n  prepare: {cmd: x}\n  b:\n    cmd: y\n    deps: [prepar]\n',
      /did you mean "prepare"\?\)$/,
    ],
    [
      'cycle',
      'stages:\n  a: {cmd: x, deps: [b]}\n  b: {cmd: y, deps: [c]}\n  c: {cmd: z, deps: [a]}\n',
      /^pipeline\.yaml:2:\d+: error: dependency cycle: a -> b -> c -> a \(each stage depends on the next\)$/,
    ],
    ['self dependency', 'stages:\n  a: {cmd: x, deps: [a]}\n', /error: dependency cycle: a -> a \(each/],
    [
      'out outside the project',
      stage('    outs: [../escape.txt]\n'),
      /^pipeline\.yaml:4:12: error: outs path "\.\.\/escape\.txt" of stage "a" is outside the project$/,
    ],
    [
      'absolute out',
      stage('    outs: [/etc/passwd]\n'),
      /error: outs path "\/etc\/passwd" of stage "a" is outside the project$/,
    ],
    [
      'two stages, one out',
      'stages:\n  a: {cmd: x, outs: [o.txt]}\n  b: {cmd: y, outs: [o.txt]}\n',
      /^pipeline\.yaml:3:\d+: error: "o\.txt" is an output of both "a" and "b"$/,
    ],
    [
      'matrix collision',
      'stages:\n  t:\n    cmd: x\n    matrix: {v: [1, "1"]}\n',
      /^pipeline\.yaml:4:\d+: error: matrix of "t" gives two stages named "t@1"/,
    ],
    [
      'expansion collides with a stage',
      'stages:\n  t@1: {cmd: x}\n  t:\n    cmd: x\n    matrix: {v: [1]}\n',
      /^pipeline\.yaml:2:3: error: stages: invalid name "t@1": .*may not contain "@"/,
    ],
    ['empty matrix axis', 'stages:\n  t:\n    cmd: x\n    matrix: {v: []}\n', /error: stages\.t\.matrix\.v: /],
    [
      'matrix var not a list',
      'vars: {n: 3}\nstages:\n  t:\n    cmd: x\n    matrix: {v: "${n}"}\n',
      /error: matrix axis "v" must be a non-empty list of scalars$/,
    ],
    ['bad stage name', 'stages:\n  "a b": {cmd: x}\n', /^pipeline\.yaml:2:3: error: stages: invalid name "a b"/],
    [
      'missing uses module',
      'stages:\n  a: {uses: stages/nope.ts}\n',
      /error: stage "a" uses "stages\/nope\.ts", which does not exist$/,
    ],
    ['duplicate key', 'stages:\n  a: {cmd: x}\n  a: {cmd: y}\n', /error: invalid YAML: Map keys must be unique/],
    [
      'embedding a list in a string',
      'vars: {l: [1, 2]}\nstages:\n  a: {cmd: "echo ${l}"}\n',
      /error: \$\{l\} is a list and cannot be embedded in a string$/,
    ],
  ];
  for (const [name, yaml, expected, files] of cases) {
    it(name, () => {
      const lines = failuresOf(yaml, files);
      assert.ok(lines.length >= 1, 'expected a failure');
      assert.match(lines[0]!, expected);
    });
  }

  it('reports a bad dep once for a whole matrix, not once per expansion', () => {
    const lines = failuresOf('stages:\n  t:\n    cmd: x\n    deps: [nope]\n    matrix: {a: [1, 2, 3]}\n');
    assert.equal(lines.length, 1);
  });

  it('draws the offending range under the message', () => {
    const dir = makeProject({});
    const loaded = parsePipeline(join(dir, 'pipeline.yaml'), 'stages:\n  a:\n    cmd: x\n    dpes: [x]\n');
    assert.ok(!loaded.ok);
    assert.equal(
      formatDiagnostic(loaded.error[0]!.diagnostic, dir),
      [
        'pipeline.yaml:4:5: error: unknown key "dpes" in stage "a" (did you mean "deps"?)',
        '  |',
        '4 |     dpes: [x]',
        '  |     ~~~~',
      ].join('\n'),
    );
  });

  it('the CLI exits 2 with the located error and stores nothing', async () => {
    const dir = makeProject({ 'pipeline.yaml': 'stages:\n  a:\n    cmd: echo ${nope}\n' });
    const r = await cli(dir, 'repro');
    assert.equal(r.code, 2);
    assert.match(r.stderr.split('\n')[0]!, /pipeline\.yaml:3:10: error: undefined variable \$\{nope\}/);
    const missing = await cli(makeProject({}), 'repro');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*pipeline\.yaml: ENOENT/);
  });
});

describe('target selection', () => {
  it('selects upstream closures, downstream closures and matrix groups', () => {
    const dir = makeProject({});
    const yaml =
      'stages:\n  a: {cmd: x}\n  b: {cmd: y, deps: [a], matrix: {v: [1, 2]}}\n  c: {cmd: z, deps: [b]}\n  d: {cmd: w}\n';
    const loaded = parsePipeline(join(dir, 'pipeline.yaml'), yaml);
    assert.ok(loaded.ok);
    const specs = expandStages(loaded.value, quote);
    assert.ok(specs.ok);
    const graph = buildGraph(specs.value, dir, loaded.value.map);
    assert.ok(graph.ok);
    const sel = (t: string[], downstream = false) => {
      const r = selectStages(graph.value, t, { downstream });
      assert.ok(r.ok);
      return r.value;
    };
    assert.deepEqual(sel([]), ['a', 'b@1', 'b@2', 'c', 'd']);
    assert.deepEqual(sel(['c']), ['a', 'b@1', 'b@2', 'c']);
    assert.deepEqual(sel(['b@2']), ['a', 'b@2']);
    assert.deepEqual(sel(['b']), ['a', 'b@1', 'b@2']);
    assert.deepEqual(sel(['b@1'], true), ['b@1', 'c']);
  });
});

describe('JSON Schema', () => {
  it('schema/pipeline.schema.json is generated from the zod definition and up to date (npm run schema)', () => {
    const committed = readFileSync(new URL('../schema/pipeline.schema.json', import.meta.url), 'utf8');
    assert.equal(committed, schemaText());
  });
});
