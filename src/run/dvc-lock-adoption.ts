import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { StageSpec } from '../config/stage-spec.ts';
import { canonicalJson } from '../fingerprint/canonical-json.ts';

interface LockedPath {
  path?: unknown;
  md5?: unknown;
  hash?: unknown;
}
interface LockedStage {
  cmd?: unknown;
  deps?: LockedPath[];
  outs?: LockedPath[];
  params?: Record<string, Record<string, unknown>>;
}

const TEXT = new Set([...Array.from({ length: 95 }, (_, i) => i + 32), 10, 13, 9, 12, 8]);

/** DVC's guess, from a file's first 512 bytes, that it is text (then DVC 2 hashed it with CRLF as LF). */
function looksText(bytes: Uint8Array): boolean {
  const block = bytes.subarray(0, 512);
  if (block.length === 0) return true;
  let other = 0;
  for (const b of block) {
    if (b === 0) return false;
    if (!TEXT.has(b)) other++;
  }
  return other / block.length <= 0.3;
}

function md5(bytes: Uint8Array | string): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** md5 of a file as DVC 3 (`hash: md5`, the bytes) or DVC 2 (text with CRLF read as LF) recorded it. */
function fileMd5(bytes: Buffer, legacy: boolean): string {
  if (!legacy || !looksText(bytes)) return md5(bytes);
  return md5(Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'));
}

/** Python's json.dumps (ASCII-escaped, `, ` and `: ` separators) of DVC's directory listing. */
function pyJson(entries: Array<{ md5: string; relpath: string }>): string {
  const str = (s: string) =>
    JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `[${entries.map((e) => `{"md5": ${str(e.md5)}, "relpath": ${str(e.relpath)}}`).join(', ')}]`;
}

async function listFiles(abs: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(abs, rel), { withFileTypes: true })) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listFiles(abs, p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** The md5 DVC would record for a work-tree path (`HASH.dir` for a directory), or undefined if absent. */
async function workspaceMd5(abs: string, legacy: boolean): Promise<string | undefined> {
  const st = await stat(abs).catch(() => undefined);
  if (st === undefined) return undefined;
  if (!st.isDirectory()) return fileMd5(await readFile(abs), legacy);
  const files = (await listFiles(abs)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const entries: Array<{ md5: string; relpath: string }> = [];
  for (const f of files) entries.push({ md5: fileMd5(await readFile(join(abs, f)), legacy), relpath: f });
  return `${md5(pyJson(entries))}.dir`;
}

async function matches(root: string, base: string, entry: LockedPath | undefined): Promise<boolean> {
  if (entry === undefined || typeof entry.path !== 'string' || typeof entry.md5 !== 'string') return false;
  const abs = join(root, base, entry.path);
  return (await workspaceMd5(abs, entry.hash !== 'md5')) === entry.md5;
}

const parsedLocks = new Map<string, Promise<Record<string, LockedStage> | undefined>>();

/** A dvc.lock's stages by name, parsed once per process; undefined when there is none. */
function lockOf(root: string, file: string): Promise<Record<string, LockedStage> | undefined> {
  const path = join(root, posix.dirname(file), 'dvc.lock');
  let p = parsedLocks.get(path);
  if (p === undefined) {
    p = (async () => {
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (text === undefined) return undefined;
      const { parse } = await import('yaml');
      const data = parse(text) as { stages?: Record<string, LockedStage> } | null;
      return data?.stages ?? undefined;
    })().catch(() => undefined);
    parsedLocks.set(path, p);
  }
  return p;
}

/**
 * Whether a dvc.yaml stage's result is already in the work tree by dvc.lock's account: its
 * command and params as locked, and every dep and out matching the md5 DVC recorded. Such a
 * stage is taken over as it is rather than run again, so switching a project from DVC reruns
 * nothing that DVC had brought up to date.
 */
export async function adoptableFromDvcLock(root: string, spec: StageSpec): Promise<boolean> {
  if (spec.dvc === undefined) return false;
  const locked = (await lockOf(root, spec.dvc.file))?.[spec.dvc.localName];
  if (locked === undefined) return false;
  const lockedCmd = Array.isArray(locked.cmd) ? locked.cmd.map(String).join('\n') : String(locked.cmd ?? '');
  if (lockedCmd !== spec.cmd.join('\n')) return false;
  const base = spec.cwd ?? '';
  const rel = (p: string) => posix.normalize(posix.join(base, p));
  const lockedParams: Record<string, unknown> = {};
  for (const [file, values] of Object.entries(locked.params ?? {})) lockedParams[rel(file)] = values;
  if (canonicalJson(lockedParams) !== canonicalJson(spec.params)) return false;
  const byPath = (list: LockedPath[] | undefined) => new Map((list ?? []).map((e) => [rel(String(e.path)), e]));
  const deps = byPath(locked.deps);
  const outs = byPath(locked.outs);
  for (const d of spec.deps) if (!(await matches(root, base, deps.get(d)))) return false;
  for (const o of [...spec.outs, ...spec.metrics]) if (!(await matches(root, base, outs.get(o)))) return false;
  return true;
}
