import { readFile } from 'node:fs/promises';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '../util/sha256-hex.ts';
import type { InvocationProvenance } from '../store/store.ts';

async function fileHash(path: string): Promise<string | null> {
  try {
    return sha256Hex(await readFile(path));
  } catch {
    return null;
  }
}

async function git(root: string, args: string[]): Promise<string | null> {
  const { execa } = await import('execa');
  const r = await execa('git', args, { cwd: root, reject: false, stdin: 'ignore' });
  return r.exitCode === 0 ? String(r.stdout) : null;
}

/**
 * What a reviewer needs to know about where and from what a run happened: the machine, the
 * exact dependency set (package-lock.json's hash), the pipeline definition, and the git commit
 * with whether uncommitted changes were present (a dirty tree means the commit alone does not
 * reproduce the run).
 */
export async function collectProvenance(root: string, id: string, command: string): Promise<InvocationProvenance> {
  const commit = await git(root, ['rev-parse', 'HEAD']);
  const status = commit === null ? null : await git(root, ['status', '--porcelain', '--untracked-files=no']);
  return {
    id,
    started: new Date(),
    command,
    cwd: root,
    host: hostname(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    packageLockHash: await fileHash(join(root, 'package-lock.json')),
    pipelineHash: await fileHash(join(root, 'pipeline.yaml')),
    gitCommit: commit?.trim() ?? null,
    gitDirty: status === null ? null : status.trim().length > 0,
  };
}
