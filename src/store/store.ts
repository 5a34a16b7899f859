import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { canonicalJson, type JsonValue } from '../fingerprint/canonical-json.ts';
import type { TableData } from '../stage-api.ts';
import { decodeColumns, type EncodedTable } from './table-codec.ts';

/** Version of the store's own tables; a store written by a newer engine is refused, not rewritten. */
export const STORE_SCHEMA_VERSION = 1;

export type ArtifactKind = 'table' | 'json' | 'blob' | 'file';

export interface OutputRef {
  kind: ArtifactKind;
  hash: string;
}

/** A stage's outputs as stored: what a cache hit hands back. */
export interface StoredResult {
  fingerprint: string;
  stage: string;
  outputs: Record<string, OutputRef>;
  outputsHash: string;
  metrics: Record<string, number>;
}

/** One artifact to store: a table, a JSON value or bytes (blobs and out files). */
export type NewArtifact =
  | { kind: 'table'; hash: string; table: EncodedTable }
  | { kind: 'json'; hash: string; value: JsonValue }
  | { kind: 'blob' | 'file'; hash: string; bytes: Uint8Array };

export interface RunRecord {
  invocation: string;
  stage: string;
  fingerprint: string;
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
  fingerprintRecord: unknown;
  /** Input name -> content hash (upstream output sets and files): the lineage edges. */
  inputs: Record<string, string>;
  artifacts: NewArtifact[];
  run: RunRecord;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS artifacts (
  hash VARCHAR PRIMARY KEY,
  kind VARCHAR NOT NULL,
  size BIGINT NOT NULL,
  created TIMESTAMP NOT NULL,
  json_value VARCHAR,
  table_name VARCHAR,
  table_columns VARCHAR
);
CREATE TABLE IF NOT EXISTS blobs (hash VARCHAR PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS results (
  fingerprint VARCHAR PRIMARY KEY,
  stage VARCHAR NOT NULL,
  outputs_hash VARCHAR NOT NULL,
  fingerprint_record VARCHAR NOT NULL,
  created TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS outputs (fingerprint VARCHAR, name VARCHAR, kind VARCHAR, artifact VARCHAR);
CREATE TABLE IF NOT EXISTS lineage (fingerprint VARCHAR, input VARCHAR, input_hash VARCHAR);
CREATE TABLE IF NOT EXISTS metrics (fingerprint VARCHAR, stage VARCHAR, name VARCHAR, value DOUBLE);
CREATE TABLE IF NOT EXISTS runs (
  invocation VARCHAR, stage VARCHAR, fingerprint VARCHAR, status VARCHAR, cache_hit BOOLEAN,
  started TIMESTAMP, seconds DOUBLE, host VARCHAR, node VARCHAR, platform VARCHAR,
  backend VARCHAR, provenance VARCHAR, error VARCHAR
);
CREATE TABLE IF NOT EXISTS invocations (
  invocation VARCHAR PRIMARY KEY, started TIMESTAMP, command VARCHAR, cwd VARCHAR, pid INTEGER,
  host VARCHAR, node VARCHAR, platform VARCHAR
);
`;

export class StoreError extends Error {}

/**
 * The artifact store: one DuckDB file. Only the coordinator process opens it (DuckDB lets one
 * process hold a file), and every stage's outputs go in with one transaction, so a run killed at
 * any moment leaves the store as it was before that stage.
 */
export class ArtifactStore {
  /** One connection, one transaction at a time: commits from parallel stages queue here. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
  ) {}

  static async open(path: string): Promise<ArtifactStore> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    await mkdir(dirname(path), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path);
    } catch (e) {
      throw new StoreError(`cannot open the store ${path}: ${firstLine(e)}`);
    }
    const db = await instance.connect();
    const store = new ArtifactStore(path, instance, db);
    await store.migrate();
    return store;
  }

  private async migrate(): Promise<void> {
    await this.db.run(SCHEMA);
    const rows = (await this.db.runAndReadAll(`SELECT value FROM store_meta WHERE key = 'schema_version'`)).getRowObjectsJS();
    const found = rows[0]?.value;
    if (found === undefined) {
      await this.db.run(`INSERT INTO store_meta VALUES ('schema_version', $v)`, { v: String(STORE_SCHEMA_VERSION) });
    } else if (Number(found) > STORE_SCHEMA_VERSION) {
      throw new StoreError(
        `the store ${this.path} was written by a newer version of pipeline (store schema ${String(found)}, this one reads ${STORE_SCHEMA_VERSION}); upgrade pipeline or move the file aside`,
      );
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async findResults(fingerprints: string[]): Promise<Map<string, StoredResult>> {
    const found = new Map<string, StoredResult>();
    if (fingerprints.length === 0) return found;
    return this.serial(async () => {
      const list = fingerprints.map((f) => `'${f.replace(/[^0-9a-f]/g, '')}'`).join(',');
      const results = (await this.db.runAndReadAll(`SELECT fingerprint, stage, outputs_hash FROM results WHERE fingerprint IN (${list})`)).getRowObjectsJS();
      for (const r of results) {
        found.set(String(r.fingerprint), { fingerprint: String(r.fingerprint), stage: String(r.stage), outputsHash: String(r.outputs_hash), outputs: {}, metrics: {} });
      }
      if (found.size === 0) return found;
      const outs = (await this.db.runAndReadAll(`SELECT fingerprint, name, kind, artifact FROM outputs WHERE fingerprint IN (${list})`)).getRowObjectsJS();
      for (const o of outs) {
        const r = found.get(String(o.fingerprint));
        if (r !== undefined) r.outputs[String(o.name)] = { kind: String(o.kind) as ArtifactKind, hash: String(o.artifact) };
      }
      const ms = (await this.db.runAndReadAll(`SELECT fingerprint, name, value FROM metrics WHERE fingerprint IN (${list})`)).getRowObjectsJS();
      for (const m of ms) {
        const r = found.get(String(m.fingerprint));
        if (r !== undefined) r.metrics[String(m.name)] = Number(m.value);
      }
      return found;
    });
  }

  async findResult(fingerprint: string): Promise<StoredResult | undefined> {
    return (await this.findResults([fingerprint])).get(fingerprint);
  }

  /** Stores a stage's artifacts, result, lineage, metrics and run record, all or nothing. */
  commit(input: CommitInput): Promise<void> {
    return this.serial(async () => {
      await this.db.run('BEGIN TRANSACTION');
      try {
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
        for (const [name, ref] of Object.entries(result.outputs)) {
          await this.db.run('INSERT INTO outputs VALUES ($f, $n, $k, $a)', { f: result.fingerprint, n: name, k: ref.kind, a: ref.hash });
        }
        for (const [name, hash] of Object.entries(input.inputs)) {
          await this.db.run('INSERT INTO lineage VALUES ($f, $n, $h)', { f: result.fingerprint, n: name, h: hash });
        }
        for (const [name, value] of Object.entries(result.metrics)) {
          await this.db.run('INSERT INTO metrics VALUES ($f, $s, $n, $v)', { f: result.fingerprint, s: result.stage, n: name, v: value });
        }
        await this.insertRun(input.run);
        await this.db.run('COMMIT');
      } catch (e) {
        await this.db.run('ROLLBACK').catch(() => undefined);
        throw new StoreError(`storing the results of ${input.result.stage} failed, nothing was stored: ${firstLine(e)}`);
      }
    });
  }

  recordRun(run: RunRecord): Promise<void> {
    return this.serial(() => this.insertRun(run));
  }

  recordInvocation(inv: { id: string; command: string; cwd: string; host: string }): Promise<void> {
    return this.serial(async () => {
      await this.db.run('INSERT INTO invocations VALUES ($i, now(), $c, $w, $p, $h, $n, $pl)', {
        i: inv.id,
        c: inv.command,
        w: inv.cwd,
        p: process.pid,
        h: inv.host,
        n: process.version,
        pl: `${process.platform}-${process.arch}`,
      });
    });
  }

  private async insertRun(run: RunRecord): Promise<void> {
    await this.db.run(
      'INSERT INTO runs VALUES ($inv, $stage, $fp, $status, $hit, make_timestamp($started::BIGINT * 1000), $sec, $host, $node, $platform, $backend, $prov, $err)',
      {
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
      },
    );
  }

  private async putArtifact(a: NewArtifact): Promise<void> {
    const exists = (await this.db.runAndReadAll('SELECT 1 FROM artifacts WHERE hash = $h', { h: a.hash })).currentRowCount > 0;
    if (exists) return;
    if (a.kind === 'json') {
      const text = canonicalJson(a.value);
      await this.db.run(`INSERT INTO artifacts VALUES ($h, 'json', $n, now(), $j, NULL, NULL)`, { h: a.hash, n: Buffer.byteLength(text), j: text });
    } else if (a.kind === 'table') {
      const tableName = `table_${a.hash.slice(0, 24)}`;
      await this.createTable(tableName, a.table);
      const columns = JSON.stringify(a.table.columns.map((c) => ({ name: c.name, type: c.type })));
      await this.db.run(`INSERT INTO artifacts VALUES ($h, 'table', $n, now(), NULL, $t, $c)`, { h: a.hash, n: a.table.rows, t: tableName, c: columns });
    } else {
      const { blobValue } = await import('@duckdb/node-api');
      await this.db.run('INSERT INTO blobs VALUES ($h, $b)', { h: a.hash, b: blobValue(a.bytes) });
      await this.db.run(`INSERT INTO artifacts VALUES ($h, $k, $n, now(), NULL, NULL, NULL)`, { h: a.hash, k: a.kind, n: a.bytes.byteLength });
    }
  }

  private async createTable(name: string, t: EncodedTable): Promise<void> {
    const cols = t.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
    await this.db.run(`CREATE TABLE ${quoteIdent(name)} (${cols})`);
    if (t.rows === 0) return;
    const duck = await import('@duckdb/node-api');
    const appender = await this.db.createAppender(name);
    const listTypes = {
      'INTEGER[]': duck.LIST(duck.INTEGER),
      'DOUBLE[]': duck.LIST(duck.DOUBLE),
    };
    for (let row = 0; row < t.rows; row++) {
      for (const c of t.columns) {
        const v = c.values[row];
        if (v === null || v === undefined) {
          appender.appendNull();
          continue;
        }
        switch (c.type) {
          case 'BOOLEAN':
            appender.appendBoolean(v as boolean);
            break;
          case 'INTEGER':
            appender.appendInteger(v as number);
            break;
          case 'BIGINT':
            appender.appendBigInt(BigInt(v as number));
            break;
          case 'FLOAT':
            appender.appendFloat(v as number);
            break;
          case 'DOUBLE':
            appender.appendDouble(v as number);
            break;
          case 'VARCHAR':
            appender.appendVarchar(v as string);
            break;
          case 'INTEGER[]':
          case 'DOUBLE[]':
            appender.appendList(duck.listValue([...(v as number[])]), listTypes[c.type]);
            break;
        }
      }
      appender.endRow();
    }
    appender.closeSync();
  }

  readTable(hash: string): Promise<TableData> {
    return this.serial(async () => {
      const rows = (await this.db.runAndReadAll(`SELECT table_name FROM artifacts WHERE hash = $h AND kind = 'table'`, { h: hash })).getRowObjectsJS();
      const name = rows[0]?.table_name;
      if (name === undefined) throw new StoreError(`table artifact ${hash} is not in the store`);
      const reader = await this.db.runAndReadAll(`SELECT * FROM ${quoteIdent(String(name))}`);
      return decodeColumns(reader.getColumnsObjectJS() as Record<string, unknown[]>);
    });
  }

  readJson(hash: string): Promise<JsonValue> {
    return this.serial(async () => {
      const rows = (await this.db.runAndReadAll(`SELECT json_value FROM artifacts WHERE hash = $h AND kind = 'json'`, { h: hash })).getRowObjectsJS();
      const text = rows[0]?.json_value;
      if (text === undefined || text === null) throw new StoreError(`json artifact ${hash} is not in the store`);
      return JSON.parse(String(text)) as JsonValue;
    });
  }

  readBlob(hash: string): Promise<Uint8Array> {
    return this.serial(async () => {
      const rows = (await this.db.runAndReadAll('SELECT bytes FROM blobs WHERE hash = $h', { h: hash })).getRowObjectsJS();
      const bytes = rows[0]?.bytes;
      if (!(bytes instanceof Uint8Array)) throw new StoreError(`blob ${hash} is not in the store`);
      return bytes;
    });
  }

  /** Read-only SQL for commands like `show`; returns rows as JSON-safe objects. */
  query(sql: string, params?: Record<string, string | number>): Promise<Array<Record<string, unknown>>> {
    return this.serial(async () => (await this.db.runAndReadAll(sql, params)).getRowObjectsJson() as Array<Record<string, unknown>>);
  }

  async close(): Promise<void> {
    await this.queue;
    this.db.closeSync();
    this.instance.closeSync();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}
