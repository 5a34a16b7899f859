import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { err, ok, type Result } from '../../result.ts';
import type { ConfigFailure } from '../failure.ts';
import { SourceMap } from '../source-map.ts';
import { PyFloat, type PyValue } from './py-value.ts';

export interface ReadYaml {
  data: PyValue;
  map: SourceMap;
}

/**
 * Parses a dvc.yaml or a params file (YAML or JSON, which YAML reads too) into PyValues: floats
 * stay floats even when whole (`20.0`), so they print as Python prints them. Positions are kept
 * for errors.
 */
export function readYaml(file: string, source: string): Result<ReadYaml, ConfigFailure[]> {
  const lines = new LineCounter();
  const doc = parseDocument(shieldReferences(source), {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
  });
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
  return ok({ data: unshield(toPy(doc.contents, doc, 0)), map });
}

/**
 * Inside a YAML flow collection (`[model-${item}.bin]`) the braces of `${...}` are syntax. Each
 * reference's braces are swapped for same-length private-use characters before parsing, so
 * positions still match the file, and swapped back in the values.
 */
const OPEN = '\ue000';
const CLOSE = '\ue001';
function shieldReferences(source: string): string {
  return source.replace(/\$\{([^{}\n]*)\}/g, (_m, inner: string) => `$${OPEN}${inner}${CLOSE}`);
}

function unshield(v: PyValue): PyValue {
  if (typeof v === 'string') return v.includes(OPEN) ? v.replace(/\ue000/g, '{').replace(/\ue001/g, '}') : v;
  if (Array.isArray(v)) return v.map(unshield);
  if (v === null || typeof v !== 'object' || v instanceof PyFloat) return v;
  const out: { [key: string]: PyValue } = {};
  for (const [k, x] of Object.entries(v)) out[unshield(k) as string] = unshield(x);
  return out;
}

function toPy(node: unknown, doc: Document.Parsed, depth: number): PyValue {
  if (depth > 200) throw new Error('YAML nested too deeply');
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toPy(node.resolve(doc), doc, depth + 1);
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'number') {
      const src = (node as { source?: string }).source ?? '';
      const float = !Number.isInteger(v) || node.format === 'EXP' || /[.]|inf|nan/i.test(src);
      return float ? new PyFloat(v) : v;
    }
    if (typeof v === 'bigint') return Number(v);
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    return String(v);
  }
  if (isSeq(node)) return node.items.map((i) => toPy(i, doc, depth + 1));
  if (isMap(node)) {
    const out: { [key: string]: PyValue } = {};
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? pair.key.value : pair.key;
      if (k === '<<') continue;
      out[String(k)] = toPy(pair.value as Node | null, doc, depth + 1);
    }
    // Merge keys (`<<: *base`) are resolved by the parser only in toJS; do it here too.
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? pair.key.value : pair.key;
      if (k !== '<<') continue;
      const merged = toPy(pair.value as Node | null, doc, depth + 1);
      for (const src of Array.isArray(merged) ? merged : [merged]) {
        if (src !== null && typeof src === 'object' && !Array.isArray(src) && !(src instanceof PyFloat)) {
          for (const [mk, mv] of Object.entries(src)) if (!(mk in out)) out[mk] = mv;
        }
      }
    }
    return out;
  }
  return null;
}
