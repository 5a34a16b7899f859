import { formatDiagnostic } from '../config/diagnostic.ts';
import { CONFIG_EXIT_CODE, type ConfigFailure } from '../config/failure.ts';
import { describeFailure } from '../errors.ts';
import { LockfileError } from '../store/lockfile.ts';

export const EXIT = { ok: 0, stageFailed: 1, config: CONFIG_EXIT_CODE, interrupted: 130 } as const;

export function printFailures(failures: ConfigFailure[]): number {
  for (const f of failures) process.stderr.write(`${formatDiagnostic(f.diagnostic)}\n`);
  return EXIT.config;
}

/**
 * A one-line error for problems outside pipeline.yaml (lock held, store unreadable, ...); an
 * internal error also has its stack logged under .pipeline/logs/, and the line says where.
 */
export async function printError(e: unknown, root: string, verbose = false): Promise<number> {
  process.stderr.write(`error: ${await describeFailure(root, 'pipeline command', e, verbose)}\n`);
  // A damaged lockfile is bad input, like a damaged pipeline.yaml; anything else is a failure.
  return e instanceof LockfileError ? EXIT.config : EXIT.stageFailed;
}
