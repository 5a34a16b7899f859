import { err, ok, type Result } from '../result.ts';


export type Scope = Readonly<Record<string, unknown>>;

export interface InterpolationError {
  variable: string;
  message: string;
}

function lookup(scope: Scope, name: string): unknown {
  let v: unknown = scope;
  for (const part of name.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * Resolves `${name}` and `${item.key}` references in a value, recursively through lists and
 * maps. A string that is exactly one reference takes the referenced value with its type (so
 * `seed: ${item.seed}` stays a number and `matrix: {seed: ${seeds}}` a list); references inside
 * longer strings are replaced by their text, passed through `quote` first: for `cmd:` that is a
 * shell quoting function, so a param can never inject shell syntax. A reference may hold another
 * (`${optimizers.${item.optimizer}}`), so a matrix can pick each expansion's settings by name.
 */
export function interpolate(
  value: unknown,
  scope: Scope,
  quote?: (s: string) => string,
): Result<unknown, InterpolationError> {
  if (typeof value === 'string') return interpolateString(value, scope, quote);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) {
      const r = interpolate(v, scope, quote);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return ok(out);
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = interpolate(v, scope, quote);
      if (!r.ok) return r;
      out[k] = r.value;
    }
    return ok(out);
  }
  return ok(value);
}

interface Reference {
  start: number;
  end: number;
  /** The text between `${` and the matching `}`, which may itself hold references. */
  inner: string;
}

/** Finds top-level `${...}` references, matching braces so `${a.${b}}` is one reference. */
function references(s: string): Reference[] {
  const refs: Reference[] = [];
  let i = s.indexOf('${');
  while (i >= 0) {
    let depth = 0;
    let j = i;
    for (; j < s.length; j++) {
      if (s.startsWith('${', j)) {
        depth++;
        j++;
      } else if (s[j] === '}' && --depth === 0) break;
    }
    if (j >= s.length) break;
    refs.push({ start: i, end: j + 1, inner: s.slice(i + 2, j) });
    i = s.indexOf('${', j + 1);
  }
  return refs;
}

/** A reference's name, after resolving references nested in it (`optimizers.${item.optimizer}`). */
function referenceName(inner: string, scope: Scope): Result<string, InterpolationError> {
  if (!inner.includes('${')) return ok(inner.trim());
  const r = interpolateString(inner, scope);
  return r.ok ? ok(String(r.value).trim()) : r;
}

function interpolateString(s: string, scope: Scope, quote?: (s: string) => string): Result<unknown, InterpolationError> {
  const refs = references(s);
  if (refs.length === 0) return ok(s);
  const only = refs[0]!;
  if (quote === undefined && refs.length === 1 && only.start === 0 && only.end === s.length) {
    const name = referenceName(only.inner, scope);
    if (!name.ok) return name;
    const v = lookup(scope, name.value);
    return v === undefined ? err(undefinedVariable(name.value)) : ok(v);
  }
  let out = '';
  let at = 0;
  for (const ref of refs) {
    const name = referenceName(ref.inner, scope);
    if (!name.ok) return name;
    const v = lookup(scope, name.value);
    if (v === undefined) return err(undefinedVariable(name.value));
    if (v !== null && typeof v === 'object') {
      return err({ variable: name.value, message: `\${${name.value}} is a ${Array.isArray(v) ? 'list' : 'map'} and cannot be embedded in a string` });
    }
    out += s.slice(at, ref.start) + (quote === undefined ? String(v) : quote(String(v)));
    at = ref.end;
  }
  return ok(out + s.slice(at));
}

function undefinedVariable(name: string): InterpolationError {
  return { variable: name, message: `undefined variable \${${name}}` };
}
