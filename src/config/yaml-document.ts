import { LineCounter, parseDocument, type Document } from 'yaml';
import { err, ok, type Result } from '../result.ts';
import type { ConfigFailure } from './failure.ts';
import { SourceMap } from './source-map.ts';

/** Alias expansions a file may make; more is refused as a resource-exhaustion attack. */
export const MAX_ALIAS_COUNT = 100;

/**
 * Parses a YAML file with positions kept, for pipeline.yaml, profiles and dvc.yaml alike. `parsed`
 * is the text handed to the parser (the caller may have shielded its `${...}` braces, same length);
 * `source` is the file as written, which the source map points into. A syntax error is one located
 * failure: later ones are nearly always echoes of the first, and one clear line beats a cascade.
 */
export function parseLocatedDocument(
  file: string,
  source: string,
  parsed: string,
  options: { merge?: boolean } = {},
): Result<{ doc: Document.Parsed; map: SourceMap }, ConfigFailure[]> {
  const lines = new LineCounter();
  const doc = parseDocument(parsed, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, ...options });
  const map = new SourceMap(file, source, doc, lines);
  const first = doc.errors[0];
  if (first !== undefined) {
    return err([
      {
        reason: 'invalid-yaml',
        diagnostic: {
          message: `invalid YAML: ${first.message.split('\n')[0]}`,
          location: map.range(first.pos[0], first.pos[1]),
        },
      },
    ]);
  }
  return ok({ doc, map });
}
