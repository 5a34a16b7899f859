import { isAlias, isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import { err, ok, type Result } from '../../result.ts';
import { largestAliasRange } from '../alias-expansion.ts';
import type { ConfigFailure } from '../failure.ts';
import type { SourceMap } from '../source-map.ts';
import { parseLocatedDocument } from '../yaml-document.ts';
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
  const parsed = parseLocatedDocument(file, source, shieldReferences(source), { merge: true });
  if (!parsed.ok) return parsed;
  const { doc, map } = parsed.value;
  const aliases = { left: MAX_ALIAS_EXPANSIONS };
  try {
    return ok({ data: unshield(toPy(doc.contents, doc, 0, aliases)), map });
  } catch (e) {
    if (!(e instanceof YamlTooLarge)) throw e;
    // The same refusal, and the same place, as pipeline.yaml's (the yaml package's own count).
    const at = e.aliases ? largestAliasRange(doc) : undefined;
    return err([
      {
        reason: 'invalid-yaml',
        diagnostic: { message: `invalid YAML: ${e.message}`, location: map.range(at?.[0] ?? 0, at?.[1] ?? 0) },
      },
    ]);
  }
}

/**
 * Alias expansions a dvc.yaml or params file may make. Higher than pipeline.yaml's budget: real
 * DVC projects share settings through `<<: *defaults` in every stage, and each use counts here;
 * an alias bomb (nested anchors) still passes it within a few levels.
 */
const MAX_ALIAS_EXPANSIONS = 10_000;

/** A document that expands past the alias budget, or nests past any file a person writes. */
class YamlTooLarge extends Error {
  constructor(
    message: string,
    readonly aliases: boolean,
  ) {
    super(message);
  }
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

function toPy(node: unknown, doc: Document.Parsed, depth: number, aliases: { left: number }): PyValue {
  if (depth > 200) throw new YamlTooLarge('nested more than 200 levels deep', false);
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    // Each expansion counts, so nested anchors cannot multiply into an exponential document.
    if (--aliases.left < 0)
      throw new YamlTooLarge(
        `aliases here expand to too many nodes (more than ${MAX_ALIAS_EXPANSIONS} alias expansions)`,
        true,
      );
    return toPy(node.resolve(doc), doc, depth + 1, aliases);
  }
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
  if (isSeq(node)) return node.items.map((i) => toPy(i, doc, depth + 1, aliases));
  if (isMap(node)) {
    const out: { [key: string]: PyValue } = {};
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? pair.key.value : pair.key;
      if (k === '<<') continue;
      out[String(k)] = toPy(pair.value as Node | null, doc, depth + 1, aliases);
    }
    // Merge keys (`<<: *base`) are resolved by the parser only in toJS; do it here too.
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? pair.key.value : pair.key;
      if (k !== '<<') continue;
      const merged = toPy(pair.value as Node | null, doc, depth + 1, aliases);
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
