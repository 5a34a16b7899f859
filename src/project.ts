import { join } from 'node:path';

/** Where a project keeps each of its files, relative to the directory holding pipeline.yaml. */
export interface ProjectPaths {
  root: string;
  pipelineFile: string;
  /** lockfile.json, or lockfile.NAME.json for `--profile NAME`: each profile records its own state. */
  lockfile: string;
  store: string;
  /** Git-ignored scratch state: caches and the writer lock. */
  stateDir: string;
  fileHashCache: string;
  moduleCache: string;
  /** The expansion of the last valid pipeline.yaml, keyed by its bytes. */
  expansionCache: string;
  writerLock: string;
  /** What the last no-op decided and the stamps of the files it decided from (up-to-date-record.ts); one per profile. */
  upToDateRecord: string;
}

/** The lockfile's file name for a profile: a profile run never touches the default study's lockfile.json. */
export function lockfileName(profile?: string): string {
  return profile === undefined ? 'lockfile.json' : `lockfile.${profile}.json`;
}

/** profiles/NAME.yaml, whose vars replace pipeline.yaml's under `--profile NAME`. */
export function profileFile(root: string, profile: string): string {
  return join(root, 'profiles', `${profile}.yaml`);
}

export function projectPaths(root: string, profile?: string): ProjectPaths {
  const stateDir = join(root, '.pipeline');
  return {
    root,
    pipelineFile: join(root, 'pipeline.yaml'),
    lockfile: join(root, lockfileName(profile)),
    store: join(root, 'artifacts', 'pipeline.duckdb'),
    stateDir,
    fileHashCache: join(stateDir, 'file-hashes.json'),
    moduleCache: join(stateDir, 'modules.json'),
    expansionCache: join(stateDir, 'expanded.json'),
    writerLock: join(stateDir, 'lock'),
    upToDateRecord: join(stateDir, profile === undefined ? 'up-to-date.json' : `up-to-date.${profile}.json`),
  };
}
