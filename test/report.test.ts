import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromiumForSuite } from './helpers/browser.ts';
import {
  renderCharts,
  renderHtml,
  renderMarkdown,
  writeReport,
  type Report,
  type ReportTable,
} from '../src/report/index.ts';
import { HASHES, sampleReport } from './fixtures/report-sample.ts';
import { sha256Hex } from '../src/util/sha256-hex.ts';

const DIGEST_SCRIPT = fileURLToPath(new URL('./fixtures/report-digest.ts', import.meta.url));

const tempDirs: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The leaf mark groups of a vega SVG, with how many drawn elements each holds. */
function markGroups(svg: string): Array<{ type: string; elements: number }> {
  return [...svg.matchAll(/<g class="mark-(\w+) role-mark[^"]*"[^>]*>(.*?)<\/g>/g)].map((m) => ({
    type: m[1] ?? '',
    elements: (m[2] ?? '').match(/<(path|line|rect)\b/g)?.length ?? 0,
  }));
}

function elementsOf(svg: string, type: string): number {
  return markGroups(svg)
    .filter((g) => g.type === type)
    .reduce((sum, g) => sum + g.elements, 0);
}

function tables(report: Report): ReportTable[] {
  return report.sections.filter((s): s is ReportTable => s.kind === 'table');
}

describe('report rendering', () => {
  test('the same report renders to identical bytes, in one process and across processes', async () => {
    const report = sampleReport();
    const specsBefore = JSON.stringify(report);
    const first = {
      html: await renderHtml(report),
      md: await renderMarkdown(report),
      charts: await renderCharts(report),
    };
    const second = {
      html: await renderHtml(report),
      md: await renderMarkdown(report),
      charts: await renderCharts(report),
    };
    assert.equal(first.html, second.html);
    assert.equal(first.md, second.md);
    assert.deepEqual([...first.charts], [...second.charts]);
    assert.equal(JSON.stringify(report), specsBefore, 'rendering must not modify the report');

    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', DIGEST_SCRIPT]);
    const expected: Record<string, string> = { html: sha256Hex(first.html), markdown: sha256Hex(first.md) };
    for (const [id, svg] of first.charts) expected[`chart:${id}`] = sha256Hex(svg);
    assert.deepEqual(JSON.parse(stdout), expected);
  });

  test('SVG ids do not depend on earlier renders and do not collide between charts', async () => {
    // Clipping makes vega emit clipPath ids from a process-wide counter.
    const clipped = (values: number[]): Record<string, unknown> => ({
      data: { values: values.map((y, x) => ({ x, y })) },
      mark: { type: 'line', clip: true },
      encoding: {
        x: { field: 'x', type: 'quantitative' },
        y: { field: 'y', type: 'quantitative', scale: { domain: [0, 2] } },
      },
    });
    const report: Report = {
      title: 'ids',
      sections: [
        { kind: 'chart', id: 'one', title: 'one', spec: clipped([0, 3, 1]), sources: [] },
        { kind: 'chart', id: 'two', title: 'two', spec: clipped([1, -1, 2]), sources: [] },
      ],
    };
    const first = await renderCharts(report);
    const second = await renderCharts(report);
    assert.deepEqual([...first], [...second]);
    const idsOf = (svg: string): string[] => [...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1] ?? '');
    assert.deepEqual(idsOf(first.get('one') ?? ''), ['one.d1']);
    assert.deepEqual(idsOf(first.get('two') ?? ''), ['two.d1']);
    assert.match(first.get('one') ?? '', /clip-path="url\(#one\.d1\)"/);
    // Coordinates are rounded to 1/1000 px.
    assert.doesNotMatch(first.get('one') ?? '', /\d\.\d{4,}/);
  });

  test('every chart SVG is non-empty and draws its marks', async () => {
    const charts = await renderCharts(sampleReport());
    assert.deepEqual([...charts.keys()], ['figure-loss', 'figure-accuracy', 'figure-1']);
    for (const [id, svg] of charts) {
      assert.match(svg, /^<svg [^>]*width="\d+(\.\d+)?" height="\d+(\.\d+)?"/, id);
      assert.ok(svg.endsWith('</svg>'), id);
    }
    // 3 optimizers x 2 architectures: one band and one line each.
    const loss = charts.get('figure-loss') ?? '';
    assert.equal(elementsOf(loss, 'area'), 6);
    assert.equal(elementsOf(loss, 'line'), 6);
    const accuracy = charts.get('figure-accuracy') ?? '';
    assert.ok(elementsOf(accuracy, 'rect') >= 6, 'bars');
    assert.equal(elementsOf(accuracy, 'rule'), 6, 'one error bar per bar');
    assert.equal(elementsOf(charts.get('figure-1') ?? '', 'rect'), 6);
  });

  test('HTML escapes text and is self-contained', async () => {
    const html = await renderHtml(sampleReport());
    assert.ok(html.startsWith('<!DOCTYPE html>\n'));
    assert.doesNotMatch(html, /<script/i);
    assert.match(html, /<h1>Optimizer study &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; friends<\/h1>/);
    assert.match(html, /Lion timing lost &lt;to&gt; a node failure &amp; was not rerun\./);
    assert.doesNotMatch(html, /https?:|\/\/[a-z]/i, 'no URLs of any kind');
    assert.doesNotMatch(html, /\s(src|href)="(?!#)/, 'only in-page links');
    assert.doesNotMatch(html, /<link|@import|url\((?!#)/i);
  });

  test('HTML tables align numbers, mark cells and cite sources', async () => {
    const html = await renderHtml(sampleReport());
    assert.match(html, /<th scope="col">Optimizer<\/th><th scope="col" class="num">Accuracy<\/th>/);
    assert.match(
      html,
      /<td>AdamW<\/td><td class="num"><strong>0\.912 ± 0\.004<\/strong><\/td><td class="num">0\.897<\/td>/,
    );
    assert.match(html, /<td>SGD \| momentum<\/td>/);
    assert.match(html, /<td class="num">—<\/td>/, 'null cells show a dash');
    assert.equal(html.match(/<strong>/g)?.length, 4);
    assert.ok(html.includes(`<code title="${HASHES.metrics}">${HASHES.metrics.slice(0, 12)}</code>`));
    const sources = html.slice(html.indexOf('<section id="sources"'));
    for (const hash of Object.values(HASHES)) assert.ok(sources.includes(`<code>${hash}</code>`), hash);
    assert.equal(sources.match(/<tr><td>/g)?.length, 6, 'one row per cited source');
  });

  test('Markdown is a GitHub-flavoured twin', async () => {
    const md = await renderMarkdown(sampleReport());
    assert.ok(md.startsWith('# Optimizer study \\<script\\>alert("x")\\</script\\> \\& friends\n'));
    assert.ok(md.includes('\\# not a heading \\| not a cell \\*not emphasis\\* \\[not a link\\](x)'));
    assert.ok(md.includes('| Optimizer | Accuracy | F1 (macro) | Time (s) |\n| :--- | ---: | ---: | ---: |\n'));
    assert.ok(md.includes('| AdamW | **0.912 ± 0.004** | 0.897 | 412.5 |'));
    assert.ok(md.includes('| SGD \\| momentum | 0.874 ± 0.011 | 0.851 | **388.1** |'));
    for (const table of tables(sampleReport())) {
      const block = md.slice(md.indexOf(`<a id="${table.id}">`)).split('\n\n')[2] ?? '';
      assert.equal(block.split('\n').length, table.rows.length + 2, table.id);
    }
    assert.ok(md.includes('![Figure 1: recall per group, as-is vs balanced training data](charts/figure-1.svg)'));
    assert.ok(md.includes(`Sources: metrics.parquet \`${HASHES.metrics.slice(0, 12)}\``));
    assert.ok(md.includes(`| metrics.parquet | \`${HASHES.metrics}\` |`));
    assert.ok(md.includes('_Lion timing lost \\<to\\> a node failure \\& was not rerun._'));
    // Code is code (a backtick span, never escaped inside), in the subtitle, paragraphs and notes.
    assert.ok(md.includes('_Generated by `pipeline repro`; fine-tuning small language models'), 'subtitle code span');
    assert.ok(
      md.includes('Trace a number with `pipeline lineage HASH`; code may hold a backtick: ``a ` b``, and `x|y`.'),
    );
    assert.ok(md.includes('_Read from the resolved params of each `finetune` stage._'));
    assert.doesNotMatch(md, /\\`/, 'no escaped backticks');
  });

  test('HTML shows code as <code>, with nothing escaped twice', async () => {
    const html = await renderHtml(sampleReport());
    assert.match(html, /<p class="subtitle">Generated by <code>pipeline repro<\/code>; fine-tuning/);
    assert.ok(
      html.includes(
        '<p>Trace a number with <code>pipeline lineage HASH</code>; code may hold a backtick: <code>a ` b</code>, and <code>x|y</code>.</p>',
      ),
    );
    assert.ok(html.includes('<p class="note">Read from the resolved params of each <code>finetune</code> stage.</p>'));
    assert.doesNotMatch(html, /&amp;(amp|lt|gt|quot|#39);|\\`/, 'nothing escaped twice');
  });

  test('writeReport writes the twins and the charts the Markdown links to', async () => {
    const report = sampleReport();
    const dir = await tempDir('report-write-');
    const written = await writeReport(report, join(dir, 'out'), 'study');
    assert.equal(written.html, join(dir, 'out', 'study.html'));
    assert.equal(written.markdown, join(dir, 'out', 'study.md'));
    assert.equal(await readFile(written.html, 'utf8'), await renderHtml(report));
    const md = await readFile(written.markdown, 'utf8');
    assert.equal(md, await renderMarkdown(report));
    const charts = await renderCharts(report);
    assert.deepEqual(
      written.charts,
      [...charts.keys()].map((id) => join(dir, 'out', 'charts', `${id}.svg`)),
    );
    for (const [id, svg] of charts) {
      assert.ok(md.includes(`](charts/${id}.svg)`));
      assert.equal(await readFile(join(dir, 'out', 'charts', `${id}.svg`), 'utf8'), svg);
    }
    await assert.rejects(writeReport(report, dir, '../escape'), /plain file name/);
  });

  test('bad reports are rejected rather than rendered', async () => {
    const base = sampleReport();
    const withSection = (change: (r: Report) => void): Report => {
      const copy = sampleReport();
      change(copy);
      return copy;
    };
    await assert.rejects(renderMarkdown(withSection((r) => r.sections.push({ ...base.sections[0]! }))), /duplicate id/);
    await assert.rejects(
      renderMarkdown(withSection((r) => r.sections.push({ kind: 'text', id: '../x', title: 't', paragraphs: [] }))),
      /id must match/,
    );
    await assert.rejects(
      renderMarkdown(withSection((r) => (tables(r)[0]!.marked = [{ row: 9, key: 'f1' }]))),
      /marked row 9/,
    );
    await assert.rejects(
      renderMarkdown(withSection((r) => (tables(r)[0]!.sources = [{ label: 'x', hash: 'a|b' }]))),
      /has hash/,
    );
    const remote: Report = {
      title: 'remote',
      sections: [
        {
          kind: 'chart',
          id: 'remote',
          title: 'remote',
          spec: {
            data: { url: 'data/cars.json' },
            mark: 'point',
            encoding: { x: { field: 'a', type: 'quantitative' } },
          },
          sources: [],
        },
      ],
    };
    await assert.rejects(renderCharts(remote), /refusing to load "data\/cars\.json"/);
  });
});

describe('report in headless Chromium', () => {
  const browser = chromiumForSuite();

  test('the HTML shows every chart and table with no errors and no requests', { timeout: 30_000 }, async () => {
    const { context } = browser;
    assert.ok(context);
    const report = sampleReport();
    const dir = await tempDir('report-browser-');
    const written = await writeReport(report, dir, 'report');
    const pageUrl = pathToFileURL(written.html).href;

    const page = await context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];
    const requests: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('request', (req) => {
      if (req.url() !== pageUrl) requests.push(req.url());
    });
    await page.goto(pageUrl, { waitUntil: 'load' });

    // The hostile title is shown as text, not run.
    assert.equal(await page.title(), report.title);
    assert.equal(await page.locator('h1').textContent(), report.title);

    for (const section of report.sections) {
      if (section.kind === 'chart') {
        const svg = page.locator(`#${section.id} figure > svg`);
        assert.equal(await svg.count(), 1, section.id);
        assert.ok(await svg.isVisible(), `${section.id} visible`);
        const box = await svg.boundingBox();
        assert.ok(box && box.width > 100 && box.height > 100, `${section.id} size ${JSON.stringify(box)}`);
        const marks = await svg.evaluate(
          (el) =>
            [...el.querySelectorAll('g.role-mark > path, g.role-mark > line')].filter((m) => {
              const b = (m as SVGGraphicsElement).getBBox();
              return b.width > 0 || b.height > 0;
            }).length,
        );
        assert.ok(marks >= 6, `${section.id} draws marks (${marks})`);
      } else if (section.kind === 'table') {
        const table = page.locator(`#${section.id} table`);
        assert.ok(await table.isVisible(), `${section.id} visible`);
        assert.equal(await table.locator('tbody > tr').count(), section.rows.length, section.id);
        assert.equal(await table.locator('thead th').count(), section.columns.length, section.id);
        assert.equal(await table.locator('td strong').count(), section.marked?.length ?? 0, section.id);
      }
    }
    assert.equal(
      await page.locator('#sources tbody > tr').count(),
      report.sections.reduce((n, s) => n + (s.kind === 'text' ? 0 : s.sources.length), 0),
    );
    // In a 1280-pixel window every table fits its column, or scrolls in a container that shows a scrollbar.
    const clipped = await page.evaluate(() => {
      const column = document.querySelector('main')!.getBoundingClientRect();
      const padding = parseFloat(getComputedStyle(document.querySelector('main')!).paddingRight);
      return [...document.querySelectorAll('table')].flatMap((table) => {
        const id = table.closest('section')?.id ?? '?';
        const box = table.parentElement!;
        const style = getComputedStyle(box);
        const scrolls =
          (style.overflowX === 'auto' || style.overflowX === 'scroll') && box.scrollWidth > box.clientWidth;
        const visibleScrollbar =
          box.offsetHeight - box.clientHeight - parseFloat(style.borderBottomWidth) - parseFloat(style.borderTopWidth) >
          0;
        const problems: string[] = [];
        if (box.getBoundingClientRect().right > column.right - padding + 0.5)
          problems.push(`${id}: container wider than the column`);
        if (table.getBoundingClientRect().width > box.clientWidth + 0.5 && !(scrolls && visibleScrollbar)) {
          problems.push(
            `${id}: table ${Math.round(table.getBoundingClientRect().width)} px in ${box.clientWidth} px with no visible scrollbar`,
          );
        }
        return problems;
      });
    });
    assert.deepEqual(clipped, [], 'tables that are cut off');
    // Code shows as code: no backtick of Markdown syntax is left in the text a reader sees
    // (the one inside the code span `a ` b` is the code's own).
    const text = (await page.locator('body').innerText()).replace('a ` b', '');
    assert.doesNotMatch(text, /`/, 'literal backticks in the page text');
    assert.equal(await page.locator('.subtitle code').textContent(), 'pipeline repro');
    // Marked cells really come out bold.
    const weight = await page
      .locator('#table-2 td strong')
      .first()
      .evaluate((el) => getComputedStyle(el).fontWeight);
    assert.ok(Number(weight) >= 600, `bold weight ${weight}`);

    const shot = join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = await readFile(shot);
    assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'PNG signature');
    assert.ok((await stat(shot)).size > 10_000, `screenshot is ${png.length} bytes`);

    assert.deepEqual(consoleErrors, [], 'console errors or warnings');
    assert.deepEqual(pageErrors, [], 'page errors');
    assert.deepEqual(requests, [], 'the page must not load anything');
    await page.close();
  });
});
