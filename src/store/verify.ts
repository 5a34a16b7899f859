import { canonicalJson } from '../fingerprint/canonical-json.ts';
import { sha256Hex } from '../util/sha256-hex.ts';
import { fingerprintHash } from '../fingerprint/fingerprint.ts';
import { asContentHash } from '../fingerprint/hash-types.ts';
import { recordOf, type Lockfile } from './lockfile.ts';
import { outputsHashOf } from './output-set.ts';
import type { OutputRef } from './store.ts';
import type { StoreReads } from './store-reads.ts';
import { tableHash, type ColumnType, type EncodedTable } from './table-codec.ts';

export interface Mismatch {
  problem: string;
  artifact: string | null;
  stage: string | null;
  expected: string | null;
  found: string | null;
}

const mismatch = (problem: string, m: Partial<Omit<Mismatch, 'problem'>> = {}): Mismatch => ({
  problem,
  artifact: m.artifact ?? null,
  stage: m.stage ?? null,
  expected: m.expected ?? null,
  found: m.found ?? null,
});

/**
 * Checks that the store is what it claims to be: every artifact's content hashes to its
 * address, every output and lineage edge points at something stored, every result's output-set
 * hash matches its outputs and metrics, and lockfile.json agrees with the store and with itself.
 */
export async function verifyStore(store: StoreReads, lock: Lockfile | undefined): Promise<Mismatch[]> {
  const found: Mismatch[] = [];
  // Content addressing shares one artifact among every stage that produced the same bytes.
  const producers = new Map<string, string>();
  for (const r of await store.rows(
    `SELECT o.artifact, string_agg(DISTINCT r.stage, ', ' ORDER BY r.stage) AS stages FROM outputs o JOIN results r USING (fingerprint) GROUP BY o.artifact`,
  )) {
    producers.set(String(r.artifact), String(r.stages));
  }
  const stageOf = (hash: string) => producers.get(hash) ?? null;

  const artifacts = await store.rows(
    'SELECT hash, kind, json_value, table_name, table_columns FROM artifacts ORDER BY hash',
  );
  const tables = new Set(
    (await store.rows(`SELECT table_name FROM information_schema.tables`)).map((r) => String(r.table_name)),
  );
  for (const a of artifacts) {
    const hash = asContentHash(String(a.hash));
    let actual: string | undefined;
    if (a.kind === 'json') {
      actual = sha256Hex(canonicalJson(JSON.parse(String(a.json_value))));
    } else if (a.kind === 'table') {
      const name = String(a.table_name);
      if (!tables.has(name)) {
        found.push(mismatch(`table ${name} is missing`, { artifact: hash, stage: stageOf(hash) }));
        continue;
      }
      const types = JSON.parse(String(a.table_columns)) as Array<{ name: string; type: ColumnType }>;
      const data = await store.readTable(hash);
      const encoded: EncodedTable = {
        columns: types.map((c) => ({ ...c, values: data[c.name] ?? [] })),
        rows: data[types[0]?.name ?? '']?.length ?? 0,
      };
      actual = tableHash(encoded);
    } else {
      const rows = await store.rows('SELECT bytes FROM blobs WHERE hash = $h', { h: hash });
      const bytes = rows[0]?.bytes;
      if (!(bytes instanceof Uint8Array)) {
        found.push(mismatch('stored bytes are missing', { artifact: hash, stage: stageOf(hash) }));
        continue;
      }
      actual = sha256Hex(bytes);
    }
    if (actual !== hash)
      found.push(
        mismatch('content does not match its hash (modified after it was stored)', {
          artifact: hash,
          stage: stageOf(hash),
          expected: hash,
          found: actual,
        }),
      );
  }

  const known = new Set(artifacts.map((a) => String(a.hash)));
  const outputs = new Map<string, Record<string, OutputRef>>();
  for (const o of await store.rows('SELECT fingerprint, name, kind, artifact FROM outputs')) {
    const fp = String(o.fingerprint);
    const ref: OutputRef = { kind: String(o.kind) as OutputRef['kind'], hash: asContentHash(String(o.artifact)) };
    outputs.set(fp, { ...(outputs.get(fp) ?? {}), [String(o.name)]: ref });
    if (!known.has(ref.hash))
      found.push(
        mismatch(`output ${String(o.name)} points to an artifact that is not stored`, {
          artifact: ref.hash,
          stage: stageOf(ref.hash),
        }),
      );
  }
  const metrics = new Map<string, Record<string, number>>();
  for (const m of await store.rows('SELECT fingerprint, name, value FROM metrics')) {
    const fp = String(m.fingerprint);
    metrics.set(fp, { ...(metrics.get(fp) ?? {}), [String(m.name)]: Number(m.value) });
  }
  const results = await store.rows('SELECT fingerprint, stage, outputs_hash FROM results');
  const outputSets = new Set(results.map((r) => String(r.outputs_hash)));
  for (const r of results) {
    const fp = String(r.fingerprint);
    const actual = outputsHashOf(outputs.get(fp) ?? {}, metrics.get(fp) ?? {});
    if (actual !== r.outputs_hash) {
      found.push(
        mismatch(`result ${fp.slice(0, 12)}: outputs or metrics changed after it was stored`, {
          stage: String(r.stage),
          expected: String(r.outputs_hash),
          found: actual,
        }),
      );
    }
  }
  for (const l of await store.rows(
    `SELECT l.fingerprint, l.input, l.input_hash, r.stage FROM lineage l LEFT JOIN results r USING (fingerprint) WHERE l.kind = 'stage'`,
  )) {
    if (!outputSets.has(String(l.input_hash))) {
      found.push(
        mismatch(`lineage edge from ${String(l.input)} points to an output set that is not stored`, {
          stage: l.stage === null ? null : String(l.stage),
          expected: String(l.input_hash),
        }),
      );
    }
  }

  for (const [stage, entry] of Object.entries(lock?.stages ?? {})) {
    const recomputed = fingerprintHash(recordOf(entry));
    if (recomputed !== entry.fingerprint) {
      found.push(
        mismatch('lockfile entry does not hash to its fingerprint (edited by hand?)', {
          stage,
          expected: entry.fingerprint,
          found: recomputed,
        }),
      );
      continue;
    }
    const stored = results.find((r) => r.fingerprint === entry.fingerprint);
    if (stored === undefined) {
      found.push(mismatch('lockfile entry has no result in the store', { stage, expected: entry.fingerprint }));
      continue;
    }
    if (stored.outputs_hash !== entry.outputsHash) {
      found.push(
        mismatch('lockfile output set differs from the store', {
          stage,
          expected: entry.outputsHash,
          found: String(stored.outputs_hash),
        }),
      );
    }
    const storedOutputs = outputs.get(entry.fingerprint) ?? {};
    for (const name of new Set([...Object.keys(entry.outputs), ...Object.keys(storedOutputs)])) {
      const want = entry.outputs[name]?.hash;
      const have = storedOutputs[name]?.hash;
      if (want !== have)
        found.push(
          mismatch(`lockfile output ${name} differs from the store`, {
            stage,
            artifact: want ?? have ?? null,
            expected: want ?? null,
            found: have ?? null,
          }),
        );
    }
    if (canonicalJson(entry.metrics) !== canonicalJson(metrics.get(entry.fingerprint) ?? {})) {
      found.push(
        mismatch('lockfile metrics differ from the store', {
          stage,
          expected: canonicalJson(entry.metrics),
          found: canonicalJson(metrics.get(entry.fingerprint) ?? {}),
        }),
      );
    }
  }
  return found;
}
