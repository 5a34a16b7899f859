import { escapeMarkdown } from './escape-markdown.ts';
import { renderProse } from './render-prose.ts';
import { shortHash } from './short-hash.ts';
import { listSources } from './source-list.ts';
import { tableModel } from './table-model.ts';
import type { Report, ReportSection, ReportSource, ReportTable } from './types.ts';
import { assertValidReport } from './validate.ts';

/**
 * The Markdown twin of the HTML report, for reading on GitHub. Charts are referenced as
 * charts/<id>.svg beside the .md file; writeReport writes them there.
 */
export async function renderMarkdown(report: Report): Promise<string> {
  assertValidReport(report);
  const blocks = [`# ${escapeMarkdown(report.title)}`];
  if (report.subtitle !== undefined) blocks.push(`_${renderProse.markdown(report.subtitle)}_`);
  for (const section of report.sections) blocks.push(...sectionBlocks(section));
  blocks.push(...sourcesBlocks(report));
  return `${blocks.join('\n\n')}\n`;
}

function sectionBlocks(section: ReportSection): string[] {
  // The explicit anchor keeps "#table-2" links working the same way in both twins, where
  // GitHub's own heading slugs would follow the title instead.
  const blocks = [`<a id="${section.id}"></a>\n\n## ${escapeMarkdown(section.title)}`];
  switch (section.kind) {
    case 'table':
      blocks.push(tableMarkdown(section));
      break;
    case 'chart':
      blocks.push(`![${escapeMarkdown(section.title)}](charts/${section.id}.svg)`);
      break;
    case 'text':
      blocks.push(...section.paragraphs.filter((p) => p.trim() !== '').map((p) => renderProse.markdown(p)));
      return blocks;
  }
  // Empty notes are skipped in both twins; in Markdown "__" would not even be empty.
  blocks.push(...(section.notes ?? []).filter((n) => n.trim() !== '').map((note) => `_${renderProse.markdown(note)}_`));
  blocks.push(sourcesLine(section.sources));
  return blocks;
}

function tableMarkdown(table: ReportTable): string {
  const model = tableModel(table);
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const rows = model.rows.map((row) =>
    line(
      row.map((cell) => {
        const text = escapeMarkdown(cell.text);
        return cell.marked && text !== '' ? `**${text}**` : text;
      }),
    ),
  );
  return [
    line(model.columns.map((c) => escapeMarkdown(c.label))),
    line(model.columns.map((c) => (c.align === 'right' ? '---:' : ':---'))),
    ...rows,
  ].join('\n');
}

function sourcesLine(sources: ReportSource[]): string {
  if (sources.length === 0) return 'Sources: none recorded';
  return `Sources: ${sources.map((s) => `${escapeMarkdown(s.label)} \`${shortHash(s.hash)}\``).join(' · ')}`;
}

function sourcesBlocks(report: Report): string[] {
  const sources = listSources(report);
  const heading = '<a id="sources"></a>\n\n## Sources';
  if (sources.length === 0) return [heading, 'No sources recorded.'];
  const rows = sources.map(
    (s) => `| [${escapeMarkdown(s.sectionTitle)}](#${s.sectionId}) | ${escapeMarkdown(s.label)} | \`${s.hash}\` |`,
  );
  return [heading, ['| Section | Source | Full hash |', '| :--- | :--- | :--- |', ...rows].join('\n')];
}
