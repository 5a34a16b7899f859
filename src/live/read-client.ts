import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import type { JsonValue } from '../fingerprint/canonical-json.ts';
import type { ProjectPaths } from '../project.ts';
import type { TableData } from '../stage-api.ts';
import { ReadRefused } from '../store/read-connection.ts';
import type { Row, SqlParams, StoreReads } from '../store/store-reads.ts';
import { readFrames, sendFrame } from './frames.ts';
import type { LiveSnapshot } from './live-run.ts';
import type { ReadServerInfo } from './read-server.ts';
import { readSocketPaths, type ReadMethod, type ReadResponse } from './socket-paths.ts';

/** The store of a running repro, read through its socket: the same StoreReads as a direct open. */
export class ReadClient implements StoreReads {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closedBy: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly token: string,
    readonly serverPid: number,
  ) {
    readFrames(socket, (value) => {
      const r = value as ReadResponse;
      const w = this.waiting.get(r.id);
      if (w === undefined) return;
      this.waiting.delete(r.id);
      if (r.ok) w.resolve(r.value);
      else {
        const e = r.error.name === 'ReadRefused' ? new ReadRefused(r.error.message) : new Error(r.error.message);
        w.reject(e);
      }
    });
    const fail = (e: Error) => {
      this.closedBy ??= e;
      for (const w of this.waiting.values()) w.reject(this.closedBy);
      this.waiting.clear();
    };
    socket.on('error', (e) => fail(new Error(`the running pipeline's read socket failed: ${e.message}`)));
    socket.on('close', () => fail(new Error('the running pipeline finished while answering; run the command again')));
  }

  /** Connects to the run's socket; undefined when no run is serving (no token file, or nobody listening). */
  static async connect(paths: ProjectPaths): Promise<ReadClient | undefined> {
    let info: ReadServerInfo;
    try {
      info = JSON.parse(await readFile(readSocketPaths(paths).token, 'utf8')) as ReadServerInfo;
    } catch {
      return undefined;
    }
    const socket = await new Promise<Socket | undefined>((resolve) => {
      const s = connect(info.socket);
      s.once('connect', () => resolve(s));
      s.once('error', () => resolve(undefined));
    });
    return socket === undefined ? undefined : new ReadClient(socket, info.token, info.pid);
  }

  private call<T>(method: ReadMethod, ...args: unknown[]): Promise<T> {
    if (this.closedBy !== undefined) return Promise.reject(this.closedBy);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      sendFrame(this.socket, { token: this.token, id, method, args });
    });
  }

  rows(sql: string, params?: SqlParams): Promise<Row[]> {
    return this.call('rows', sql, params);
  }
  query(sql: string, params?: SqlParams): Promise<Row[]> {
    return this.call('query', sql, params);
  }
  readTable(hash: string): Promise<TableData> {
    return this.call('readTable', hash);
  }
  readJson(hash: string): Promise<JsonValue> {
    return this.call('readJson', hash);
  }
  async readBlob(hash: string): Promise<Uint8Array> {
    return new Uint8Array(await this.call<Uint8Array>('readBlob', hash));
  }
  /** What the run's reporter has been told so far (null when the server keeps no live state). */
  live(): Promise<LiveSnapshot | null> {
    return this.call('live');
  }

  close(): void {
    this.closedBy ??= new Error('closed');
    this.socket.end();
  }
}
