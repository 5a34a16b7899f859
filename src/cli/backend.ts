import { BACKEND_ORDER, type BackendChoice, chooseBackend } from '../ml/backend.ts';
import { findAdapter } from '../ml/webgpu-adapter.ts';
import { EXIT } from './common.ts';
import { formatTable } from './table-text.ts';

interface BackendReport {
  /** What the automatic choice (no PIPELINE_BACKEND, params.backend auto) picks here. */
  automatic: string;
  automaticSkipped: BackendChoice['skipped'];
  /** Each backend forced on its own: whether it loads, and what it runs with. */
  backends: { name: string; loads: boolean; version?: string; details?: BackendChoice['details']; reason?: string }[];
  /** The WebGPU adapter Dawn offers here (software ones too), or why there is none. */
  adapter: NonNullable<BackendChoice['adapter']> | { none: string };
}

/**
 * `pipeline backend`: which TensorFlow.js backends load on this machine, the WebGPU adapter,
 * and what the study's automatic choice picks. Loading each one is what the stages would do,
 * so the answer is the one a run would get.
 */
export async function backendCommand(o: { json?: boolean }): Promise<number> {
  const automatic = await chooseBackend();
  const report: BackendReport = {
    automatic: automatic.name,
    automaticSkipped: automatic.skipped,
    backends: [],
    adapter: { none: '' },
  };
  for (const name of BACKEND_ORDER) {
    try {
      const c = await chooseBackend([name]);
      report.backends.push({
        name,
        loads: true,
        version: c.version,
        ...(c.details === undefined ? {} : { details: c.details }),
      });
    } catch (e) {
      report.backends.push({
        name,
        loads: false,
        reason: (e as Error).message.replace(/^no TensorFlow\.js backend could start: [^:]+: /, ''),
      });
    }
  }
  try {
    const found = await findAdapter();
    report.adapter = found?.description ?? { none: 'Dawn found no adapter (no Vulkan/Metal/D3D12 driver)' };
  } catch (e) {
    report.adapter = { none: `Dawn (npm webgpu) did not load: ${(e as Error).message}` };
  }
  const { releaseWebGpu } = await import('../ml/webgpu-backend.ts');
  releaseWebGpu();
  if (o.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return EXIT.ok;
  }
  const rows = report.backends.map((b) => {
    const details =
      b.details === undefined
        ? ''
        : ` (${Object.entries(b.details)
            .map(([k, v]) => `${k} ${String(v)}`)
            .join(', ')})`;
    return [b.name, b.loads ? 'yes' : 'no', b.loads ? `${b.version ?? ''}${details}` : (b.reason ?? '')];
  });
  process.stdout.write(`${formatTable([['backend', 'loads', 'version or why not'], ...rows], 100)}\n`);
  const a = report.adapter;
  if ('none' in a) process.stdout.write(`WebGPU adapter: none: ${a.none}\n`);
  else {
    const kind = a.software ? 'software: webgpu runs only when forced (PIPELINE_BACKEND=webgpu)' : 'hardware';
    process.stdout.write(`WebGPU adapter: ${a.vendor} ${a.architecture} ${a.device}: ${a.description} (${kind})\n`);
  }
  const why = automatic.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  process.stdout.write(`automatic choice: ${automatic.name}${why ? ` (passed over ${why})` : ''}\n`);
  return EXIT.ok;
}
