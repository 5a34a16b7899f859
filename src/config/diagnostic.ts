import { relative } from 'node:path';

/** A position in a text file, 1-based like every editor shows it. */
export interface Position {
  line: number;
  column: number;
}

/** A location in a source file, with the text needed to draw it without re-reading the file. */
export interface Location {
  file: string;
  start: Position;
  end: Position;
  /** The whole source; kept so the printer can show the offending line. */
  source?: string;
}

export interface Diagnostic {
  message: string;
  location?: Location;
}

function lineOf(source: string, line: number): string {
  return source.split(/\r?\n/)[line - 1] ?? '';
}

/**
 * The one place a diagnostic becomes text. The first line is complete on its own
 * (`file:line:col: message`) so it can be grepped or shown by an editor's problem matcher; the
 * lines after it draw the offending range of the source under it.
 */
export function formatDiagnostic(d: Diagnostic, cwd = process.cwd()): string {
  if (d.location === undefined) return `error: ${d.message}`;
  const { file, start, end, source } = d.location;
  const rel = relative(cwd, file);
  const shown = rel === '' || rel.startsWith('..') ? file : rel;
  const head = `${shown}:${start.line}:${start.column}: error: ${d.message}`;
  if (source === undefined) return head;
  const text = lineOf(source, start.line);
  const gutter = String(start.line);
  const endColumn = end.line === start.line ? Math.max(end.column, start.column + 1) : text.length + 1;
  const width = Math.max(1, Math.min(endColumn, text.length + 1) - start.column);
  const pad = ' '.repeat(gutter.length);
  return [head, `${pad} |`, `${gutter} | ${text}`, `${pad} | ${' '.repeat(start.column - 1)}${'~'.repeat(width)}`].join(
    '\n',
  );
}
