import { canonicalJson, type JsonObject } from './canonical-json.ts';
import { sha256Hex } from '../util/sha256-hex.ts';
import { asFingerprintHash, type FingerprintHash, type OutputSetHash } from './hash-types.ts';

/**
 * Bumped by hand whenever the engine changes how it runs a stage or encodes what a stage
 * returns, so that artifacts made by an older engine are never served as if this one made them.
 */
export const ENGINE_VERSION = 2;

/**
 * Everything that can change what a stage computes: the fingerprint record. The cache key, its
 * FingerprintHash (named `fingerprint` wherever it is stored), is the sha256 of this record in
 * canonical JSON; each field says why a change in it must make the stage run again. Its field
 * names are part of what is hashed, so they keep the spelling they are hashed with
 * (`metric_files`), unlike the engine's other names.
 *
 * Deliberately left out, and recorded as provenance on each run instead: the Node version, the
 * platform, the host and the tfjs backend. Including them would make every result made on a GPU
 * machine useless on a laptop; a study that wants the backend in the key puts it in `params`.
 * Likewise the executor and a stage's `resources:` (which cluster, partition, node size or time
 * limit a Slurm job asked for): a stage run on a bigger node computes the same result, so moving
 * a study from a laptop to a cluster, or giving a stage more memory, reruns nothing.
 */
export interface FingerprintRecord {
  /**
   * The engine's own version (ENGINE_VERSION): a new engine may encode tables, blobs or metrics
   * differently, and old results must not pass for new ones.
   */
  engine: number;

  /**
   * `cmd` or `uses`: the same params fed to a shell command or to a module are different
   * computations, and the two kinds store different outputs.
   */
  kind: 'cmd' | 'uses';

  /**
   * For `cmd:` stages, the command lines after `${...}` interpolation: the command is the code,
   * and interpolation is where params reach it, so the final text is what ran.
   */
  cmd: string[] | null;

  /**
   * For `uses:` stages, the module's project-relative path. Its content is covered by `code`;
   * the path is here because moving a stage to another module is a change of program.
   */
  uses: string | null;

  /**
   * The stage's params after interpolation and matrix expansion: the knobs of the computation
   * (learning rate, seed, ...). A changed value changes the result.
   */
  params: JsonObject;

  /**
   * One hash per dependency: for a file or directory, the sha256 of its content; for an
   * upstream stage, `stageDepHash` of that stage's whole output set and of the params and matrix
   * item it hands to this stage's context (a summary that labels rows by the upstream's
   * learning rate must rerun when that label changes, even if the numbers did not). Content,
   * not names or timestamps, so an upstream rerun that reproduces its outputs exactly does not
   * force downstream work, while any changed byte does.
   */
  deps: Record<string, string>;

  /**
   * For `uses:` stages, the sha256 of the module and of every local module it imports,
   * transitively. Editing a helper three imports away changes results as surely as editing the
   * stage itself (DVC misses this; we must not).
   */
  code: Record<string, string>;

  /**
   * For `uses:` stages, the resolved version of every npm package those modules import: a new
   * tokenizer or tensor library can change numbers with no change to our source.
   */
  packages: Record<string, string>;

  /**
   * The declared output files (`outs:` and `metrics:`). Renaming one changes what the stage
   * leaves in the work tree and what gets stored, so cached results for the old name don't fit.
   */
  outs: string[];
  metric_files: string[];

  /**
   * The folder a command runs in (a dvc.yaml stage's `wdir`), when not the project root: the
   * same command line in another folder reads and writes other files. Absent for the root, so
   * fingerprints of stages that run there are unchanged.
   */
  cwd?: string;
}

/** What a downstream stage sees of an upstream one: its outputs, and the params and item in its context. */
export function stageDepHash(outputsHash: OutputSetHash, params: unknown, item: unknown): string {
  return sha256Hex(canonicalJson({ outputs: outputsHash, params, item: item ?? null }));
}

export function fingerprintHash(record: FingerprintRecord): FingerprintHash {
  return asFingerprintHash(sha256Hex(canonicalJson(record)));
}

/**
 * Human explanations of why `current` differs from `previous` (the fingerprint recorded in the
 * lockfile), one line per changed item, for `repro --dry` and `status`.
 */
export function explainChange(previous: FingerprintRecord | undefined, current: FingerprintRecord): string[] {
  if (previous === undefined) return ['new stage: never run with this definition'];
  const reasons: string[] = [];
  if (previous.engine !== current.engine) reasons.push(`engine version ${previous.engine} -> ${current.engine}`);
  if (previous.kind !== current.kind) reasons.push(`kind ${previous.kind} -> ${current.kind}`);
  if (canonicalJson(previous.cmd) !== canonicalJson(current.cmd)) reasons.push('command changed');
  if (previous.uses !== current.uses) reasons.push(`module ${previous.uses ?? '-'} -> ${current.uses ?? '-'}`);
  diffRecords(previous.params, current.params, (k, a, b) => reasons.push(`param ${k}: ${show(a)} -> ${show(b)}`));
  diffRecords(previous.deps, current.deps, (k, a, b) =>
    reasons.push(a === undefined ? `new dep ${k}` : b === undefined ? `removed dep ${k}` : `dep ${k} changed`),
  );
  diffRecords(previous.code, current.code, (k, a, b) =>
    reasons.push(
      a === undefined
        ? `code ${k} now imported`
        : b === undefined
          ? `code ${k} no longer imported`
          : `code ${k} changed`,
    ),
  );
  diffRecords(previous.packages, current.packages, (k, a, b) => reasons.push(`package ${k}: ${show(a)} -> ${show(b)}`));
  if (canonicalJson(previous.outs) !== canonicalJson(current.outs)) reasons.push('outs changed');
  if (canonicalJson(previous.metric_files) !== canonicalJson(current.metric_files))
    reasons.push('metrics files changed');
  if ((previous.cwd ?? '') !== (current.cwd ?? ''))
    reasons.push(`wdir ${previous.cwd ?? '.'} -> ${current.cwd ?? '.'}`);
  return reasons;
}

function show(v: unknown): string {
  return v === undefined ? '(none)' : canonicalJson(v);
}

function diffRecords(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  report: (key: string, before: unknown, after: unknown) => void,
  prefix = '',
): void {
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const va = a[key];
    const vb = b[key];
    if (canonicalJson(va) === canonicalJson(vb)) continue;
    if (isPlainObject(va) && isPlainObject(vb)) diffRecords(va, vb, report, `${prefix}${key}.`);
    else report(`${prefix}${key}`, va, vb);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
