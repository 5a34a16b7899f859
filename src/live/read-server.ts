import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProjectPaths } from '../project.ts';
import type { ReadConnection } from '../store/read-connection.ts';
import type { ArtifactStore } from '../store/store.ts';
import { readFrames, sendFrame } from './frames.ts';
import type { LiveRun } from './live-run.ts';
import { READ_METHODS, readSocketPaths, type ReadRequest, type ReadResponse } from './socket-paths.ts';

// Unix socket paths are limited to about 107 bytes; past that the socket goes to a private temp dir.
const MAX_SOCKET_PATH = 100;

/** What the token file holds: who serves, where, and the secret a client must present. */
export interface ReadServerInfo {
  pid: number;
  socket: string;
  token: string;
}

/**
 * The coordinator's answer to other `pipeline` processes while a run holds the store (DuckDB
 * lets one process open the file): a Unix socket in `.pipeline/read/` (directory 0700, socket
 * 0600) and a random token in an owner-only file beside it. Each client gets a ReadConnection of
 * its own on the run's store, so it sees what is committed so far and can only read.
 */
export class ReadServer {
  private readonly connections = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    private readonly files: { dir: string; socket: string; token: string; extraDir?: string },
  ) {}

  static async start(paths: ProjectPaths, store: ArtifactStore, live: LiveRun | undefined): Promise<ReadServer> {
    const files: { dir: string; socket: string; token: string; extraDir?: string } = readSocketPaths(paths);
    await mkdir(files.dir, { recursive: true, mode: 0o700 });
    await chmod(files.dir, 0o700);
    if (files.socket.length > MAX_SOCKET_PATH) {
      files.extraDir = await mkdtemp(join(tmpdir(), 'pipeline-read-'));
      files.socket = join(files.extraDir, 'socket');
    }
    // A socket left by a run that was killed; the writer lock says this process is the run now.
    await rm(files.socket, { force: true });
    const token = randomBytes(32).toString('hex');
    const expected = Buffer.from(token);
    const server = createServer();
    const self = new ReadServer(server, files);
    server.on('connection', (socket) => {
      self.connections.add(socket);
      socket.on('close', () => self.connections.delete(socket));
      handle(socket, expected, store, live);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(files.socket, () => resolve());
    });
    await chmod(files.socket, 0o600);
    const info: ReadServerInfo = { pid: process.pid, socket: files.socket, token };
    await writeFile(files.token, JSON.stringify(info), { mode: 0o600 });
    await chmod(files.token, 0o600);
    return self;
  }

  /** Stops answering and removes the socket and token; called before the store closes. */
  async close(): Promise<void> {
    await rm(this.files.token, { force: true });
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.connections) s.destroy();
    await closed;
    await rm(this.files.socket, { force: true });
    if (this.files.extraDir !== undefined) await rm(this.files.extraDir, { recursive: true, force: true });
  }
}

function handle(socket: Socket, expected: Buffer, store: ArtifactStore, live: LiveRun | undefined): void {
  let reader: Promise<ReadConnection> | undefined;
  socket.on('error', () => undefined);
  socket.on('close', () => void reader?.then((r) => r.close()).catch(() => undefined));
  const reply = (r: ReadResponse) => {
    if (!socket.destroyed) sendFrame(socket, r);
  };
  readFrames(socket, (value) => {
    const req = value as Partial<ReadRequest>;
    const token = Buffer.from(typeof req.token === 'string' ? req.token : '');
    if (token.length !== expected.length || !timingSafeEqual(token, expected)) {
      // Nothing is answered to a client without the token; the connection is dropped.
      socket.destroy();
      return;
    }
    const id = typeof req.id === 'number' ? req.id : -1;
    const method = req.method;
    if (method === undefined || !READ_METHODS.includes(method) || !Array.isArray(req.args)) {
      reply({ id, ok: false, error: { name: 'Error', message: `the read socket has no method ${String(method)}` } });
      return;
    }
    const run = async (): Promise<unknown> => {
      if (method === 'live') return live?.snapshot() ?? null;
      reader ??= store.reader();
      const r = await reader;
      const [a, b] = req.args as [string, Record<string, string | number> | undefined];
      switch (method) {
        case 'rows':
          return r.rows(a, b);
        case 'query':
          return r.query(a, b);
        case 'readTable':
          return r.readTable(a);
        case 'readJson':
          return r.readJson(a);
        case 'readBlob':
          return r.readBlob(a);
      }
    };
    run().then(
      (v) => reply({ id, ok: true, value: v }),
      (e: unknown) =>
        reply({
          id,
          ok: false,
          error: {
            name: e instanceof Error ? e.constructor.name : 'Error',
            message: e instanceof Error ? e.message : String(e),
          },
        }),
    );
  });
}
