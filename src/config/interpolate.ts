import { err, ok, type Result } from '../result.ts';

const WHOLE = /^\$\{\s*([^}]*?)\s*\}$/;
const TOKEN = /\$\{\s*([^}]*?)\s*\}/g;

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
 * shell quoting function, so a param can never inject shell syntax.
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

function interpolateString(s: string, scope: Scope, quote?: (s: string) => string): Result<unknown, InterpolationError> {
  const whole = quote === undefined ? WHOLE.exec(s) : null;
  if (whole !== null) {
    const name = whole[1] ?? '';
    const v = lookup(scope, name);
    return v === undefined ? err(undefinedVariable(name)) : ok(v);
  }
  let failure: InterpolationError | undefined;
  const out = s.replace(TOKEN, (_m, name: string) => {
    const v = lookup(scope, name);
    if (failure !== undefined) return '';
    if (v === undefined) {
      failure = undefinedVariable(name);
      return '';
    }
    if (v !== null && typeof v === 'object') {
      failure = { variable: name, message: `\${${name}} is a ${Array.isArray(v) ? 'list' : 'map'} and cannot be embedded in a string` };
      return '';
    }
    return quote === undefined ? String(v) : quote(String(v));
  });
  return failure === undefined ? ok(out) : err(failure);
}

function undefinedVariable(name: string): InterpolationError {
  return { variable: name, message: `undefined variable \${${name}}` };
}

export function hasReference(s: string): boolean {
  return s.includes('${');
}
