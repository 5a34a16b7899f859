import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cli, startCli } from './helpers/project.ts';
import { gatedProject, release, waitForFile } from './helpers/live-project.ts';
import { REFUSED } from './helpers/refused-queries.ts';

const json = async (dir: string, ...args: string[]) => {
  const r = await cli(dir, ...args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
};

describe('reads while a repro runs', () => {
  it('query, show, status, metrics show, lineage, verify and export answer from other processes; refusals hold', async () => {
    const dir = gatedProject();
    const run = startCli(dir, ['repro']);
    try {
      await waitForFile(join(dir, 'started-prepare'));
      release(dir, 'prepare');
      const trainName = await (async () => {
        for (;;) {
          const lock = existsSync(join(dir, 'lockfile.json'))
            ? JSON.parse(readFileSync(join(dir, 'lockfile.json'), 'utf8'))
            : { stages: {} };
          if (lock.stages.prepare !== undefined) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await waitForFile(join(dir, 'started-train@1'));
        return 'train@1';
      })();
      // The run holds the store (DuckDB allows one process): these answers come through its socket.
      const sock = join(dir, '.pipeline/read');
      assert.equal(statSync(sock).mode & 0o777, 0o700);
      assert.equal(statSync(join(sock, 'socket')).mode & 0o777, 0o600);
      assert.equal(statSync(join(sock, 'token')).mode & 0o777, 0o600);

      const runs = (await json(dir, 'query', 'SELECT stage, status FROM runs ORDER BY stage', '--json')) as Array<{
        stage: string;
        status: string;
      }>;
      assert.deepEqual(
        runs,
        [{ stage: 'prepare', status: 'ran' }],
        'what is committed so far is visible, the running stage is not',
      );
      const during = {
        show: await json(dir, 'show', 'prepare', '--json'),
        lineage: await json(dir, 'lineage', 'prepare', '--format', 'json'),
        metrics: await json(dir, 'metrics', 'show', '--json'),
        query: await json(
          dir,
          'query',
          "SELECT stage, name, value FROM metrics WHERE stage = 'prepare' ORDER BY name",
          '--json',
        ),
      };
      assert.equal((during.metrics as Record<string, { steps: number }>).prepare!.steps > 0, true);
      const status = await cli(dir, 'status', '--json');
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, new RegExp(`"name":"${trainName}","status":"would-run"`));
      const verify = await cli(dir, 'verify');
      assert.equal(verify.code, 0, verify.stderr);
      assert.match(verify.stdout, /^verified: \d+ artifacts and 1 results match their hashes/);
      const csv = join(dir, 'prepare-curve.csv');
      const exported = await cli(dir, 'export', 'prepare:curve', '--format', 'csv', '-o', csv);
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(readFileSync(csv, 'utf8'), /^step,loss\n1,0\.5\n/);

      for (const [what, sql, reason, file] of REFUSED) {
        const r = await cli(dir, 'query', sql(dir));
        assert.equal(r.code, 1, `${what} through the socket: ${r.stderr}`);
        assert.match(r.stderr, /^error: [^\n]+\n$/);
        assert.match(r.stderr, reason, what);
        if (file !== undefined) assert.equal(existsSync(join(dir, file)), false, `${what} created ${file}`);
      }
      const second = await cli(dir, 'repro');
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`another pipeline process \\(pid ${run.child.pid} on `));

      release(dir, 'all');
      const done = await run.done;
      assert.equal(done.code, 0, done.stderr);
      assert.equal(existsSync(join(sock, 'socket')), false, 'the socket goes with the run');
      assert.equal(existsSync(join(sock, 'token')), false, 'and so does the token');
      // For a committed stage the answer during the run equals the one after it.
      assert.deepEqual(await json(dir, 'show', 'prepare', '--json'), during.show);
      assert.deepEqual(await json(dir, 'lineage', 'prepare', '--format', 'json'), during.lineage);
      assert.deepEqual(
        await json(
          dir,
          'query',
          "SELECT stage, name, value FROM metrics WHERE stage = 'prepare' ORDER BY name",
          '--json',
        ),
        during.query,
      );
      assert.deepEqual(
        ((await json(dir, 'metrics', 'show', '--json')) as Record<string, unknown>).prepare,
        (during.metrics as Record<string, unknown>).prepare,
      );
    } finally {
      release(dir, 'all');
      if (run.child.exitCode === null) process.kill(-run.child.pid!, 'SIGTERM');
      await run.done;
    }
  });
});
