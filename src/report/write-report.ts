import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { buildHtml } from './html-document.ts';
import { renderCharts } from './render-charts.ts';
import { renderMarkdown } from './render-markdown.ts';
import type { Report } from './types.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';

const BASE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Writes <dir>/<baseName>.html, <dir>/<baseName>.md and <dir>/charts/<id>.svg (which the
 * Markdown links to) and returns their paths, charts in document order.
 */
export async function writeReport(
  report: Report,
  dir: string,
  baseName: string,
): Promise<{ html: string; markdown: string; charts: string[] }> {
  if (!BASE_NAME.test(baseName))
    throw new Error(`report base name ${JSON.stringify(baseName)} must be a plain file name`);
  // Render everything before touching the disk, so a bad chart leaves no half-written report.
  const charts = await renderCharts(report);
  const html = buildHtml(report, charts);
  const markdown = await renderMarkdown(report);

  await mkdir(dir, { recursive: true });
  const chartPaths: string[] = [];
  if (charts.size > 0) await mkdir(join(dir, 'charts'), { recursive: true });
  for (const [id, svg] of charts) {
    const path = join(dir, 'charts', `${id}.svg`);
    await writeFileAtomic(path, svg);
    chartPaths.push(path);
  }
  const htmlPath = join(dir, `${baseName}.html`);
  const markdownPath = join(dir, `${baseName}.md`);
  await writeFileAtomic(htmlPath, html);
  await writeFileAtomic(markdownPath, markdown);
  return { html: htmlPath, markdown: markdownPath, charts: chartPaths };
}
