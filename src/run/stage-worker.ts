/**
 * Entry point of the child process that runs one `uses:` stage. It exists so stages run off the
 * coordinator's thread (a CPU-bound stage gets a core of its own, and a tfjs wasm backend an
 * instance of its own) and so the coordinator stays the only process that opens the store:
 * inputs are requested from it over IPC and outputs are sent back to it.
 */
import { pathToFileURL } from 'node:url';
import type { ContentHash } from '../fingerprint/hash-types.ts';
import type { StageContext, StageFunction, StageOutputs, UpstreamStage } from '../stage-api.ts';
import type { FromWorker, ReadKind, ToWorker, UpstreamManifest, WorkerStart } from './worker-protocol.ts';

const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let nextId = 0;
const abort = new AbortController();

function send(msg: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

function request(kind: ReadKind, hash: ContentHash): Promise<unknown> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    void send({ type: 'read', id, kind, hash });
  });
}

function upstream(m: UpstreamManifest): UpstreamStage {
  const ref = (kind: ReadKind, name: string): ContentHash => {
    const out = m.outputs[`${kind}:${name}`];
    if (out === undefined) {
      const have = Object.keys(m.outputs).join(', ') || 'none';
      throw new Error(`stage "${m.name}" has no ${kind} output "${name}" (it has: ${have})`);
    }
    return out.hash;
  };
  return {
    name: m.name,
    group: m.group,
    params: m.params,
    item: m.item,
    metrics: m.metrics,
    measurements: m.measurements,
    outputs: Object.keys(m.outputs),
    outputHashes: Object.fromEntries(Object.entries(m.outputs).map(([k, v]) => [k, v.hash])),
    fingerprint: m.fingerprint,
    table: async (name) => (await request('table', ref('table', name))) as never,
    json: async (name) => (await request('json', ref('json', name))) as never,
    blob: async (name) => (await request('blob', ref('blob', name))) as never,
  };
}

async function run(start: WorkerStart): Promise<void> {
  const mod = (await import(pathToFileURL(start.module).href)) as { default?: unknown; run?: unknown };
  const fn = (typeof mod.default === 'function' ? mod.default : mod.run) as StageFunction | undefined;
  if (typeof fn !== 'function') {
    throw new Error(`${start.module} must export a stage function as its default export (or as "run")`);
  }
  const inputs = start.inputs.map(upstream);
  const ctx: StageContext = {
    name: start.name,
    group: start.group,
    params: start.params,
    item: start.item,
    root: start.root,
    files: start.files,
    inputs,
    input(name) {
      const found = inputs.find((i) => i.name === name);
      if (found === undefined) throw new Error(`stage "${start.name}" has no dependency "${name}"`);
      return found;
    },
    outs: start.outs,
    log: (message) => void send({ type: 'log', message }),
    progress: (progress) => void send({ type: 'progress', progress }),
    provenance: (key, value) => void send({ type: 'provenance', key, value }),
    signal: abort.signal,
  };
  const outputs = ((await fn(ctx)) ?? {}) as StageOutputs;
  await send({ type: 'result', outputs });
}

process.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'start':
      run(msg).then(
        () => process.exit(0),
        async (e: unknown) => {
          const error = e instanceof Error ? e : new Error(String(e));
          await send({
            type: 'error',
            message: error.message,
            ...(error.stack === undefined ? {} : { stack: error.stack }),
          });
          process.exit(1);
        },
      );
      break;
    case 'read-result':
      pending.get(msg.id)?.resolve(msg.value);
      pending.delete(msg.id);
      break;
    case 'read-error':
      pending.get(msg.id)?.reject(new Error(msg.message));
      pending.delete(msg.id);
      break;
    case 'abort':
      abort.abort(new Error('stage aborted'));
      break;
  }
});

// If the coordinator dies (even by SIGKILL), the IPC channel closes: nobody is left to take the
// results, so stop rather than compute for nothing.
process.on('disconnect', () => process.exit(1));
