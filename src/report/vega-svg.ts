import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { normaliseSvg } from './normalise-svg.ts';

// vega measures text with the optional `canvas` package when it can import it, and estimates
// widths otherwise; pinning the estimate keeps layout, and so the SVG bytes, the same whether or
// not some other dependency happens to pull `canvas` in. The switch is untyped in vega's d.ts.
const textMetrics = (vega as unknown as { textMetrics?: { canvas?: (use: boolean) => void } }).textMetrics;

/**
 * Compiles a Vega-Lite spec and renders it to normalised SVG text, headless and offline.
 * `idPrefix` namespaces the SVG's internal ids (see normaliseSvg).
 */
export async function vegaLiteToSvg(spec: Record<string, unknown>, idPrefix: string): Promise<string> {
  textMetrics?.canvas?.(false);
  const problems: string[] = [];
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (method, _level, args) => {
    (method === 'error' ? problems : warnings).push(args.map(String).join(' '));
  });
  // structuredClone: compile must not see, or leave traces on, the caller's object.
  const vgSpec = compile(structuredClone(spec) as unknown as TopLevelSpec, { logger }).spec;
  const loader = offlineLoader((uri) =>
    problems.push(`refusing to load ${JSON.stringify(uri)}; give data inline (data.values)`),
  );
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logger, loader });
  try {
    const svg = await view.toSVG();
    // Warnings after a failure are mostly its echoes, so they go into the error; on success
    // they are worth a look but not worth failing a study run for.
    if (problems.length > 0) throw new Error(`report chart ${idPrefix}: ${[...problems, ...warnings].join('; ')}`);
    for (const warning of warnings) console.warn(`report chart ${idPrefix}: ${warning}`);
    return normaliseSvg(svg, idPrefix);
  } finally {
    view.finalize();
  }
}

/**
 * A loader that refuses everything: a report must be reproducible from the Report object alone,
 * so a spec that names a URL or file (data.url, an image mark) is a bug, not something to fetch.
 * vega only logs a failed load as a warning and draws the chart without that data, so each
 * refusal is also reported to the caller, which fails the render.
 */
function offlineLoader(report: (uri: string) => void): vega.Loader {
  const refuse = (uri: string): Promise<never> => {
    report(uri);
    return Promise.reject(new Error(`refused to load ${JSON.stringify(uri)}`));
  };
  return { load: refuse, sanitize: refuse, http: refuse, file: refuse };
}
