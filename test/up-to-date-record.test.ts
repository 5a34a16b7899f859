import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RACY_WINDOW_MS } from '../src/fingerprint/file-stamp.ts';
import { cli, edit, exampleProject, reproJson } from './helpers/project.ts';

// The built module bin/pipeline.js runs: a record is trusted only by the engine build that wrote
// it (its own compiled file is stamped), and the CLI the tests start runs that build.
const DIST = new URL('../dist/cli/up-to-date-cli.js', import.meta.url);
const ENGINE_FILE = fileURLToPath(new URL('../dist/run/up-to-date-record.js', import.meta.url));
const { upToDateCli } = (await import(DIST.href)) as typeof import('../src/cli/up-to-date-cli.ts');

/** The full CLI, without bin/pipeline.js's short way in front of it. */
function fullCli(dir: string, ...args: string[]) {
  return spawnSync(
    process.execPath,
    [fileURLToPath(new URL('../dist/bundle/main.js', import.meta.url)), '-C', dir, ...args],
    {
      encoding: 'utf8',
    },
  );
}

const record = (dir: string) => join(dir, '.pipeline/up-to-date.json');

/** Every file of the project dated a minute back, as if the run had ended then (past the racy window). */
async function settle(dir: string): Promise<void> {
  const old = new Date(Date.now() - 60_000);
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      utimesSync(p, old, old);
    }
  };
  walk(dir);
  // The engine's own file is stamped too; a build made just now is not yet past the window.
  const age = Date.now() - statSync(ENGINE_FILE).mtimeMs;
  if (age <= RACY_WINDOW_MS) await sleep(RACY_WINDOW_MS - age + 100);
}

/** The short way's answer in this process: its exit code (undefined: it declined) and what it printed. */
function shortWay(dir: string, ...args: string[]): { code: number | undefined; stdout: string } {
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: upToDateCli(['-C', dir, ...args]), stdout };
  } finally {
    process.stdout.write = write;
  }
}

/**
 * A project that ran, then had a no-op at once (its outputs within the racy window: no record may
 * be written) and another once its files were old, which leaves the record.
 */
async function recorded(): Promise<{ dir: string; racy: { record: boolean; short: number | undefined } }> {
  const dir = exampleProject();
  assert.equal((await cli(dir, 'repro')).code, 0);
  assert.equal((await cli(dir, 'repro')).code, 0);
  const racy = { record: existsSync(record(dir)), short: shortWay(dir, 'repro').code };
  await settle(dir);
  assert.equal((await cli(dir, 'repro')).code, 0);
  assert.ok(existsSync(record(dir)), 'the settled no-op left its record');
  return { dir, racy };
}

describe('the no-op record (.pipeline/up-to-date.json) and the short way it allows', () => {
  // One project for the tests that leave it as they found it; the one that changes files has its own.
  let shared: Awaited<ReturnType<typeof recorded>>;
  before(async () => {
    shared = await recorded();
  });

  it('answers a no-op from the record with exactly what the full run prints', async () => {
    const { dir } = shared;
    for (const args of [['repro'], ['repro', '--json'], ['status'], ['status', '--json']]) {
      const short = shortWay(dir, ...args);
      assert.equal(short.code, 0, `short way taken for ${args.join(' ')}`);
      const full = fullCli(dir, ...args);
      assert.equal(full.status, 0);
      assert.equal(short.stdout, full.stdout, args.join(' '));
    }
    assert.match(shortWay(dir, 'repro').stdout, /^8 stages: 0 ran, 8 cached\n$/);
    // DuckDB rewrites the store even when a run only reads from it (params_from values): the
    // store is read by content hash, so only which file it is counts.
    const now = new Date();
    utimesSync(join(dir, 'artifacts/pipeline.duckdb'), now, now);
    assert.equal(shortWay(dir, 'repro').code, 0, 'a store touched but not replaced');
  });

  it('declines, leaving the decision to the full run, whenever any file the no-op read has changed', async () => {
    const { dir } = await recorded();
    const lock = join(dir, 'lockfile.json');
    copyFileSync(lock, `${lock}.first`);
    const cases: Array<{ what: string; change: () => void; expect: Record<string, string> }> = [
      {
        what: 'a dependency',
        change: () => writeFileSync(join(dir, 'data/raw.txt'), 'the lazy dog\n'),
        expect: { prepare: 'ran' },
      },
      {
        what: 'a param in pipeline.yaml',
        change: () => edit(dir, 'pipeline.yaml', 'lr: 0.01', 'lr: 0.02'),
        expect: { prepare: 'cached', 'train@sgd-1': 'ran', summary: 'ran' },
      },
      {
        what: 'a module a stage imports',
        change: () => edit(dir, 'stages/helper.ts', 'x * 2', 'x * 3'),
        expect: { 'train@adam-3': 'ran', summary: 'ran' },
      },
      { what: 'an output removed', change: () => rmSync(join(dir, 'out/prepared.txt')), expect: { prepare: 'cached' } },
      // As `git checkout` would put an older lockfile back: its entries are not what the files say.
      {
        what: 'the lockfile replaced',
        change: () => copyFileSync(`${lock}.first`, lock),
        expect: { prepare: 'cached' },
      },
      // Without a store every stage runs, as the full run decides.
      {
        what: 'the store removed',
        change: () => rmSync(join(dir, 'artifacts/pipeline.duckdb')),
        expect: { prepare: 'ran' },
      },
    ];
    for (const c of cases) {
      c.change();
      assert.equal(shortWay(dir, 'repro').code, undefined, c.what);
      const { result, status } = await reproJson(dir);
      assert.equal(result.code, 0, c.what);
      for (const [stage, want] of Object.entries(c.expect)) assert.equal(status[stage], want, `${c.what}: ${stage}`);
      assert.ok(!existsSync(record(dir)), `${c.what}: a run that did something leaves no record`);
      await settle(dir);
      assert.equal((await cli(dir, 'repro')).code, 0);
      assert.equal(shortWay(dir, 'repro').code, 0, `${c.what}: recorded again by the next no-op`);
    }
  });

  it('writes no record while a file it read is within the racy window', () => {
    assert.equal(shared.racy.record, false, 'outputs written just now cannot be judged by their stamps yet');
    assert.equal(shared.racy.short, undefined);
  });

  it('counts a damaged, foreign or other engine build’s record as none', async () => {
    const { dir } = shared;
    const good = readFileSync(record(dir), 'utf8');
    const parsed = JSON.parse(good) as { files: [string, number, number, number][]; stages: unknown[] };
    const otherEngine = {
      ...parsed,
      files: parsed.files.map((f) => (f[0] === ENGINE_FILE ? [f[0], f[1], f[2] - 1, f[3]] : f)),
    };
    const noEngine = { ...parsed, files: parsed.files.filter((f) => f[0] !== ENGINE_FILE) };
    for (const junk of [
      good.slice(0, good.length / 2),
      'null',
      '[]',
      JSON.stringify({ ...parsed, version: 2 }),
      JSON.stringify({ ...parsed, stages: [[1, 2]] }),
      JSON.stringify(otherEngine),
      JSON.stringify(noEngine),
    ]) {
      writeFileSync(record(dir), junk);
      assert.equal(shortWay(dir, 'repro').code, undefined, junk.slice(0, 80));
    }
    const { result, status } = await reproJson(dir);
    assert.equal(result.code, 0);
    assert.ok(Object.values(status).every((s) => s === 'cached'));
    assert.equal(shortWay(dir, 'repro').code, 0, 'the full no-op wrote a good record again');
  });

  it('takes only a plain repro or status of the whole pipeline, and never while a run holds the lock', async () => {
    const { dir } = shared;
    for (const args of [
      ['repro', '-j', '2', '-k', '--wait'],
      ['repro', '-j2', '--json'],
      ['repro', '--jobs=3'],
      ['--verbose', 'status'],
      ['status', '--json', '--verbose'],
    ])
      assert.equal(shortWay(dir, ...args).code, 0, args.join(' '));
    for (const args of [
      ['repro', 'prepare'],
      ['repro', '--force'],
      ['repro', '--dry'],
      ['repro', '--downstream', 'prepare'],
      ['repro', '--executor', 'local'],
      ['repro', '-j', '0'],
      ['repro', '-kj', '2'],
      ['status', 'train'],
      ['dag'],
      ['--profile', 'smoke', 'repro'],
    ])
      assert.equal(shortWay(dir, ...args).code, undefined, args.join(' '));
    writeFileSync(
      join(dir, '.pipeline/lock'),
      JSON.stringify({ pid: process.pid, host: 'elsewhere', started: '', command: '' }),
    );
    assert.equal(shortWay(dir, 'repro').code, undefined, 'a held writer lock');
  });
});
