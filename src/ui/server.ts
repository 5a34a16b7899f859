import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { explainChange } from '../fingerprint/fingerprint.ts';
import type { PipelineGraph } from '../graph/build.ts';
import { openReads, type OpenedReads } from '../live/open-reads.ts';
import type { LiveSnapshot } from '../live/live-run.ts';
import type { ProjectPaths } from '../project.ts';
import { lineageOf, renderLineageAscii } from '../store/lineage.ts';
import { readLockfile, type Lockfile } from '../store/lockfile.ts';
import { hasResult, storedRecords } from '../store/result-queries.ts';
import { recentRuns } from '../store/run-queries.ts';
import { dagPage, matrixPage, messagePage, stagePage, type MatrixRow } from './pages.ts';
import { stageStates, type UiSnapshot } from './stage-states.ts';

const require = createRequire(import.meta.url);
const COOKIE = 'pipeline_ui_token';

/** Files the page loads, all from this package or its node_modules: nothing from the network. */
const ASSETS: Record<string, { file: () => string; type: string }> = {
  'ui.js': { file: () => fileURLToPath(new URL('../../ui/ui.js', import.meta.url)), type: 'text/javascript' },
  'ui.css': { file: () => fileURLToPath(new URL('../../ui/ui.css', import.meta.url)), type: 'text/css' },
  'vega.min.js': { file: () => join(dirname(require.resolve('vega')), 'vega.min.js'), type: 'text/javascript' },
  'vega-lite.min.js': {
    file: () => join(dirname(require.resolve('vega-lite')), 'vega-lite.min.js'),
    type: 'text/javascript',
  },
};

// vega compiles its expressions with Function(), hence 'unsafe-eval'; nothing may come from elsewhere.
const CSP =
  "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface UiServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

interface Sources {
  lock: Lockfile;
  reads: OpenedReads | undefined;
  live: LiveSnapshot | null;
}

/**
 * `pipeline ui`: a dashboard on 127.0.0.1 only. A request must carry the random token (in the
 * URL once, then in a cookie) and name 127.0.0.1 or localhost as its Host (a page of another
 * site that rebinds its name to 127.0.0.1 sends its own name). Each request reads the store
 * through the running repro's socket, or opens the file read-only for that request alone, so a
 * repro can start while the dashboard is open.
 */
export async function startUi(paths: ProjectPaths, graph: PipelineGraph, port: number): Promise<UiServer> {
  const token = randomBytes(24).toString('hex');
  const expected = Buffer.from(token);
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent)
        send(res, 500, 'text/plain; charset=utf-8', `error: ${(e as Error).message.split('\n')[0]}\n`);
      else res.end();
    });
  });

  const allowedHost = (host: string | undefined): boolean => {
    const actual = (server.address() as AddressInfo).port;
    return host !== undefined && [`127.0.0.1:${actual}`, `localhost:${actual}`].includes(host.toLowerCase());
  };
  const authorised = (req: IncomingMessage, url: URL): boolean => {
    const cookie = /(?:^|;\s*)pipeline_ui_token=([0-9a-f]+)/.exec(req.headers.cookie ?? '')?.[1];
    const given = Buffer.from(url.searchParams.get('token') ?? cookie ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  async function withSources<T>(fn: (s: Sources) => Promise<T>, retry = true): Promise<T> {
    const reads = await openReads(paths);
    try {
      const live = reads === undefined ? null : await reads.live();
      return await fn({ lock: await readLockfile(paths.lockfile), reads, live });
    } catch (e) {
      // A run that ends mid-request closes its socket; the store is then free to open here.
      if (retry && reads?.via === 'run') return withSources(fn, false);
      throw e;
    } finally {
      await reads?.close();
    }
  }
  const snapshot = (s: Sources): Promise<UiSnapshot> => stageStates(graph, s.lock, s.reads?.reads, s.live);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!allowedHost(req.headers.host)) {
      send(
        res,
        403,
        'text/plain; charset=utf-8',
        'refused: the Host header must be 127.0.0.1 or localhost with this port\n',
      );
      return;
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (!authorised(req, url)) {
      send(
        res,
        401,
        'text/plain; charset=utf-8',
        'unauthorised: open the URL with ?token=... that `pipeline ui` printed\n',
      );
      return;
    }
    if (url.searchParams.has('token'))
      res.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'only GET\n');
      return;
    }
    const path = decodeURIComponent(url.pathname);
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (path.startsWith('/assets/')) {
      const asset = ASSETS[path.slice('/assets/'.length)];
      if (asset === undefined) send(res, 404, 'text/plain; charset=utf-8', 'no such asset\n');
      else send(res, 200, `${asset.type}; charset=utf-8`, await readFile(asset.file()), 'private, max-age=3600');
      return;
    }
    if (path === '/') {
      const html = await withSources(async (s) =>
        dagPage(
          await snapshot(s),
          [...graph.groups].map(([g, names]) => [g, names.length]),
        ),
      );
      send(res, 200, 'text/html; charset=utf-8', html);
    } else if (path === '/api/state') {
      send(res, 200, 'application/json', JSON.stringify(await withSources(snapshot)));
    } else if (path.startsWith('/stage/')) {
      const name = path.slice('/stage/'.length);
      if (!graph.stages.has(name))
        send(res, 404, 'text/html; charset=utf-8', messagePage('not found', `there is no stage ${name}`));
      else send(res, 200, 'text/html; charset=utf-8', await withSources((s) => stageData(s, name)));
    } else if (path.startsWith('/api/curve/')) {
      const name = path.slice('/api/curve/'.length);
      const body = await withSources(async (s) => ({
        points: await curvePoints(s, name),
        log: s.live?.stages[name]?.log.slice(-40) ?? null,
      }));
      send(res, 200, 'application/json', JSON.stringify(body));
    } else if (path.startsWith('/matrix/')) {
      const group = path.slice('/matrix/'.length);
      const names = graph.groups.get(group);
      if (names === undefined)
        send(res, 404, 'text/html; charset=utf-8', messagePage('not found', `there is no matrix ${group}`));
      else {
        const html = await withSources(async (s) => {
          const states = new Map((await snapshot(s)).stages.map((x) => [x.name, x.state]));
          const rows: MatrixRow[] = names.map((n) => {
            const e = s.lock.stages[n];
            return {
              stage: n,
              state: states.get(n) ?? '',
              params: (e?.params ?? graph.stages.get(n)!.spec.params) as Record<string, unknown>,
              metrics: e?.metrics ?? {},
            };
          });
          const sort = url.searchParams.get('sort') ?? undefined;
          return matrixPage(
            group,
            rows,
            sort,
            url.searchParams.get('desc') === '1',
            url.searchParams.get('filter') ?? '',
          );
        });
        send(res, 200, 'text/html; charset=utf-8', html);
      }
    } else if (path === '/report') {
      try {
        send(res, 200, 'text/html; charset=utf-8', await readFile(`${paths.root}/artifacts/report.html`));
      } catch {
        send(
          res,
          404,
          'text/html; charset=utf-8',
          messagePage('no report yet', 'artifacts/report.html does not exist: the report stage makes it'),
        );
      }
    } else send(res, 404, 'text/html; charset=utf-8', messagePage('not found', `nothing at ${path}`));
  }

  async function stageData(s: Sources, name: string): Promise<string> {
    const snap = await snapshot(s);
    const stage = snap.stages.find((x) => x.name === name)!;
    const entry = s.lock.stages[name];
    const store = s.reads?.reads;
    let changed: string[] = [];
    let runs: Array<Record<string, unknown>> = [];
    let lineage: string | null = null;
    if (store !== undefined) {
      const records = await storedRecords(store, name, 2);
      if (records.length === 2) {
        const [cur, prev] = records;
        changed = explainChange(prev, cur!);
      }
      runs = await recentRuns(store, name, 10, { host: false });
      if (entry !== undefined && (await hasResult(store, entry.fingerprint))) {
        lineage = renderLineageAscii(await lineageOf(store, entry.fingerprint));
      }
    }
    const liveStage = s.live?.stages[name];
    const log = liveStage?.log.slice(-40) ?? (stage.error === null ? [] : [stage.error]);
    const hasCurve = (await curvePoints(s, name)).length > 0;
    return stagePage({ stage, entry, changed, runs, lineage, log, hasCurve });
  }

  /** Long-format points {x, series, value}: the run's live progress values, else a stored curve table. */
  async function curvePoints(s: Sources, name: string): Promise<Array<{ x: number; series: string; value: number }>> {
    const live = s.live?.stages[name];
    if (live !== undefined && live.points.length > 0) {
      return live.points.flatMap((p) =>
        Object.entries(p.values ?? {}).map(([series, value]) => ({ x: p.done, series, value })),
      );
    }
    const entry = s.lock.stages[name];
    const store = s.reads?.reads;
    if (entry === undefined || store === undefined) return [];
    for (const [output, ref] of Object.entries(entry.outputs)) {
      if (ref.kind !== 'table' || !/curve|loss|history/.test(output)) continue;
      const t = await store.readTable(ref.hash);
      const xName = ['step', 'epoch'].find((c) => Array.isArray(t[c]));
      if (xName === undefined) continue;
      const xs = t[xName] as number[];
      const series = Object.keys(t).filter(
        (c) => c !== xName && /loss|accuracy/.test(c) && (t[c] as unknown[]).every((v) => typeof v === 'number'),
      );
      return series.flatMap((c) => xs.map((x, i) => ({ x, series: c, value: (t[c] as number[])[i]! })));
    }
    return [];
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/?token=${token}`,
    port: actual,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A browser keeps idle connections open; they would hold the server up forever.
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, cache = 'no-store'): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': cache,
  });
  res.end(body);
}
