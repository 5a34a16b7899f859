import type { Report, ReportSource, ReportTable } from './types.ts';

// Ids become HTML anchors, CSS selectors and file names (charts/<id>.svg), so they are kept to
// a set that is safe in all three and cannot climb out of the charts folder.
const ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;
// Ids the HTML document uses for its own parts.
const RESERVED_IDS = new Set(['contents', 'sources']);
// Hashes are shown inside Markdown code spans, table cells and HTML attributes. Hex, base64,
// base64url and "algo:digest" forms all fit this set, and nothing in it can break those contexts.
const HASH_PATTERN = /^[A-Za-z0-9._:+/=-]+$/;

/**
 * Rejects a report that would render wrongly or ambiguously. Renderers call this first so a
 * bad report fails loudly rather than producing a plausible-looking document.
 */
export function assertValidReport(report: Report): void {
  expectString(report.title, 'report title');
  if (report.subtitle !== undefined) expectString(report.subtitle, 'report subtitle');
  if (!Array.isArray(report.sections)) throw new TypeError('report sections must be an array');
  const seen = new Set<string>();
  for (const section of report.sections) {
    const where = `section ${JSON.stringify(section.id)}`;
    if (typeof section.id !== 'string' || !ID_PATTERN.test(section.id)) {
      throw new Error(`${where}: id must match ${ID_PATTERN}`);
    }
    if (RESERVED_IDS.has(section.id)) throw new Error(`${where}: id is reserved`);
    if (seen.has(section.id)) throw new Error(`${where}: duplicate id`);
    seen.add(section.id);
    expectString(section.title, `${where} title`);
    switch (section.kind) {
      case 'table':
        checkTable(section, where);
        checkNotes(section.notes, where);
        checkSources(section.sources, where);
        break;
      case 'chart':
        if (typeof section.spec !== 'object' || section.spec === null || Array.isArray(section.spec)) {
          throw new TypeError(`${where}: spec must be a Vega-Lite object`);
        }
        checkNotes(section.notes, where);
        checkSources(section.sources, where);
        break;
      case 'text':
        if (!Array.isArray(section.paragraphs)) throw new TypeError(`${where}: paragraphs must be an array`);
        section.paragraphs.forEach((p, i) => expectString(p, `${where} paragraph ${i}`));
        break;
      default:
        throw new Error(`${where}: unknown kind ${JSON.stringify((section as { kind: unknown }).kind)}`);
    }
  }
}

function checkTable(table: ReportTable, where: string): void {
  if (!Array.isArray(table.columns) || table.columns.length === 0) {
    throw new Error(`${where}: a table needs at least one column`);
  }
  const keys = new Set<string>();
  for (const column of table.columns) {
    expectString(column.key, `${where} column key`);
    expectString(column.label, `${where} column label`);
    if (keys.has(column.key)) throw new Error(`${where}: duplicate column key ${JSON.stringify(column.key)}`);
    if (column.align !== undefined && column.align !== 'left' && column.align !== 'right') {
      throw new Error(`${where}: column ${JSON.stringify(column.key)} has align ${JSON.stringify(column.align)}`);
    }
    keys.add(column.key);
  }
  if (!Array.isArray(table.rows)) throw new TypeError(`${where}: rows must be an array`);
  table.rows.forEach((row, r) => {
    for (const key of keys) {
      const value: unknown = row[key];
      if (value !== undefined && value !== null && typeof value !== 'string' && typeof value !== 'number') {
        throw new TypeError(`${where}: row ${r} column ${JSON.stringify(key)} is a ${typeof value}`);
      }
    }
  });
  for (const mark of table.marked ?? []) {
    if (!Number.isInteger(mark.row) || mark.row < 0 || mark.row >= table.rows.length) {
      throw new RangeError(`${where}: marked row ${mark.row} is not a row of the table`);
    }
    if (!keys.has(mark.key)) throw new Error(`${where}: marked column ${JSON.stringify(mark.key)} is not a column`);
  }
}

function checkNotes(notes: string[] | undefined, where: string): void {
  if (notes === undefined) return;
  if (!Array.isArray(notes)) throw new TypeError(`${where}: notes must be an array`);
  notes.forEach((note, i) => expectString(note, `${where} note ${i}`));
}

function checkSources(sources: ReportSource[], where: string): void {
  if (!Array.isArray(sources)) throw new TypeError(`${where}: sources must be an array`);
  for (const source of sources) {
    expectString(source.label, `${where} source label`);
    if (typeof source.hash !== 'string' || !HASH_PATTERN.test(source.hash)) {
      throw new Error(`${where}: source ${JSON.stringify(source.label)} has hash ${JSON.stringify(source.hash)}`);
    }
  }
}

function expectString(value: unknown, what: string): void {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`);
}
