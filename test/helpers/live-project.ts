import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeProject } from './project.ts';

/**
 * A pipeline whose stages run until the test releases them: each writes `started-NAME`, reports
 * progress with a falling loss every 100 ms, and finishes when `release-NAME` (or `release-all`)
 * appears. The test decides when each stage ends, so nothing depends on timing.
 */
export function gatedProject(): string {
  return makeProject({
    'pipeline.yaml': `stages:
  prepare:
    uses: stages/step.ts
  train:
    uses: stages/step.ts
    deps: [prepare]
    matrix:
      lr: [1, 2]
    params: {lr: \${item.lr}}
  summary:
    uses: stages/step.ts
    deps: [train]
`,
    'stages/step.ts': `import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
export default async function (ctx: any) {
  writeFileSync(ctx.root + '/started-' + ctx.name, '');
  const lr = typeof ctx.params.lr === 'number' ? ctx.params.lr : 1;
  let step = 0;
  const loss: number[] = [];
  while (!existsSync(ctx.root + '/release-' + ctx.name) && !existsSync(ctx.root + '/release-all')) {
    step++;
    loss.push(1 / (1 + step * lr));
    ctx.progress({ done: step, note: 'loss ' + loss[loss.length - 1].toFixed(3), values: step % 5 === 0 ? { loss: loss[loss.length - 1], validation_loss: 1.1 / (1 + step * lr) } : { loss: loss[loss.length - 1] } });
    if (step % 10 === 0) ctx.log('step ' + step);
    await sleep(100);
  }
  return { tables: { curve: { step: loss.map((_, i) => i + 1), loss } }, metrics: { steps: step, final_loss: loss[loss.length - 1] ?? 1, lr } };
}
`,
  });
}

export async function waitForFile(path: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${path}`);
    await sleep(50);
  }
}

export function release(dir: string, stage: string): void {
  writeFileSync(join(dir, `release-${stage}`), '');
}
