import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * An error worded for the user (a held lock, a damaged store, a missing input): printed as one
 * line, without a stack, since the stack would say nothing they can act on.
 */
export class UserError extends Error {}

/**
 * Whether an error is the user's to act on rather than a bug in the engine. System errors
 * (a full disk, a permission, a missing file) are about the user's machine; anything else that
 * escapes the engine (a TypeError, a failed assertion) is a bug, whose stack is what a report of
 * it needs.
 */
export function isUserError(e: unknown): boolean {
  if (e instanceof UserError) return true;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

/**
 * Writes an internal error's stack to `.pipeline/logs/` and returns the log's path relative to
 * the project root (or the error's first line alone when the log cannot be written).
 */
export async function logInternalError(root: string, context: string, e: unknown): Promise<string | undefined> {
  const dir = join(root, '.pipeline', 'logs');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(dir, `internal-error-${stamp}-${process.pid}.log`);
  const stack = e instanceof Error ? (e.stack ?? e.message) : String(e);
  const text = [
    `${context}`,
    `node ${process.version} ${process.platform}-${process.arch}`,
    `argv ${process.argv.slice(2).join(' ')}`,
    '',
    stack,
    '',
  ].join('\n');
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(file, text, { flag: 'a' });
    return relative(root, file);
  } catch {
    return undefined;
  }
}

/**
 * The one line an error is reported with: a user error as it is; an internal one marked as a
 * bug, with where its stack was written.
 */
export async function describeFailure(root: string, context: string, e: unknown, verbose: boolean): Promise<string> {
  if (isUserError(e)) return firstLine(e);
  const log = await logInternalError(root, context, e);
  if (verbose) process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return `internal error: ${firstLine(e)} (a bug in pipeline; ${log === undefined ? 'its stack could not be logged' : `stack in ${log}`})`;
}
