import { isMap, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';
import type { Location } from './diagnostic.ts';

export type YamlPath = ReadonlyArray<string | number>;

/** Anything that can say where a path of pipeline.yaml is written. */
export interface Locator {
  locate(path: YamlPath, opts?: { key?: boolean }): Location;
}

/**
 * Finds where a value (or a key) of a parsed YAML document is written, so any later check, not
 * only the parser, can point at the offending text.
 */
export class SourceMap implements Locator {
  constructor(
    readonly file: string,
    readonly source: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** The location of the value at `path`, or of its key when `key` is set; falls back to the nearest ancestor found. */
  locate(path: YamlPath, opts: { key?: boolean } = {}): Location {
    let node: unknown = this.doc.contents;
    let found: Node | undefined = node as Node | undefined;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
        if (pair === undefined) break;
        node = last && opts.key ? pair.key : pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
      } else {
        break;
      }
      if (node !== null && typeof node === 'object' && 'range' in node) found = node as Node;
    }
    return this.range(found?.range?.[0] ?? 0, found?.range?.[1] ?? 0);
  }

  range(startOffset: number, endOffset: number): Location {
    const start = this.lines.linePos(startOffset);
    const end = this.lines.linePos(Math.max(startOffset, endOffset));
    return {
      file: this.file,
      source: this.source,
      start: { line: start.line, column: start.col },
      end: { line: end.line, column: end.col },
    };
  }
}
