import { join } from 'node:path';
import type { ProjectPaths } from '../project.ts';

/** Where a running repro's read socket and its token live: a directory only the owner can enter. */
export function readSocketPaths(paths: ProjectPaths): { dir: string; socket: string; token: string } {
  const dir = join(paths.stateDir, 'read');
  return { dir, socket: join(dir, 'socket'), token: join(dir, 'token') };
}

/** Methods the read socket answers: the StoreReads calls, and the run's live state. */
export const READ_METHODS = ['rows', 'query', 'readTable', 'readJson', 'readBlob', 'live'] as const;
export type ReadMethod = (typeof READ_METHODS)[number];

export interface ReadRequest {
  token: string;
  id: number;
  method: ReadMethod;
  args: unknown[];
}

export type ReadResponse =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { name: string; message: string } };
