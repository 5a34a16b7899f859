import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, makeProject } from './helpers/project.ts';

interface Case {
  name: string;
  yaml?: string;
  files?: Record<string, string>;
  args?: string[];
  code: number;
  /** The first line of stderr. */
  error: RegExp;
}

const ok = 'stages:\n  a: {cmd: echo a}\n';
const L = String.raw`(?:\S*/)?pipeline\.yaml:\d+:\d+: error: `;

// Nested anchors whose aliases multiply (11 x 11 x 11 nodes): refused by the parser as an attack.
const bomb = (top: string, last: string) =>
  `${top}a: &a [${Array(11).fill('x').join(', ')}]\nb: &b [${Array(11).fill('*a').join(', ')}]\n${last}: [${Array(11).fill('*b').join(', ')}]\n`;

const cases: Case[] = [
  { name: 'malformed YAML', yaml: 'stages:\n  a: {cmd: [x\n', code: 2, error: new RegExp(`^${L}invalid YAML`) },
  { name: 'tab indentation', yaml: 'stages:\n\ta: {cmd: x}\n', code: 2, error: new RegExp(`^${L}invalid YAML`) },
  {
    name: 'an alias bomb',
    yaml: `${bomb('', 'c')}stages:\n  a: {cmd: x}\n`,
    code: 2,
    error: new RegExp(
      `^(?:\\S*/)?pipeline\\.yaml:3:5: error: invalid YAML: aliases here expand to too many nodes \\(more than 100 alias expansions; Excessive alias count`,
    ),
  },
  {
    name: 'an alias bomb in a profile',
    yaml: ok,
    files: { 'profiles/p.yaml': bomb('', 'vars') },
    args: ['--profile', 'p', 'repro'],
    code: 2,
    error: /^(?:\S*\/)?profiles\/p\.yaml:3:8: error: invalid YAML: aliases here expand to too many nodes/,
  },
  {
    name: 'malformed YAML in a profile',
    yaml: ok,
    files: { 'profiles/p.yaml': 'vars: {a: [1\n' },
    args: ['--profile', 'p', 'repro'],
    code: 2,
    error: /^(?:\S*\/)?profiles\/p\.yaml:\d+:\d+: error: invalid YAML/,
  },
  {
    name: 'an alias to no anchor',
    yaml: 'stages:\n  a: {cmd: *nothing}\n',
    code: 2,
    error: new RegExp(`^${L}invalid YAML`),
  },
  {
    name: 'two YAML documents',
    yaml: 'stages: {}\n---\nstages: {}\n',
    code: 2,
    error: new RegExp(`^${L}invalid YAML`),
  },
  {
    name: 'empty file',
    yaml: '',
    code: 2,
    error: /pipeline\.yaml:1:1: error: the file is empty: expected a `stages:` map$/,
  },
  { name: 'only a comment', yaml: '# nothing\n', code: 2, error: /error: the file is empty/ },
  {
    name: 'a list at the top',
    yaml: '- a\n- b\n',
    code: 2,
    error: new RegExp(`^${L}pipeline: Invalid input: expected object, received array`),
  },
  {
    name: 'no stages key',
    yaml: 'vars: {a: 1}\n',
    code: 2,
    error: new RegExp(`^${L}stages: Invalid input: expected record`),
  },
  {
    name: 'unknown stage key',
    yaml: 'stages:\n  a: {cmd: x, outz: [o]}\n',
    code: 2,
    error: new RegExp(`^${L}unknown key "outz" in stage "a" \\(did you mean "outs"\\?\\)$`),
  },
  {
    name: 'unknown top-level key',
    yaml: 'stages: {}\nvarz: {}\n',
    code: 2,
    error: new RegExp(`^${L}unknown key "varz" \\(did you mean "vars"\\?\\)$`),
  },
  { name: 'cmd is a number', yaml: 'stages:\n  a: {cmd: 5}\n', code: 2, error: new RegExp(`^${L}stages\\.a\\.cmd: `) },
  {
    name: 'deps is a string',
    yaml: 'stages:\n  a: {cmd: x, deps: b}\n',
    code: 2,
    error: new RegExp(`^${L}stages\\.a\\.deps: Invalid input: expected array`),
  },
  {
    name: 'params is a list',
    yaml: 'stages:\n  a: {cmd: x, params: [1]}\n',
    code: 2,
    error: new RegExp(`^${L}stages\\.a\\.params: Invalid input: expected record`),
  },
  {
    name: 'always_changed is a string',
    yaml: 'stages:\n  a: {cmd: x, always_changed: "yes"}\n',
    code: 2,
    error: new RegExp(`^${L}stages\\.a\\.always_changed: Invalid input: expected boolean`),
  },
  {
    name: 'bad timeout',
    yaml: 'stages:\n  a: {cmd: x, timeout: soon}\n',
    code: 2,
    error: new RegExp(`^${L}stages\\.a\\.timeout: `),
  },
  { name: 'empty cmd', yaml: 'stages:\n  a: {cmd: ""}\n', code: 2, error: new RegExp(`^${L}stages\\.a\\.cmd: `) },
  {
    name: 'neither cmd nor uses',
    yaml: 'stages:\n  a: {deps: []}\n',
    code: 2,
    error: new RegExp(`^${L}stage "a" must have exactly one of "cmd" or "uses"$`),
  },
  {
    name: 'both cmd and uses',
    yaml: 'stages:\n  a: {cmd: x, uses: a.ts}\n',
    code: 2,
    error: new RegExp(`^${L}stage "a" must have exactly one of "cmd" or "uses"$`),
  },
  {
    name: 'a stage named with @',
    yaml: 'stages:\n  "a@b": {cmd: x}\n',
    code: 2,
    error: new RegExp(`^${L}stages: invalid name "a@b"`),
  },
  {
    name: 'a stage name with a space',
    yaml: 'stages:\n  "a b": {cmd: x}\n',
    code: 2,
    error: new RegExp(`^${L}stages: invalid name "a b"`),
  },
  {
    name: 'duplicate stage',
    yaml: 'stages:\n  a: {cmd: x}\n  a: {cmd: y}\n',
    code: 2,
    error: new RegExp(`^${L}invalid YAML: Map keys must be unique`),
  },
  {
    name: 'undefined variable',
    yaml: 'stages:\n  a: {cmd: "echo ${who}"}\n',
    code: 2,
    error: new RegExp(`^${L}undefined variable \\$\\{who\\}$`),
  },
  {
    name: 'undefined matrix item',
    yaml: 'stages:\n  a: {cmd: "echo ${item.y}", matrix: {x: [1]}}\n',
    code: 2,
    error: new RegExp(`^${L}undefined variable \\$\\{item\\.y\\}$`),
  },
  {
    name: 'a var that refers to itself',
    yaml: 'vars: {a: "${a}"}\nstages:\n  s: {cmd: "echo ${a} > out/a.txt"}\n',
    code: 2,
    error: /^(?:\S*\/)?pipeline\.yaml:1:11: error: reference cycle in vars: a -> a \(\$\{a\} refers to itself\)$/,
  },
  {
    name: 'two vars that refer to each other',
    yaml: 'vars: {a: "${b}", b: "x-${a}"}\nstages:\n  s: {cmd: "echo ${a}"}\n',
    code: 2,
    error: /^(?:\S*\/)?pipeline\.yaml:1:11: error: reference cycle in vars: a -> b -> a$/,
  },
  {
    name: 'a var that reaches an undefined one',
    yaml: 'vars: {a: "${b}", b: "${c}"}\nstages:\n  s: {cmd: "echo ${a}"}\n',
    code: 2,
    error: /^(?:\S*\/)?pipeline\.yaml:1:22: error: undefined variable \$\{c\} \(reached through vars a -> b\)$/,
  },
  {
    name: 'a param that refers to itself',
    yaml: 'stages:\n  s:\n    cmd: echo ${n}\n    params: {n: "${n}"}\n',
    code: 2,
    error:
      /^(?:\S*\/)?pipeline\.yaml:4:17: error: reference cycle in params of stage "s": n -> n \(\$\{n\} refers to itself\)$/,
  },
  {
    name: 'params in a cycle',
    yaml: 'stages:\n  s:\n    cmd: echo ${p}\n    params: {p: "${q}", q: "${p}"}\n',
    code: 2,
    error: /^(?:\S*\/)?pipeline\.yaml:4:17: error: reference cycle in params of stage "s": p -> q -> p$/,
  },
  {
    name: 'a profile var that refers to itself',
    yaml: 'vars: {a: 1}\nstages:\n  s: {cmd: "echo ${a}"}\n',
    files: { 'profiles/p.yaml': 'vars:\n  a: "${a}"\n' },
    args: ['--profile', 'p', 'repro'],
    code: 2,
    error: /^(?:\S*\/)?profiles\/p\.yaml:2:6: error: reference cycle in vars: a -> a/,
  },
  {
    name: 'a list embedded in a command',
    yaml: 'vars: {l: [1]}\nstages:\n  a: {cmd: "echo ${l}"}\n',
    code: 2,
    error: new RegExp(`^${L}\\$\\{l\\} is a list and cannot be embedded in a string$`),
  },
  {
    name: 'missing file dep',
    yaml: 'stages:\n  a: {cmd: x, deps: [data/none.csv]}\n',
    code: 2,
    error: new RegExp(`^${L}stage "a" depends on "data/none\\.csv", which is neither a stage nor an existing file$`),
  },
  {
    name: 'missing stage dep with suggestion',
    yaml: 'stages:\n  train: {cmd: x}\n  b: {cmd: y, deps: [trian]}\n',
    code: 2,
    error: /\(did you mean "train"\?\)$/,
  },
  {
    name: 'missing uses module',
    yaml: 'stages:\n  a: {uses: stages/none.ts}\n',
    code: 2,
    error: new RegExp(`^${L}stage "a" uses "stages/none\\.ts", which does not exist$`),
  },
  {
    name: 'two-stage cycle',
    yaml: 'stages:\n  a: {cmd: x, deps: [b]}\n  b: {cmd: y, deps: [a]}\n',
    code: 2,
    error: new RegExp(`^${L}dependency cycle: a -> b -> a`),
  },
  {
    name: 'cycle through an output file',
    yaml: 'stages:\n  a: {cmd: x, deps: [b.txt], outs: [a.txt]}\n  b: {cmd: y, deps: [a.txt], outs: [b.txt]}\n',
    code: 2,
    error: new RegExp(`^${L}dependency cycle: a -> b -> a`),
  },
  {
    name: 'out escaping the project',
    yaml: 'stages:\n  a: {cmd: x, outs: [../../etc/x]}\n',
    code: 2,
    error: new RegExp(`^${L}outs path "\\.\\./\\.\\./etc/x" of stage "a" is outside the project$`),
  },
  {
    name: 'out at an absolute path',
    yaml: 'stages:\n  a: {cmd: x, outs: [/tmp/x]}\n',
    code: 2,
    error: /outs path "\/tmp\/x" of stage "a" is outside the project$/,
  },
  {
    name: 'dep escaping the project',
    yaml: 'stages:\n  a: {cmd: x, deps: [../secret]}\n',
    code: 2,
    error: /dependency "\.\.\/secret" of stage "a" is outside the project$/,
  },
  {
    name: 'uses escaping the project',
    yaml: 'stages:\n  a: {uses: ../x.ts}\n',
    code: 2,
    error: /module "\.\.\/x\.ts" is outside the project$/,
  },
  {
    name: 'one output, two stages',
    yaml: 'stages:\n  a: {cmd: x, outs: [o]}\n  b: {cmd: y, outs: [o]}\n',
    code: 2,
    error: /"o" is an output of both "a" and "b"$/,
  },
  {
    name: 'matrix name collision',
    yaml: 'stages:\n  t: {cmd: x, matrix: {v: [1, "1"]}}\n',
    code: 2,
    error: /matrix of "t" gives two stages named "t@1"/,
  },
  {
    name: 'a huge matrix',
    yaml: 'stages:\n  t:\n    cmd: x\n    matrix: {a: [0,1,2,3,4,5,6,7,8,9], b: [0,1,2,3,4,5,6,7,8,9], c: [0,1,2,3,4,5,6,7,8,9], d: [0,1,2,3,4,5,6,7,8,9], e: [0,1,2,3,4,5,6,7,8,9]}\n',
    code: 2,
    error: new RegExp(`^${L}matrix would expand to 100000 stages \\(the limit is 10000\\)$`),
  },
  {
    name: 'a matrix value with a slash',
    yaml: 'stages:\n  t: {cmd: x, matrix: {v: [a/b]}}\n',
    code: 2,
    error: /gives the stage name "t@a\/b", which has a space or slash$/,
  },
  {
    name: 'unknown target',
    yaml: ok,
    args: ['repro', 'b'],
    code: 2,
    error: /^error: no stage named "b" \(did you mean "a"\?\)$/,
  },
  {
    name: 'bad -j',
    yaml: ok,
    args: ['repro', '-j', 'two'],
    code: 2,
    error: /^error: -j expects a positive integer, got "two"$/,
  },
  { name: 'unknown command', yaml: ok, args: ['reproduce'], code: 2, error: /^error: unknown command 'reproduce'/ },
  { name: 'unknown option', yaml: ok, args: ['repro', '--fast'], code: 2, error: /^error: unknown option '--fast'/ },
  {
    name: 'a corrupt lockfile',
    yaml: ok,
    files: { 'lockfile.json': '{"stages": ' },
    code: 2,
    error: /^error: .*lockfile\.json: not valid JSON .*restore it from git or delete it to rebuild$/,
  },
  {
    name: 'a lockfile of the wrong shape',
    yaml: ok,
    files: { 'lockfile.json': '[1, 2]' },
    code: 2,
    error: /lockfile\.json: expected \{"version": \.\.\., "stages": \{\.\.\.\}\}/,
  },
  {
    name: 'unknown resources key',
    yaml: 'stages:\n  a: {cmd: x, resources: {memory: 4G}}\n',
    code: 2,
    error: new RegExp(`^${L}unknown key "memory" in resources of stage "a" \\(did you mean "mem"\\?\\)$`),
  },
  {
    name: 'memory without a Slurm unit',
    yaml: 'stages:\n  a: {cmd: x, resources: {mem: 4 GB}}\n',
    code: 2,
    error: new RegExp(
      `^${L}stages\\.a\\.resources\\.mem: expected a memory size such as 16G or 500M \\(a bare number is megabytes\\)$`,
    ),
  },
  {
    name: 'a time limit as a bare number',
    yaml: 'stages:\n  a: {cmd: x, resources: {time: 90}}\n',
    code: 2,
    error: new RegExp(
      `^${L}stages\\.a\\.resources\\.time: expected a time limit such as 30m, 2h, 1d, 01:30:00 or 1-12:00:00$`,
    ),
  },
  {
    name: 'a fractional CPU count',
    yaml: 'stages:\n  a: {cmd: x, resources: {cpus: 1.5}}\n',
    code: 2,
    error: new RegExp(`^${L}stages\\.a\\.resources\\.cpus: expected a whole number of CPUs, such as 4$`),
  },
  {
    name: 'a partition with a space',
    yaml: 'stages:\n  a: {cmd: x, resources: {partition: "gpu large"}}\n',
    code: 2,
    error: new RegExp(`^${L}stages\\.a\\.resources\\.partition: expected a partition name$`),
  },
  {
    name: 'a resource var that resolves to nonsense',
    yaml: 'vars: {g: lots}\nstages:\n  a: {cmd: x, resources: {gpus: "${g}"}}\n',
    code: 2,
    error: new RegExp(
      `^${L}stages\\.a\\.resources\\.gpus: expected a GPU count such as 1, or TYPE:COUNT such as a100:2, got "lots"$`,
    ),
  },
  {
    name: 'an undefined var in resources',
    yaml: 'stages:\n  a: {cmd: x, resources: {time: "${limit}"}}\n',
    code: 2,
    error: new RegExp(`^${L}undefined variable \\$\\{limit\\}$`),
  },
  {
    name: 'unknown executor',
    yaml: 'stages:\n  a: {cmd: x}\nexecutor: {slrum: {}}\n',
    code: 2,
    error: new RegExp(`^${L}unknown key "slrum" in executor \\(did you mean "slurm"\\?\\)$`),
  },
  {
    name: 'unknown executor.slurm key',
    yaml: 'stages:\n  a: {cmd: x}\nexecutor:\n  slurm: {partiton: gpu}\n',
    code: 2,
    error: new RegExp(`^${L}unknown key "partiton" in executor\\.slurm \\(did you mean "partition"\\?\\)$`),
  },
  {
    name: 'sbatch_args as one string',
    yaml: 'stages:\n  a: {cmd: x}\nexecutor:\n  slurm: {sbatch_args: "--exclusive"}\n',
    code: 2,
    error: new RegExp(`^${L}executor\\.slurm\\.sbatch_args: Invalid input: expected array`),
  },
  {
    name: 'an unknown --executor',
    yaml: ok,
    args: ['repro', '--executor', 'pbs'],
    code: 2,
    error: /^error: option '--executor <executor>' argument 'pbs' is invalid\. Allowed choices are local, slurm\.$/,
  },
  {
    name: 'a stage failing in a unicode-named stage',
    yaml: 'stages:\n  übersicht: {cmd: exit 4}\n',
    code: 1,
    error: /^✗ übersicht failed: command exited with code 4: exit 4$/,
  },
];

describe('bad input: one located line and an exit code each', () => {
  assert.ok(cases.length >= 30);
  for (const c of cases) {
    it(c.name, async () => {
      const dir = makeProject({ ...(c.yaml === undefined ? {} : { 'pipeline.yaml': c.yaml }), ...c.files });
      const r = await cli(dir, ...(c.args ?? ['repro']));
      assert.equal(r.code, c.code, r.stderr);
      const firstLine =
        (c.code === 1 && !/^error/.test(r.stderr) ? r.stdout + r.stderr : r.stderr)
          .split('\n')
          .find((l) => l.length > 0 && !l.startsWith('▶')) ?? '';
      assert.match(firstLine, c.error);
      assert.ok(
        !existsSync(join(dir, 'artifacts/pipeline.duckdb')) || c.code === 1,
        'nothing is stored for a definition error',
      );
    });
  }
});

describe('params reach a shell only quoted', () => {
  it('an injection attempt in a param is passed as one literal argument', async () => {
    const dir = makeProject({
      'pipeline.yaml': `stages:
  greet:
    cmd: printf '%s\\n' \${msg} \${items.0} > out.txt
    params:
      msg: "hi; touch pwned; echo \`touch pwned2\` $(touch pwned3) | cat"
      items: ["' ; touch pwned4 '"]
    outs: [out.txt]
`,
    });
    const r = await cli(dir, 'repro');
    assert.equal(r.code, 0, r.stderr);
    for (const f of ['pwned', 'pwned2', 'pwned3', 'pwned4'])
      assert.ok(!existsSync(join(dir, f)), `${f} must not exist`);
    assert.equal(
      readFileSync(join(dir, 'out.txt'), 'utf8'),
      "hi; touch pwned; echo `touch pwned2` $(touch pwned3) | cat\n' ; touch pwned4 '\n",
    );
  });

  it('unicode stage names, matrix values and params work end to end', async () => {
    const dir = makeProject({
      'pipeline.yaml':
        'stages:\n  größe:\n    cmd: echo ${item.wert} > out-${item.wert}.txt\n    matrix: {wert: [klein, groß]}\n    outs: [out-${item.wert}.txt]\n',
    });
    const r = await cli(dir, 'repro');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(dir, 'out-groß.txt'), 'utf8'), 'groß\n');
    assert.match((await cli(dir, 'dag')).stdout, /größe@klein/);
  });
});
