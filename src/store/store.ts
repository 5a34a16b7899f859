import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import { faultPoint } from '../fault.ts';
import { canonicalJson, type JsonValue } from '../fingerprint/canonical-json.ts';
import type { FingerprintRecord } from '../fingerprint/fingerprint.ts';
import {
  asContentHash,
  asFingerprintHash,
  asOutputSetHash,
  type ContentHash,
  type FingerprintHash,
  type OutputSetHash,
} from '../fingerprint/hash-types.ts';
import type { TableData } from '../stage-api.ts';
import { ReadConnection } from './read-connection.ts';
import { flattenParams, migrate, schemaVersion, STORE_SCHEMA_VERSION } from './schema.ts';
import type { StoreReads } from './store-reads.ts';
import { decodeColumns, type EncodedTable } from './table-codec.ts';
import { appendTable } from './append-table.ts';
import { deleteFingerprints, insertRows } from './insert-rows.ts';
import { UserError } from '../errors.ts';

export { STORE_SCHEMA_VERSION };

const LOCK_CONFLICT = /Conflicting lock is held in (.*?) \(PID (\d+)\)/;
const WRITER_WAIT_MS = 5000;

export type ArtifactKind = 'table' | 'json' | 'blob' | 'file';

export interface OutputRef {
  kind: ArtifactKind;
  hash: ContentHash;
}

/** A stage's outputs as stored: what a cache hit hands back. */
export interface StoredResult {
  fingerprint: FingerprintHash;
  stage: string;
  outputs: Record<string, OutputRef>;
  outputsHash: OutputSetHash;
  metrics: Record<string, number>;
}

/** One artifact to store: a table, a JSON value or bytes (blobs and out files). */
export type NewArtifact =
  | { kind: 'table'; hash: ContentHash; table: EncodedTable }
  | { kind: 'json'; hash: ContentHash; value: JsonValue }
  | { kind: 'blob' | 'file'; hash: ContentHash; bytes: Uint8Array };

export interface RunRecord {
  invocation: string;
  stage: string;
  fingerprint: FingerprintHash;
  status: 'ran' | 'cached' | 'failed';
  cacheHit: boolean;
  started: Date;
  seconds: number;
  host: string;
  node: string;
  platform: string;
  backend: string | null;
  provenance: Record<string, JsonValue>;
  error: string | null;
}

export interface CommitInput {
  result: StoredResult;
  /** The fingerprint record, kept so `show` can explain a result without the lockfile. */
  fingerprintRecord: FingerprintRecord;
  /** Input name -> the output-set hash of an upstream stage or the content hash of a file: the lineage edges. */
  inputs: Record<string, { kind: 'stage'; hash: OutputSetHash } | { kind: 'file'; hash: ContentHash }>;
  params: Record<string, unknown>;
  artifacts: NewArtifact[];
  /** Replace the measurements stored for this result (a new run of it measured anew). */
  measurements: Record<string, number>;
  run: RunRecord;
}

export class StoreError extends UserError {}

const RUN_ROW =
  '($inv, $stage, $fp, $status, $hit, make_timestamp($started::BIGINT * 1000), $sec, $host, $node, $platform, $backend, $prov, $err)';

function runRow(run: RunRecord): Record<string, DuckDBValue> {
  return {
    inv: run.invocation,
    stage: run.stage,
    fp: run.fingerprint,
    status: run.status,
    hit: run.cacheHit,
    started: run.started.getTime(),
    sec: run.seconds,
    host: run.host,
    node: run.node,
    platform: run.platform,
    backend: run.backend,
    prov: canonicalJson(run.provenance),
    err: run.error,
  };
}

/**
 * The artifact store: one DuckDB file. Only the coordinator process opens it (DuckDB lets one
 * process hold a file), and every stage's outputs go in with one transaction, so a run killed at
 * any moment leaves the store as it was before that stage.
 */
export class ArtifactStore implements StoreReads {
  /** One connection, one transaction at a time: commits from parallel stages queue here. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly readers = new Set<ReadConnection>();
  private readonly closing: Array<() => Promise<void>> = [];

  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
  ) {}

  /**
   * Opens (creating or upgrading) the store. `readOnly` opens it so that no statement can write,
   * for commands that only read; an older store is upgraded first, in a separate writable open.
   * DuckDB may touch no file but the store itself (no COPY TO, read_csv, ATTACH, INSTALL) and its
   * settings are locked, unless `fileAccess` asks otherwise (gc, which compacts into a new file
   * and runs no SQL of the user's).
   */
  static async open(path: string, opts: { readOnly?: boolean; fileAccess?: boolean } = {}): Promise<ArtifactStore> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    if (!opts.readOnly) await mkdir(dirname(path), { recursive: true });
    const access = { enable_external_access: opts.fileAccess ? 'true' : 'false', lock_configuration: 'true' };
    // A read-only command holds the file for a moment (DuckDB locks it per process): a writer waits that out.
    const deadline = Date.now() + (opts.readOnly ? 0 : WRITER_WAIT_MS);
    const connect = async (readOnly: boolean) => {
      let instance: DuckDBInstance;
      for (;;) {
        try {
          instance = await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY', ...access } : access);
          break;
        } catch (e) {
          if (!LOCK_CONFLICT.test(firstLine(e)) || Date.now() > deadline)
            throw new StoreError(describeOpenError(path, e));
          await sleep(50);
        }
      }
      return { instance, db: await instance.connect() };
    };
    const first = await connect(opts.readOnly ?? false);
    try {
      if (!opts.readOnly) await migrate(first.db, path);
      else if ((await schemaVersion(first.db)) !== STORE_SCHEMA_VERSION) {
        first.db.closeSync();
        first.instance.closeSync();
        (await ArtifactStore.open(path)).closeNow();
        const again = await connect(true);
        return new ArtifactStore(path, again.instance, again.db);
      }
    } catch (e) {
      first.db.closeSync();
      first.instance.closeSync();
      throw e instanceof StoreError ? e : new StoreError(firstLine(e));
    }
    return new ArtifactStore(path, first.instance, first.db);
  }

  private closeNow(): void {
    this.db.closeSync();
    this.instance.closeSync();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async findResults(fingerprints: readonly FingerprintHash[]): Promise<Map<FingerprintHash, StoredResult>> {
    const found = new Map<FingerprintHash, StoredResult>();
    if (fingerprints.length === 0) return found;
    return this.serial(async () => {
      const list = fingerprints.map((f) => `'${f.replace(/[^0-9a-f]/g, '')}'`).join(',');
      const results = (
        await this.db.runAndReadAll(
          `SELECT fingerprint, stage, outputs_hash FROM results WHERE fingerprint IN (${list})`,
        )
      ).getRowObjectsJS();
      for (const r of results) {
        const fingerprint = asFingerprintHash(String(r.fingerprint));
        found.set(fingerprint, {
          fingerprint,
          stage: String(r.stage),
          outputsHash: asOutputSetHash(String(r.outputs_hash)),
          outputs: {},
          metrics: {},
        });
      }
      if (found.size === 0) return found;
      const outs = (
        await this.db.runAndReadAll(
          `SELECT fingerprint, name, kind, artifact FROM outputs WHERE fingerprint IN (${list})`,
        )
      ).getRowObjectsJS();
      for (const o of outs) {
        const r = found.get(asFingerprintHash(String(o.fingerprint)));
        if (r !== undefined)
          r.outputs[String(o.name)] = { kind: String(o.kind) as ArtifactKind, hash: asContentHash(String(o.artifact)) };
      }
      const ms = (
        await this.db.runAndReadAll(`SELECT fingerprint, name, value FROM metrics WHERE fingerprint IN (${list})`)
      ).getRowObjectsJS();
      for (const m of ms) {
        const r = found.get(asFingerprintHash(String(m.fingerprint)));
        if (r !== undefined) r.metrics[String(m.name)] = Number(m.value);
      }
      return found;
    });
  }

  async findResult(fingerprint: FingerprintHash): Promise<StoredResult | undefined> {
    return (await this.findResults([fingerprint])).get(fingerprint);
  }

  /** Stores a stage's artifacts, result, lineage, metrics and run record, all or nothing. */
  commit(input: CommitInput): Promise<void> {
    return this.commitMany([input]);
  }

  /**
   * Stores several stages' results in one transaction, all or nothing: one transaction per
   * batch rather than per stage is what keeps a run of many small stages from queueing on the
   * store. A stage's outputs count as stored only once this resolves.
   */
  commitMany(inputs: readonly CommitInput[]): Promise<void> {
    if (inputs.length === 0) return Promise.resolve();
    return this.serial(async () => {
      await this.db.run('BEGIN TRANSACTION');
      try {
        // Batched statements need each fingerprint once; a batch naming one twice (never in a
        // run, where fingerprints are distinct) is written one stage after another, last one winning.
        if (new Set(inputs.map((i) => i.result.fingerprint)).size === inputs.length) await this.writeResults(inputs);
        else for (const input of inputs) await this.writeResult(input);
        faultPoint(
          'commit',
          inputs.map((i) => i.result.stage),
        );
        await this.db.run('COMMIT');
      } catch (e) {
        await this.db.run('ROLLBACK').catch(() => undefined);
        const names = inputs.map((i) => i.result.stage).join(', ');
        throw new StoreError(`storing the results of ${names} failed, nothing was stored: ${firstLine(e)}`);
      }
    });
  }

  /**
   * What writeResult does for each of `inputs`, with a few statements per table for the whole
   * batch: a statement costs about the same for one row as for many, and a run of many small
   * stages would otherwise spend its time in them. Fingerprints must be distinct.
   */
  private async writeResults(inputs: readonly CommitInput[]): Promise<void> {
    const { blobValue } = await import('@duckdb/node-api');
    const fresh = new Map<string, NewArtifact>();
    for (const input of inputs) for (const a of input.artifacts) if (!fresh.has(a.hash)) fresh.set(a.hash, a);
    if (fresh.size > 0) {
      const hashes = [...fresh.keys()];
      const known = await this.db.runAndReadAll(
        `SELECT hash FROM artifacts WHERE hash IN (${hashes.map((_, i) => `$h${i}`).join(', ')})`,
        Object.fromEntries(hashes.map((h, i) => [`h${i}`, h])),
      );
      for (const r of known.getRowObjectsJS()) fresh.delete(String(r.hash));
    }
    const artifactRows: Array<Record<string, DuckDBValue>> = [];
    const blobRows: Array<Record<string, DuckDBValue>> = [];
    for (const a of fresh.values()) {
      if (a.kind === 'table') await this.putArtifact(a);
      else if (a.kind === 'json') {
        const text = canonicalJson(a.value);
        artifactRows.push({ h: a.hash, k: 'json', n: Buffer.byteLength(text), j: text });
      } else {
        blobRows.push({ h: a.hash, b: blobValue(a.bytes) });
        artifactRows.push({ h: a.hash, k: a.kind, n: a.bytes.byteLength, j: null });
      }
    }
    await insertRows(this.db, 'blobs', '($h, $b)', blobRows);
    await insertRows(this.db, 'artifacts', '($h, $k, $n, now(), $j, NULL, NULL)', artifactRows);
    const fingerprints = inputs.map((i) => i.result.fingerprint);
    for (const table of ['outputs', 'lineage', 'metrics', 'results', 'params', 'measurements'])
      await deleteFingerprints(this.db, table, fingerprints);
    const rows = {
      results: [] as Array<Record<string, DuckDBValue>>,
      outputs: [] as Array<Record<string, DuckDBValue>>,
      lineage: [] as Array<Record<string, DuckDBValue>>,
      params: [] as Array<Record<string, DuckDBValue>>,
      metrics: [] as Array<Record<string, DuckDBValue>>,
      measurements: [] as Array<Record<string, DuckDBValue>>,
      runs: [] as Array<Record<string, DuckDBValue>>,
    };
    for (const input of inputs) {
      const { result } = input;
      const f = result.fingerprint;
      const s = result.stage;
      rows.results.push({ f, s, o: result.outputsHash, r: canonicalJson(input.fingerprintRecord) });
      for (const [n, ref] of Object.entries(result.outputs)) rows.outputs.push({ f, n, k: ref.kind, a: ref.hash });
      for (const [n, ref] of Object.entries(input.inputs)) rows.lineage.push({ f, n, h: ref.hash, k: ref.kind });
      for (const [n, v] of flattenParams(input.params)) rows.params.push({ f, s, n, v: JSON.stringify(v) });
      for (const [n, v] of Object.entries(result.metrics)) rows.metrics.push({ f, s, n, v });
      for (const [n, v] of Object.entries(input.measurements))
        rows.measurements.push({ f, s, i: input.run.invocation, n, v });
      rows.runs.push(runRow(input.run));
    }
    await insertRows(this.db, 'results', '($f, $s, $o, $r, now())', rows.results);
    await insertRows(this.db, 'outputs', '($f, $n, $k, $a)', rows.outputs);
    await insertRows(this.db, 'lineage (fingerprint, input, input_hash, kind)', '($f, $n, $h, $k)', rows.lineage);
    await insertRows(this.db, 'params', '($f, $s, $n, $v)', rows.params);
    // Metric values are doubles; bound untyped, an integral one beyond int64 (1e30) fails to bind.
    const { DOUBLE } = await import('@duckdb/node-api');
    await insertRows(this.db, 'metrics', '($f, $s, $n, $v)', rows.metrics, { v: DOUBLE });
    await insertRows(this.db, 'measurements', '($f, $s, $i, $n, $v)', rows.measurements, { v: DOUBLE });
    await insertRows(this.db, 'runs', RUN_ROW, rows.runs);
  }

  /** A row per named artifact of a result, for its outputs and its lineage alike: `sql` orders the columns. */
  private async insertRefs(
    sql: string,
    fingerprint: string,
    refs: Readonly<Record<string, { kind: string; hash: string }>>,
  ): Promise<void> {
    for (const [name, ref] of Object.entries(refs))
      await this.db.run(sql, { f: fingerprint, n: name, k: ref.kind, h: ref.hash });
  }

  private async writeResult(input: CommitInput): Promise<void> {
    for (const a of input.artifacts) await this.putArtifact(a);
    const { result } = input;
    await this.db.run('DELETE FROM outputs WHERE fingerprint = $f', { f: result.fingerprint });
    await this.db.run('DELETE FROM lineage WHERE fingerprint = $f', { f: result.fingerprint });
    await this.db.run('DELETE FROM metrics WHERE fingerprint = $f', { f: result.fingerprint });
    await this.db.run('DELETE FROM results WHERE fingerprint = $f', { f: result.fingerprint });
    await this.db.run('INSERT INTO results VALUES ($f, $s, $o, $r, now())', {
      f: result.fingerprint,
      s: result.stage,
      o: result.outputsHash,
      r: canonicalJson(input.fingerprintRecord),
    });
    await this.insertRefs('INSERT INTO outputs VALUES ($f, $n, $k, $h)', result.fingerprint, result.outputs);
    await this.db.run('DELETE FROM params WHERE fingerprint = $f', { f: result.fingerprint });
    await this.insertRefs(
      'INSERT INTO lineage (fingerprint, input, input_hash, kind) VALUES ($f, $n, $h, $k)',
      result.fingerprint,
      input.inputs,
    );
    for (const [name, value] of flattenParams(input.params)) {
      await this.db.run('INSERT INTO params VALUES ($f, $s, $n, $v)', {
        f: result.fingerprint,
        s: result.stage,
        n: name,
        v: JSON.stringify(value),
      });
    }
    const { DOUBLE } = await import('@duckdb/node-api');
    for (const [name, value] of Object.entries(result.metrics)) {
      await this.db.run(
        'INSERT INTO metrics VALUES ($f, $s, $n, $v)',
        { f: result.fingerprint, s: result.stage, n: name, v: value },
        { v: DOUBLE },
      );
    }
    await this.db.run('DELETE FROM measurements WHERE fingerprint = $f', { f: result.fingerprint });
    for (const [name, value] of Object.entries(input.measurements)) {
      await this.db.run(
        'INSERT INTO measurements VALUES ($f, $s, $i, $n, $v)',
        { f: result.fingerprint, s: result.stage, i: input.run.invocation, n: name, v: value },
        { v: DOUBLE },
      );
    }
    await this.insertRun(input.run);
  }

  recordRun(run: RunRecord): Promise<void> {
    return this.serial(() => this.insertRun(run));
  }

  recordInvocation(p: InvocationProvenance): Promise<void> {
    return this.serial(async () => {
      await this.db.run(
        `INSERT INTO invocations (invocation, started, command, cwd, pid, host, node, platform, cpu, package_lock_hash, pipeline_hash, git_commit, git_dirty)
         VALUES ($i, make_timestamp($t::BIGINT * 1000), $c, $w, $p, $h, $n, $pl, $cpu, $plh, $ph, $gc, $gd)`,
        {
          i: p.id,
          t: p.started.getTime(),
          c: p.command,
          w: p.cwd,
          p: process.pid,
          h: p.host,
          n: p.node,
          pl: p.platform,
          cpu: p.cpu,
          plh: p.packageLockHash,
          ph: p.pipelineHash,
          gc: p.gitCommit,
          gd: p.gitDirty,
        },
      );
    });
  }

  finishInvocation(id: string, exitStatus: number): Promise<void> {
    return this.serial(async () => {
      await this.db.run('UPDATE invocations SET ended = now(), exit_status = $s WHERE invocation = $i', {
        i: id,
        s: exitStatus,
      });
    });
  }

  private async insertRun(run: RunRecord): Promise<void> {
    await this.db.run(`INSERT INTO runs VALUES ${RUN_ROW}`, runRow(run));
  }

  private async putArtifact(a: NewArtifact): Promise<void> {
    const exists =
      (await this.db.runAndReadAll('SELECT 1 FROM artifacts WHERE hash = $h', { h: a.hash })).currentRowCount > 0;
    if (exists) return;
    if (a.kind === 'json') {
      const text = canonicalJson(a.value);
      await this.db.run(`INSERT INTO artifacts VALUES ($h, 'json', $n, now(), $j, NULL, NULL)`, {
        h: a.hash,
        n: Buffer.byteLength(text),
        j: text,
      });
    } else if (a.kind === 'table') {
      const tableName = `table_${a.hash.slice(0, 24)}`;
      await appendTable(this.db, tableName, a.table);
      const columns = JSON.stringify(a.table.columns.map((c) => ({ name: c.name, type: c.type })));
      await this.db.run(`INSERT INTO artifacts VALUES ($h, 'table', $n, now(), NULL, $t, $c)`, {
        h: a.hash,
        n: a.table.rows,
        t: tableName,
        c: columns,
      });
    } else {
      const { blobValue } = await import('@duckdb/node-api');
      await this.db.run('INSERT INTO blobs VALUES ($h, $b)', { h: a.hash, b: blobValue(a.bytes) });
      await this.db.run(`INSERT INTO artifacts VALUES ($h, $k, $n, now(), NULL, NULL, NULL)`, {
        h: a.hash,
        k: a.kind,
        n: a.bytes.byteLength,
      });
    }
  }

  /** The one column of the first row `sql` gives for a hash (bound as `$h`), or undefined; call it inside `serial`. */
  private async firstValue(sql: string, hash: ContentHash): Promise<unknown> {
    const rows = (await this.db.runAndReadAll(sql, { h: hash })).getRowsJS();
    return rows[0]?.[0];
  }

  readTable(hash: ContentHash): Promise<TableData> {
    return this.serial(async () => {
      const name = await this.firstValue(`SELECT table_name FROM artifacts WHERE hash = $h AND kind = 'table'`, hash);
      if (name === undefined) throw new StoreError(`table artifact ${hash} is not in the store`);
      const reader = await this.db.runAndReadAll(`SELECT * FROM ${quoteIdent(String(name))}`);
      return decodeColumns(reader.getColumnsObjectJS() as Record<string, unknown[]>);
    });
  }

  readJson(hash: ContentHash): Promise<JsonValue> {
    return this.serial(async () => {
      const text = await this.firstValue(`SELECT json_value FROM artifacts WHERE hash = $h AND kind = 'json'`, hash);
      if (text === undefined || text === null) throw new StoreError(`json artifact ${hash} is not in the store`);
      return JSON.parse(String(text)) as JsonValue;
    });
  }

  readBlob(hash: ContentHash): Promise<Uint8Array> {
    return this.serial(async () => {
      const bytes = await this.firstValue('SELECT bytes FROM blobs WHERE hash = $h', hash);
      if (!(bytes instanceof Uint8Array)) throw new StoreError(`blob ${hash} is not in the store`);
      return bytes;
    });
  }

  /** The bytes of a blob or stored out file, or undefined when the store does not hold them. */
  findBlob(hash: ContentHash): Promise<Uint8Array | undefined> {
    return this.serial(async () => {
      const bytes = await this.firstValue('SELECT bytes FROM blobs WHERE hash = $h', hash);
      return bytes instanceof Uint8Array ? bytes : undefined;
    });
  }

  /** The backend and provenance of the last run that computed a fingerprint (not a cache hit). */
  async recordedBackend(
    fingerprint: FingerprintHash,
  ): Promise<{ backend: string | null; provenance: Record<string, JsonValue> } | undefined> {
    const [ran] = await this.rows(
      "SELECT backend, provenance FROM runs WHERE fingerprint = $f AND status = 'ran' ORDER BY started DESC LIMIT 1",
      { f: fingerprint },
    );
    if (ran === undefined) return undefined;
    return {
      backend: (ran.backend as string | null) ?? null,
      provenance: JSON.parse(String(ran.provenance ?? '{}')) as Record<string, JsonValue>,
    };
  }

  /** The measurements stored with a result (empty if it has none). */
  async measurementsOf(fingerprint: FingerprintHash): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of await this.rows('SELECT name, value FROM measurements WHERE fingerprint = $f', { f: fingerprint }))
      out[String(r.name)] = Number(r.value);
    return out;
  }

  /** Rows with DuckDB's JS values (bigint, Uint8Array, Date), for code that inspects the store. */
  rows(sql: string, params?: Record<string, string | number>): Promise<Array<Record<string, unknown>>> {
    return this.serial(
      async () => (await this.db.runAndReadAll(sql, params)).getRowObjectsJS() as Array<Record<string, unknown>>,
    );
  }

  /** Runs statements (DDL, COPY, transactions) in the store's queue; for gc and export. */
  exec(sql: string, params?: Record<string, string | number>): Promise<void> {
    return this.serial(async () => {
      await this.db.run(sql, params);
    });
  }

  /** Read-only SQL for commands like `show`; returns rows as JSON-safe objects. */
  query(sql: string, params?: Record<string, string | number>): Promise<Array<Record<string, unknown>>> {
    return this.serial(
      async () => (await this.db.runAndReadAll(sql, params)).getRowObjectsJson() as Array<Record<string, unknown>>,
    );
  }

  /**
   * A second connection on this store for reads only (see ReadConnection): it sees what is
   * committed, and its queries queue apart from the commits on the main connection.
   */
  async reader(): Promise<ReadConnection> {
    const r = new ReadConnection(await this.instance.connect(), () => this.readers.delete(r));
    this.readers.add(r);
    return r;
  }

  /** Runs `fn` first when the store closes (the read socket stops answering before the file goes). */
  onClose(fn: () => Promise<void>): void {
    this.closing.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.closing.splice(0)) await fn().catch(() => undefined);
    for (const r of [...this.readers]) await r.close();
    await this.queue;
    this.db.closeSync();
    this.instance.closeSync();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Facts about the environment a run happened in, kept with it for reviewers. */
export interface InvocationProvenance {
  id: string;
  started: Date;
  command: string;
  cwd: string;
  host: string;
  node: string;
  platform: string;
  cpu: string;
  packageLockHash: string | null;
  pipelineHash: string | null;
  gitCommit: string | null;
  gitDirty: boolean | null;
}

/** DuckDB lets one process hold a file; say who holds it instead of printing the raw lock error. */
function describeOpenError(path: string, e: unknown): string {
  const msg = firstLine(e);
  const holder = LOCK_CONFLICT.exec(msg);
  if (holder !== null)
    return `the store ${path} is in use by another process (PID ${holder[2]}, ${holder[1]}); try again when it has finished`;
  return `cannot open the store ${path}: ${msg} (move the file aside to start a new store, or restore it from a copy; nothing was written)`;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}
