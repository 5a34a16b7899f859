import { existsSync } from 'node:fs';
import { projectPaths } from '../project.ts';
import { readUpToDate, upToDateReport } from '../run/up-to-date-record.ts';
import { findRoot } from './find-root.ts';
import { printOutcome } from './repro-outcome.ts';

/**
 * The no-op's short way, which bin/pipeline.js tries before it loads the CLI: a plain `repro` or
 * `status` of the whole pipeline, when the last no-op's record still holds (up-to-date-record.ts),
 * prints what the full command would print and exits 0, having read one file and stat'ed the
 * rest. Returns undefined, and the full CLI runs, for anything else: other commands, targets,
 * options that change the decision, a record that does not hold, a held writer lock. It parses
 * only the exact spellings listed here (commander accepts more; those take the long way).
 */
export function upToDateCli(argv: readonly string[]): number | undefined {
  let cwd: string | undefined;
  let profile: string | undefined;
  let command: 'repro' | 'status' | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string | undefined => {
      const v = argv[++i];
      return v === undefined || v.startsWith('-') ? undefined : v;
    };
    if (a === '-C' || a === '--cwd') cwd = value() ?? '';
    else if (a.startsWith('--cwd=')) cwd = a.slice('--cwd='.length);
    else if (a === '--profile') profile = value() ?? '';
    else if (a.startsWith('--profile=')) profile = a.slice('--profile='.length);
    else if (a === '--verbose') continue;
    else if (command === undefined && (a === 'repro' || a === 'status')) command = a;
    else if (command !== undefined && a === '--json') json = true;
    else if (command === 'repro' && (a === '-k' || a === '--keep-going' || a === '--wait')) continue;
    else if (command === 'repro' && (a === '-j' || a === '--jobs')) {
      if (!isJobs(value())) return undefined;
    } else if (command === 'repro' && (a.startsWith('--jobs=') || /^-j[^-]/.test(a))) {
      if (!isJobs(a.startsWith('--jobs=') ? a.slice('--jobs='.length) : a.slice(2))) return undefined;
    } else return undefined;
    if (cwd === '' || profile === '') return undefined;
  }
  if (command === undefined) return undefined;
  profile ??= process.env.PIPELINE_PROFILE === '' ? undefined : process.env.PIPELINE_PROFILE;
  const paths = projectPaths(findRoot(cwd), profile);
  // A run in progress may be changing the files; the long way waits or says who holds the lock.
  if (existsSync(paths.writerLock)) return undefined;
  const record = readUpToDate(paths.upToDateRecord);
  if (record === undefined) return undefined;
  printOutcome(
    {
      stages: record.stages.map(([name, fingerprint]) => upToDateReport(name, fingerprint)),
      executor: record.executor,
      submitted: 0,
    },
    { json, status: command === 'status', human: json ? process.stderr : process.stdout },
  );
  return 0;
}

/** A `-j` value the full CLI takes: a positive integer. */
function isJobs(v: string | undefined): boolean {
  return v !== undefined && /^[1-9][0-9]*$/.test(v);
}
