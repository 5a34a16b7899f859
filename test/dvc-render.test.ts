import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandDvcFile, RenderFailure, type DvcFileInput } from '../src/config/dvc/expand-stages.ts';
import { PyFloat, pyFloatRepr, pyStr, type PyValue } from '../src/config/dvc/py-value.ts';
import { readYaml } from '../src/config/dvc/read-yaml.ts';
import { shlexQuote, unpackArgs } from '../src/config/dvc/unpack-args.ts';
import { PathTrie } from '../src/graph/path-trie.ts';

/** A dvc.yaml text and its params files (project-relative path -> YAML), expanded. */
function expand(dvcYaml: string, files: Record<string, string> = {}, dir = '') {
  const parsed = readYaml('dvc.yaml', dvcYaml);
  assert.ok(parsed.ok);
  const read = (path: string): PyValue => {
    const text = files[path];
    if (text === undefined) throw new Error(`no ${path}`);
    const r = readYaml(path, text);
    assert.ok(r.ok);
    return r.value.data;
  };
  const input: DvcFileInput = {
    dir,
    data: parsed.value.data as Record<string, PyValue>,
    hasDefaultParams: `${dir === '' ? '' : `${dir}/`}params.yaml` in files,
    read,
  };
  return expandDvcFile(input);
}
const cmds = (stages: ReturnType<typeof expand>) => Object.fromEntries(stages.map((s) => [s.name, s.fields.cmd]));

describe('Python-style printing of values', () => {
  it('prints floats as Python repr does', () => {
    assert.equal(pyFloatRepr(5e-5), '5e-05');
    assert.equal(pyFloatRepr(20), '20.0');
    assert.equal(pyFloatRepr(0.1), '0.1');
    assert.equal(pyFloatRepr(0.0001), '0.0001');
    assert.equal(pyFloatRepr(1.5e-7), '1.5e-07');
    assert.equal(pyFloatRepr(1e16), '1e+16');
    assert.equal(pyFloatRepr(123456.5), '123456.5');
    assert.equal(pyFloatRepr(-2.5e-10), '-2.5e-10');
    assert.equal(pyFloatRepr(Infinity), 'inf');
    assert.equal(pyFloatRepr(-0), '-0.0');
  });
  it('prints booleans as DVC does (true/false), None, ints and lists', () => {
    assert.equal(pyStr(true), 'true');
    assert.equal(pyStr(false), 'false');
    assert.equal(pyStr(null), 'None');
    assert.equal(pyStr(3), '3');
    assert.equal(pyStr(new PyFloat(3)), '3.0');
    assert.equal(pyStr([1, 'a', true, null, new PyFloat(0.5)]), "[1, 'a', True, None, 0.5]");
  });
  it('keeps a whole float from YAML a float', () => {
    const r = readYaml('p.yaml', 'a: 20.0\nb: 20\nc: 1e-5\nd: 2.50\n');
    assert.ok(r.ok);
    const d = r.value.data as Record<string, PyValue>;
    assert.equal(pyStr(d.a as PyValue), '20.0');
    assert.equal(pyStr(d.b as PyValue), '20');
    assert.equal(pyStr(d.c as PyValue), '1e-05');
    assert.equal(pyStr(d.d as PyValue), '2.5');
  });
  it('renders values into longer strings and keeps the type of an exact reference', () => {
    const [s] = expand(
      `stages:
  t:
    cmd: run --lr \${lr} --e \${epochs} --on \${on} --off \${off} --none \${nothing} --n \${n}
    outs:
      - \${epochs}
`,
      { 'params.yaml': 'lr: 0.00005\nepochs: 20.0\non: true\noff: false\nnothing: null\nn: 7\n' },
    );
    assert.equal(s?.fields.cmd, 'run --lr 5e-05 --e 20.0 --on true --off false --none None --n 7');
    assert.ok((s?.fields.outs as PyValue[])[0] instanceof PyFloat, 'an exact ${x} keeps its type');
  });
});

describe('dict unpacking into cmd arguments', () => {
  it('dots nested keys, writes true as a flag, drops false, lists as several values, quotes strings', () => {
    assert.equal(
      unpackArgs({
        lr: new PyFloat(0.001),
        opt: { name: 'adam w', betas: [new PyFloat(0.9), new PyFloat(0.99)] },
        verbose: true,
        quiet: false,
        tags: ['a', 'b c'],
        none: null,
      }),
      "--lr 0.001 --opt.name 'adam w' --opt.betas 0.9 0.99 --verbose --tags a 'b c' --none None",
    );
    assert.throws(() => unpackArgs({ x: [[1]] }), /nested iterable/);
    assert.equal(shlexQuote("it's"), `'it'"'"'s'`);
    assert.equal(shlexQuote('a/b.c=1'), 'a/b.c=1');
  });
  it('unpacks a dict referenced inside cmd and refuses one elsewhere', () => {
    const p = { 'params.yaml': 'train:\n  epochs: 3\n  fast: true\n' };
    assert.deepEqual(cmds(expand('stages:\n  t:\n    cmd: python t.py ${train}\n', p)), {
      t: 'python t.py --epochs 3 --fast',
    });
    assert.throws(
      () => expand('stages:\n  t:\n    cmd: x\n    outs: [out-${train}]\n', p),
      (e: unknown) => e instanceof RenderFailure && /Cannot interpolate data of type 'dict'/.test(e.message),
    );
  });
});

describe('foreach and matrix naming', () => {
  it('names a foreach over scalars by value', () => {
    const s = expand('stages:\n  t:\n    foreach: [1, 0.5, a, true]\n    do:\n      cmd: echo ${item}\n');
    assert.deepEqual(cmds(s), { 't@1': 'echo 1', 't@0.5': 'echo 0.5', 't@a': 'echo a', 't@true': 'echo true' });
  });
  it('names a foreach over dicts or lists by index', () => {
    const s = expand(
      'stages:\n  t:\n    foreach:\n      - [2, 3]\n      - [4, 5]\n    do:\n      cmd: echo ${item[1]}\n',
    );
    assert.deepEqual(cmds(s), { 't@0': 'echo 3', 't@1': 'echo 5' });
    assert.throws(
      () => expand('stages:\n  t:\n    foreach: [[1]]\n    do:\n      cmd: echo ${item}\n'),
      /Cannot interpolate data of type 'list'/,
    );
    assert.throws(
      () => expand('stages:\n  t:\n    foreach:\n      - {n: x}\n    do:\n      cmd: echo ${item.missing}\n'),
      (e: unknown) =>
        e instanceof RenderFailure &&
        /Could not find 'item.missing'/.test(e.message) &&
        e.yamlPath.join('.') === 'stages.t.do.cmd',
    );
  });
  it('names a foreach over a dict by key, with ${key} and ${item.x}', () => {
    const s = expand(
      'vars:\n  - models:\n      us: {lr: 0.1}\n      eu: {lr: 0.2}\nstages:\n  t:\n    foreach: ${models}\n    do:\n      cmd: echo ${key} ${item.lr}\n',
    );
    assert.deepEqual(cmds(s), { 't@us': 'echo us 0.1', 't@eu': 'echo eu 0.2' });
  });
  it('names a matrix by its values joined with -, a dict or list value as axis+index', () => {
    const s = expand(
      'vars:\n  - seeds: [1, 2]\nstages:\n  m:\n    matrix:\n      opt: [adam, sgd]\n      cfg: [{bs: 8}, [1]]\n      seed: ${seeds}\n    cmd: echo ${item.opt} ${key}\n',
    );
    assert.deepEqual(
      s.map((x) => x.name),
      [
        'm@adam-cfg0-1',
        'm@adam-cfg0-2',
        'm@adam-cfg1-1',
        'm@adam-cfg1-2',
        'm@sgd-cfg0-1',
        'm@sgd-cfg0-2',
        'm@sgd-cfg1-1',
        'm@sgd-cfg1-2',
      ],
    );
    assert.equal(s[0]?.fields.cmd, 'echo adam adam-cfg0-1');
    assert.equal(
      expand('stages:\n  m:\n    matrix:\n      c: [{bs: 8}]\n    cmd: echo ${item.c.bs}\n')[0]?.fields.cmd,
      'echo 8',
    );
  });
});

describe('vars and params.yaml', () => {
  it('loads params.yaml first, then vars files, file:keys and inline values', () => {
    const s = expand(
      'vars:\n  - extra.yaml:a,b\n  - more.json\n  - {z: 9}\nstages:\n  t:\n    cmd: ${p} ${a} ${b} ${m.n} ${z} ${list[1]}\n',
      {
        'sub/params.yaml': 'p: 1\nlist: [x, y]\n',
        'sub/extra.yaml': 'a: 2\nb: 3\nc: 4\n',
        'sub/more.json': '{"m": {"n": 5.0}}',
      },
      'sub',
    );
    assert.equal(s[0]?.fields.cmd, '1 2 3 5.0 9 y');
    assert.equal(s[0]?.wdir, 'sub');
  });
  it('refuses to redefine a key', () => {
    assert.throws(
      () => expand('vars:\n  - {p: 2}\nstages:\n  t:\n    cmd: x\n', { 'params.yaml': 'p: 1\n' }),
      /cannot redefine 'p' from 'vars\[0\]' as it already exists in 'params.yaml'/,
    );
  });
  it('resolves a templated wdir against the dvc.yaml folder and leaves \\${ alone', () => {
    const s = expand(
      'vars:\n  - {d: data}\nstages:\n  t:\n    wdir: ../${d}\n    cmd: echo \\${HOME} ${d}\n',
      {},
      'a/b',
    );
    assert.equal(s[0]?.wdir, 'a/data');
    assert.equal(s[0]?.fields.cmd, 'echo ${HOME} data');
  });
});

describe('path trie linking deps to outputs', () => {
  it('links a dep to outputs equal to it, above it and below it, and to nothing else', () => {
    const t = new PathTrie();
    t.add('data', 'a');
    t.add('models/x.bin', 'b');
    t.add('models/y.bin', 'c');
    t.add('modelsx', 'd');
    assert.deepEqual(t.overlapping('data/raw/f.csv'), ['a']);
    assert.deepEqual(t.overlapping('models').sort(), ['b', 'c']);
    assert.deepEqual(t.overlapping('models/x.bin'), ['b']);
    assert.deepEqual(t.overlapping('other'), []);
    assert.deepEqual(t.exact('data'), ['a']);
  });
});
