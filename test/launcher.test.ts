import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LauncherClient } from '../src/run/launcher/launcher-client.ts';
import { spawnCommand, type CommandExit } from '../src/run/spawn-command.ts';

type Start = typeof spawnCommand;

function collect(start: Start, line: string, cwd: string, signal = new AbortController().signal) {
  const out: Record<1 | 2, string> = { 1: '', 2: '' };
  const done = start(line, { cwd, env: { ...process.env, PIPELINE_STAGE: 'probe' } }, (s, t) => (out[s] += t), signal);
  return { out, done };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Runs `body` with a fresh launcher and scratch folder; closes the one and removes the other after. */
async function withLauncher(body: (launcher: LauncherClient, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'launcher-'));
  const launcher = new LauncherClient();
  try {
    await body(launcher, dir);
  } finally {
    await launcher.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('command launcher', () => {
  it('gives the same output, exit status and start failure as a direct start', async () => {
    await withLauncher(async (launcher, dir) => {
      const direct: Start = spawnCommand;
      const launched: Start = (...a) => launcher.run(...a);
      // A long line of multi-byte characters arrives whole however the pipe splits it.
      const line = `printf 'é%.0s' $(seq 1 40000); echo; echo "$PIPELINE_STAGE in $(pwd)"; echo oops >&2; exit 3`;
      const results: Array<{ out: Record<1 | 2, string>; exit: CommandExit }> = [];
      for (const start of [direct, launched]) {
        const r = collect(start, line, dir);
        results.push({ out: r.out, exit: await r.done });
      }
      assert.deepEqual(results[1], results[0]);
      assert.equal(results[0]!.exit.code, 3);
      assert.equal(results[0]!.out[1], `${'é'.repeat(40000)}\nprobe in ${dir}\n`);
      assert.equal(results[0]!.out[2], 'oops\n');
      const missing = await collect(launched, 'true', join(dir, 'no-such-dir')).done;
      assert.equal(missing.code, null);
      assert.match(missing.startError ?? '', /ENOENT/);
    });
  });

  it('an abort stops the command and the processes it started', async () => {
    await withLauncher(async (launcher, dir) => {
      const abort = new AbortController();
      const r = collect(
        (...a) => launcher.run(...a),
        '(sleep 300; echo late) & echo $! > child.pid; wait',
        dir,
        abort.signal,
      );
      for (let i = 0; i < 200 && !existsSync(join(dir, 'child.pid')); i++) await sleep(50);
      await sleep(100);
      const pid = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
      assert.ok(alive(pid));
      abort.abort();
      // Settles once the tree is stopped (its exit status is the race of which process died first).
      await r.done;
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
      assert.ok(!alive(pid), 'the grandchild was stopped too');
    });
  });

  it('a launcher that dies fails what it was running and is started again for the next command', async () => {
    await withLauncher(async (launcher, dir) => {
      try {
        const launched: Start = (...a) => launcher.run(...a);
        const first = collect(launched, 'echo $PPID > launcher.pid; echo $$ > command.pid; exec sleep 300', dir);
        for (let i = 0; i < 200 && !existsSync(join(dir, 'launcher.pid')); i++) await sleep(50);
        await sleep(100);
        process.kill(Number(readFileSync(join(dir, 'launcher.pid'), 'utf8')), 'SIGKILL');
        const exit = await first.done;
        assert.match(exit.startError ?? '', /the command launcher exited \(SIGKILL\)/);
        const again = collect(launched, 'echo again', dir);
        assert.equal((await again.done).code, 0);
        assert.equal(again.out[1], 'again\n');
      } finally {
        // The command outlives its launcher (nothing was left to stop it): end it here, before the launcher closes.
        if (existsSync(join(dir, 'command.pid'))) process.kill(Number(readFileSync(join(dir, 'command.pid'), 'utf8')));
      }
    });
  });
});
