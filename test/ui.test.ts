import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { chromiumForSuite } from './helpers/browser.ts';
import { gatedProject, release } from './helpers/live-project.ts';
import { startCli } from './helpers/project.ts';

/** GET with a chosen Host header (a browser will not let a page set one). */
function get(port: number, path: string, host: string, cookie?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { host, ...(cookie === undefined ? {} : { cookie }) } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Local addresses of every listening TCP socket on `port`, from the kernel's tables. */
function listeners(port: number): string[] {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local?.endsWith(`:${hex}`) && state === '0A') found.push(local.slice(0, -5));
    }
  }
  return found;
}

const stateOf = (page: Page, stage: string) => page.locator(`svg.dag [data-stage="${stage}"]`).getAttribute('class');

async function waitForState(page: Page, stage: string, state: string): Promise<void> {
  await page.waitForSelector(`svg.dag [data-stage="${stage}"].state-${state}`, { timeout: 60_000 });
}

describe('pipeline ui', () => {
  const browser = chromiumForSuite();

  it(
    'is served to 127.0.0.1 with a token only, and shows a running pipeline live in a browser',
    { timeout: 240_000 },
    async () => {
      const { context } = browser;
      assert.ok(context);
      const dir = gatedProject();
      const ui = startCli(dir, ['ui', '--port', '0']);
      const run = { current: undefined as ReturnType<typeof startCli> | undefined };
      try {
        const url = await new Promise<string>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('pipeline ui printed no URL')), 30_000);
          let text = '';
          ui.child.stdout!.on('data', (c: Buffer) => {
            text += c.toString();
            const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.exec(text);
            if (m !== null) {
              clearTimeout(t);
              resolve(m[0]);
            }
          });
        });
        const { port, searchParams } = new URL(url);
        const token = searchParams.get('token')!;
        const p = Number(port);

        // Loopback only, a token, and the right Host.
        assert.deepEqual(listeners(p), ['0100007F'], 'listens on 127.0.0.1 and nothing else');
        for (const addrs of Object.values(networkInterfaces())) {
          for (const a of addrs ?? []) {
            if (a.internal || a.family !== 'IPv4') continue;
            const refused = await new Promise<boolean>((resolve) => {
              const s = connect(p, a.address);
              s.once('connect', () => (s.destroy(), resolve(false)));
              s.once('error', () => resolve(true));
            });
            assert.ok(refused, `nothing answers on ${a.address}:${p}`);
          }
        }
        assert.equal((await get(p, '/', `127.0.0.1:${p}`)).status, 401, 'no token');
        assert.equal((await get(p, '/?token=0000', `127.0.0.1:${p}`)).status, 401, 'a wrong token');
        assert.equal((await get(p, '/api/state', `127.0.0.1:${p}`)).status, 401, 'no token on the API');
        assert.equal(
          (await get(p, `/?token=${token}`, `evil.example:${p}`)).status,
          403,
          'a foreign Host (DNS rebinding)',
        );
        assert.equal((await get(p, `/?token=${token}`, `127.0.0.1:1`)).status, 403, 'another port in Host');
        const first = await get(p, '/', `localhost:${p}`, `pipeline_ui_token=${token}`);
        assert.equal(first.status, 200, 'the cookie carries the token');
        // The first paint holds the stages and their states as served.
        for (const s of ['prepare', 'train@1', 'train@2', 'summary'])
          assert.match(first.body, new RegExp(`data-stage="${s}" class="node state-not-run"`));

        const page = await context.newPage();
        const requests: string[] = [];
        const errors: string[] = [];
        page.on('request', (r) => requests.push(r.url()));
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(url);
        assert.equal(await page.locator('svg.dag [data-stage]').count(), 4);

        run.current = startCli(dir, ['repro']);
        await waitForState(page, 'prepare', 'running');
        assert.match((await page.locator('#run-state').textContent()) ?? '', /repro is running/);
        assert.match((await stateOf(page, 'summary')) ?? '', /state-waiting/);
        release(dir, 'prepare');
        await waitForState(page, 'prepare', 'ran');
        await waitForState(page, 'train@1', 'running');

        // A stage's page: its curve gets points while it trains.
        const stage = await context.newPage();
        stage.on('request', (r) => requests.push(r.url()));
        stage.on('pageerror', (e) => errors.push(e.message));
        await stage.goto(`http://127.0.0.1:${p}/stage/${encodeURIComponent('train@1')}`);
        await stage.waitForSelector('#curves[data-points]', { timeout: 30_000 });
        const n1 = Number(await stage.locator('#curves').getAttribute('data-points'));
        await stage.waitForFunction((n) => Number(document.getElementById('curves')?.dataset.points) > n + 3, n1, {
          timeout: 30_000,
        });
        const marks = await stage.locator('#curve svg path').count();
        assert.ok(marks >= 1, 'the curve is drawn');
        assert.match((await stage.locator('.stage-state .state').textContent()) ?? '', /^running \d+/);
        if (process.env.PIPELINE_UI_SCREENSHOTS) {
          await stage.waitForFunction(() => Number(document.getElementById('curves')?.dataset.points) > 40, undefined, {
            timeout: 30_000,
          });
          await stage.screenshot({ path: join(process.env.PIPELINE_UI_SCREENSHOTS, 'ui-stage.png') });
          await page.screenshot({ path: join(process.env.PIPELINE_UI_SCREENSHOTS, 'ui-dag.png') });
        }

        release(dir, 'all');
        const done = await run.current.done;
        assert.equal(done.code, 0, done.stderr);
        await waitForState(page, 'summary', 'ran');
        await page.waitForFunction(
          () => /no run in progress/.test(document.getElementById('run-state')?.textContent ?? ''),
          undefined,
          { timeout: 30_000 },
        );
        for (const s of ['prepare', 'train@1', 'train@2', 'summary'])
          assert.match((await stateOf(page, s)) ?? '', /state-ran/, s);

        // After the run: the stage page from the store (its stored curve), and the matrix side by side.
        await stage.reload();
        assert.match((await stage.locator('.stage-state .state').textContent()) ?? '', /^ran$/);
        assert.match((await stage.locator('pre').first().textContent()) ?? '', /^train@1 /);
        await stage.waitForSelector('#curves[data-points]', { timeout: 30_000 });
        const matrix = await context.newPage();
        matrix.on('request', (r) => requests.push(r.url()));
        await matrix.goto(`http://127.0.0.1:${p}/matrix/train?sort=metric%3Alr&desc=1`);
        const rows = await matrix.locator('table.matrix tbody tr td:first-child').allTextContents();
        assert.deepEqual(rows, ['train@2', 'train@1'], 'sorted by lr, descending');
        assert.deepEqual(await matrix.locator('table.matrix thead tr:last-child th').allTextContents(), [
          'stage',
          'state',
          'lr',
          'final_loss',
          'lr ▼',
          'steps',
        ]);
        await matrix.fill('input[name=filter]', '"lr":1');
        await matrix.click('form.filter button');
        assert.deepEqual(await matrix.locator('table.matrix tbody tr td:first-child').allTextContents(), ['train@1']);
        if (process.env.PIPELINE_UI_SCREENSHOTS) {
          await matrix.goto(`http://127.0.0.1:${p}/matrix/train?sort=metric%3Afinal_loss`);
          await matrix.screenshot({ path: join(process.env.PIPELINE_UI_SCREENSHOTS, 'ui-matrix.png') });
        }

        assert.deepEqual(errors, []);
        const elsewhere = requests.filter((r) => !r.startsWith(`http://127.0.0.1:${p}/`));
        assert.deepEqual(elsewhere, [], 'nothing is fetched from anywhere else');
      } finally {
        release(dir, 'all');
        if (run.current !== undefined && run.current.child.exitCode === null)
          process.kill(-run.current.child.pid!, 'SIGTERM');
        await run.current?.done;
        process.kill(-ui.child.pid!, 'SIGTERM');
        await ui.done;
      }
    },
  );
});
