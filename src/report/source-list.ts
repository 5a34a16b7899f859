import type { Report } from './types.ts';

export interface SourceEntry {
  sectionId: string;
  sectionTitle: string;
  label: string;
  hash: string;
}

/** Every source of every section, in document order, for the closing Sources section. */
export function listSources(report: Report): SourceEntry[] {
  return report.sections.flatMap((section) =>
    section.kind === 'text'
      ? []
      : section.sources.map((source) => ({
          sectionId: section.id,
          sectionTitle: section.title,
          label: source.label,
          hash: source.hash,
        })),
  );
}
