import type { FingerprintRecord } from '../fingerprint/fingerprint.ts';
import type { StoreReads } from './store-reads.ts';
import { UserError } from '../errors.ts';

export interface LineageInput {
  name: string;
  kind: 'stage' | 'file';
  hash: string;
  /** The stored result that produced an upstream output set; absent for files (raw data). */
  from?: LineageNode;
}

/** The fields of a stored fingerprint record that say how a result was made. */
type HowMade = Pick<FingerprintRecord, 'kind' | 'cmd' | 'uses' | 'params' | 'code' | 'packages'>;

/** One stored result and everything it was computed from, read from the store alone. */
export interface LineageNode extends HowMade {
  stage: string;
  fingerprint: string;
  created: string;
  outputs: Record<string, string>;
  inputs: LineageInput[];
}

/**
 * Resolves what a reviewer names, a stage or an artifact (hash or unique prefix), to the
 * fingerprint of the stored result that made it. For a stage, `current` (its lockfile entry)
 * wins; otherwise the newest stored result of that name.
 */
export async function resolveResult(
  store: StoreReads,
  target: string,
  current: string | undefined,
): Promise<string | undefined> {
  if (current !== undefined) return current;
  const byStage = await store.rows('SELECT fingerprint FROM results WHERE stage = $t ORDER BY created DESC LIMIT 1', {
    t: target,
  });
  if (byStage[0] !== undefined) return String(byStage[0].fingerprint);
  if (!/^[0-9a-f]{4,64}$/.test(target)) return undefined;
  const byArtifact = await store.rows(
    `SELECT o.fingerprint FROM outputs o JOIN results r USING (fingerprint) WHERE o.artifact LIKE $p ORDER BY r.created DESC LIMIT 1`,
    { p: `${target}%` },
  );
  if (byArtifact[0] !== undefined) return String(byArtifact[0].fingerprint);
  const byFingerprint = await store.rows('SELECT fingerprint FROM results WHERE fingerprint LIKE $p LIMIT 1', {
    p: `${target}%`,
  });
  return byFingerprint[0] === undefined ? undefined : String(byFingerprint[0].fingerprint);
}

/** The chain of results behind a fingerprint, down to the raw data files. */
export async function lineageOf(
  store: StoreReads,
  fingerprint: string,
  seen = new Map<string, LineageNode>(),
): Promise<LineageNode> {
  const known = seen.get(fingerprint);
  if (known !== undefined) return known;
  const rows = await store.rows(
    `SELECT stage, strftime(created, '%Y-%m-%d %H:%M:%S') AS created, fingerprint_record FROM results WHERE fingerprint = $f`,
    { f: fingerprint },
  );
  const row = rows[0];
  if (row === undefined) throw new UserError(`no stored result has fingerprint ${fingerprint}`);
  const record = JSON.parse(String(row.fingerprint_record)) as FingerprintRecord;
  const outputs: Record<string, string> = {};
  for (const o of await store.rows('SELECT name, artifact FROM outputs WHERE fingerprint = $f ORDER BY name', {
    f: fingerprint,
  }))
    outputs[String(o.name)] = String(o.artifact);
  const node: LineageNode = {
    stage: String(row.stage),
    fingerprint,
    created: String(row.created),
    kind: record.kind,
    cmd: record.cmd,
    uses: record.uses,
    params: record.params,
    code: record.code,
    packages: record.packages,
    outputs,
    inputs: [],
  };
  seen.set(fingerprint, node);
  for (const l of await store.rows(
    'SELECT input, input_hash, kind FROM lineage WHERE fingerprint = $f ORDER BY input',
    { f: fingerprint },
  )) {
    const input: LineageInput = {
      name: String(l.input),
      kind: l.kind === 'stage' ? 'stage' : 'file',
      hash: String(l.input_hash),
    };
    if (input.kind === 'stage') {
      const up = await store.rows(
        'SELECT fingerprint FROM results WHERE outputs_hash = $h ORDER BY (stage = $n) DESC, created DESC LIMIT 1',
        { h: input.hash, n: input.name },
      );
      if (up[0] !== undefined) input.from = await lineageOf(store, String(up[0].fingerprint), seen);
    }
    node.inputs.push(input);
  }
  return node;
}

const short = (h: string) => h.slice(0, 12);

export function renderLineageAscii(root: LineageNode): string {
  const lines: string[] = [];
  const printed = new Set<string>();
  const walk = (node: LineageNode, indent: string): void => {
    const what = node.kind === 'cmd' ? `cmd ${(node.cmd ?? []).join(' && ')}` : `uses ${node.uses ?? ''}`;
    lines.push(`${indent}${node.stage}  [${short(node.fingerprint)}, ${node.created}]  ${what}`);
    const pad = `${indent}    `;
    if (printed.has(node.fingerprint)) {
      lines.push(`${pad}(shown above)`);
      return;
    }
    printed.add(node.fingerprint);
    lines.push(`${pad}params ${JSON.stringify(node.params)}`);
    for (const [f, h] of Object.entries(node.code)) lines.push(`${pad}code ${f} ${short(h)}`);
    for (const [p, v] of Object.entries(node.packages)) lines.push(`${pad}package ${p}@${v}`);
    for (const [o, h] of Object.entries(node.outputs)) lines.push(`${pad}output ${o} ${short(h)}`);
    for (const input of node.inputs) {
      if (input.kind === 'file') lines.push(`${pad}<- file ${input.name} ${short(input.hash)}`);
      else if (input.from === undefined)
        lines.push(`${pad}<- ${input.name} ${short(input.hash)} (result not in the store)`);
      else {
        lines.push(`${pad}<- ${input.name}`);
        walk(input.from, `${pad}   `);
      }
    }
  };
  walk(root, '');
  return lines.join('\n');
}

export function renderLineageMermaid(root: LineageNode): string {
  const lines = ['flowchart BT'];
  const ids = new Map<string, string>();
  const id = (key: string) => {
    let v = ids.get(key);
    if (v === undefined) {
      v = `n${ids.size}`;
      ids.set(key, v);
    }
    return v;
  };
  const done = new Set<string>();
  const walk = (node: LineageNode): void => {
    if (done.has(node.fingerprint)) return;
    done.add(node.fingerprint);
    lines.push(`  ${id(node.fingerprint)}["${node.stage}<br/>${short(node.fingerprint)}"]`);
    for (const input of node.inputs) {
      if (input.from !== undefined) {
        walk(input.from);
        lines.push(`  ${id(input.from.fingerprint)} --> ${id(node.fingerprint)}`);
      } else {
        const fileId = id(`file:${input.name}:${input.hash}`);
        lines.push(
          `  ${fileId}[("${input.name}<br/>${short(input.hash)}")]`,
          `  ${fileId} --> ${id(node.fingerprint)}`,
        );
      }
    }
  };
  walk(root);
  return lines.join('\n');
}
