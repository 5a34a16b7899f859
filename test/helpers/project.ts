import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/pipeline.js', import.meta.url));

/** A fresh project directory holding `files` (path -> content). */
export function makeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-test-'));
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

export function edit(dir: string, path: string, from: string, to: string): void {
  const p = join(dir, path);
  const text = readFileSync(p, 'utf8');
  if (!text.includes(from)) throw new Error(`${path} does not contain ${from}`);
  writeFileSync(p, text.replace(from, to));
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `pipeline -C dir ...args` in a process group of its own (so a test can kill the group). */
export function startCli(
  dir: string,
  args: string[],
  env?: Record<string, string>,
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, '-C', dir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

export function cli(dir: string, ...args: string[]): Promise<CliResult> {
  return startCli(dir, args).done;
}

export interface JsonStage {
  name: string;
  status: string;
  fingerprint: string | null;
  seconds: number;
  reasons?: string[];
  cache?: string;
}

/** Runs `repro --json` and returns stage name -> status. */
export async function reproJson(
  dir: string,
  ...args: string[]
): Promise<{ result: CliResult; stages: JsonStage[]; status: Record<string, string> }> {
  const result = await cli(dir, 'repro', '--json', ...args);
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  let stages: JsonStage[];
  try {
    stages = (JSON.parse(line) as { stages: JsonStage[] }).stages;
  } catch {
    throw new Error(`repro --json printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
  return { result, stages, status: Object.fromEntries(stages.map((s) => [s.name, s.status])) };
}

/** The example project: a cmd stage, a 2x3 matrix of uses stages, and a summary. */
export function exampleProject(): string {
  return makeProject({
    'pipeline.yaml': `vars:
  seeds: [1, 2, 3]
stages:
  prepare:
    cmd: node scripts/prepare.js --n \${n} > out/prepared.txt
    deps: [data/raw.txt, scripts/prepare.js]
    params: {n: 100}
    outs: [out/prepared.txt]
  train:
    uses: stages/train.ts
    deps: [prepare]
    matrix:
      optimizer: [sgd, adam]
      seed: \${seeds}
    params: {optimizer: \${item.optimizer}, seed: \${item.seed}, lr: 0.01}
  summary:
    uses: stages/summary.ts
    deps: [train]
`,
    'data/raw.txt': 'the quick brown fox\n',
    'scripts/prepare.js': `const n = Number(process.argv[process.argv.indexOf('--n') + 1]);
const raw = require('fs').readFileSync('data/raw.txt', 'utf8').trim();
for (let i = 0; i < n; i++) console.log(i + ' ' + raw);
`,
    'package.json': '{"type": "commonjs"}\n',
    'stages/package.json': '{"type": "module"}\n',
    'stages/helper.ts': 'export const scale = (x: number): number => x * 2;\n',
    'stages/unrelated.ts': 'export const unused = 1;\n',
    'stages/train.ts': `import { readFileSync } from 'node:fs';
import { scale } from './helper.ts';
export default async function (ctx: any) {
  const lines = readFileSync(ctx.root + '/out/prepared.txt', 'utf8').trim().split('\\n');
  const lr = ctx.params.lr as number;
  const loss = [1, 2, 3].map((s) => 1 / (1 + s * scale(lr) * ctx.params.seed));
  return { tables: { curve: { step: [1, 2, 3], loss } }, metrics: { lines: lines.length, final_loss: loss[2] }, measurements: { finished_ms: Date.now() } };
}
`,
    'stages/summary.ts': `export default async function (ctx: any) {
  const stage: string[] = [];
  const last: number[] = [];
  for (const input of ctx.inputs) {
    const t = await input.table('curve');
    stage.push(input.name);
    last.push(t.loss.at(-1));
  }
  const measured = ctx.inputs.every((i: any) => typeof i.measurements.finished_ms === 'number');
  return { tables: { summary: { stage, last } }, json: { runs: stage.length, measured } };
}
`,
  });
}
