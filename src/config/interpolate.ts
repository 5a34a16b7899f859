import { err, ok, type Result } from '../result.ts';

export type Scope = Readonly<Record<string, unknown>>;

export interface InterpolationError {
  variable: string;
  message: string;
}

/** Why a definition (a var, a param) could not be resolved, and which one's text holds the cause. */
export interface DefinitionError extends InterpolationError {
  /** The definition to point at: the start of a cycle, or the one whose value has the bad reference. */
  definition: string;
  /** For a cycle: the names in the order they refer to each other, the first repeated last. */
  chain?: string[];
}

/** Resolves a dotted name (`models.gpt2`) to its value; `ok(undefined)` when it is not defined. */
type Lookup = (name: string) => Result<unknown, InterpolationError>;

function walk(value: unknown, parts: readonly string[]): unknown {
  let v = value;
  for (const part of parts) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const scopeLookup =
  (scope: Scope): Lookup =>
  (name) =>
    ok(walk(scope, name.split('.')));

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
  return interpolateWith(value, scopeLookup(scope), quote);
}

/**
 * Resolves a set of named definitions whose values may refer to each other (`vars`, or one stage's
 * `params`), each resolved once, on first use. A name is looked up in `outer` first, then among the
 * definitions; a definition reached again while it is being resolved is a cycle, reported with its
 * chain (`a -> b -> a`) instead of passing `${a}` on as text. `what` names the set in messages.
 */
export function resolveDefinitions(
  defs: Readonly<Record<string, unknown>>,
  outer: Scope,
  what: string,
): Result<Record<string, unknown>, DefinitionError> {
  const done = new Map<string, unknown>();
  const stack: string[] = [];
  // The first failure, described where it happened (deepest first), so the message names the chain.
  let failure: DefinitionError | undefined;
  const resolve = (name: string): Result<unknown, InterpolationError> => {
    if (done.has(name)) return ok(done.get(name));
    const at = stack.indexOf(name);
    if (at >= 0) {
      const chain = [...stack.slice(at), name];
      const itself = chain.length === 2 ? ` (\${${name}} refers to itself)` : '';
      failure ??= {
        variable: name,
        message: `reference cycle in ${what}: ${chain.join(' -> ')}${itself}`,
        definition: chain[0]!,
        chain,
      };
      return err(failure);
    }
    stack.push(name);
    const r = interpolateWith(defs[name], lookup);
    if (!r.ok && failure === undefined) {
      const via = stack.length > 1 ? ` (reached through ${what} ${stack.join(' -> ')})` : '';
      failure = { ...r.error, message: `${r.error.message}${via}`, definition: name };
    }
    stack.pop();
    if (r.ok) done.set(name, r.value);
    return r;
  };
  const lookup: Lookup = (path) => {
    const parts = path.split('.');
    const root = parts[0]!;
    if (Object.hasOwn(outer, root)) return ok(walk(outer, parts));
    if (!Object.hasOwn(defs, root)) return ok(undefined);
    const r = resolve(root);
    return r.ok ? ok(walk(r.value, parts.slice(1))) : r;
  };
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(defs)) {
    const r = resolve(name);
    if (!r.ok) return err(failure ?? { ...r.error, definition: name });
    out[name] = r.value;
  }
  return ok(out);
}

function interpolateWith(
  value: unknown,
  lookup: Lookup,
  quote?: (s: string) => string,
): Result<unknown, InterpolationError> {
  if (typeof value === 'string') return interpolateString(value, lookup, quote);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) {
      const r = interpolateWith(v, lookup, quote);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return ok(out);
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = interpolateWith(v, lookup, quote);
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
function referenceName(inner: string, lookup: Lookup): Result<string, InterpolationError> {
  if (!inner.includes('${')) return ok(inner.trim());
  const r = interpolateString(inner, lookup);
  return r.ok ? ok(String(r.value).trim()) : r;
}

function interpolateString(
  s: string,
  lookup: Lookup,
  quote?: (s: string) => string,
): Result<unknown, InterpolationError> {
  const refs = references(s);
  if (refs.length === 0) return ok(s);
  const only = refs[0]!;
  if (quote === undefined && refs.length === 1 && only.start === 0 && only.end === s.length) {
    const name = referenceName(only.inner, lookup);
    if (!name.ok) return name;
    const v = lookup(name.value);
    if (!v.ok) return v;
    return v.value === undefined ? err(undefinedVariable(name.value)) : v;
  }
  let out = '';
  let at = 0;
  for (const ref of refs) {
    const name = referenceName(ref.inner, lookup);
    if (!name.ok) return name;
    const found = lookup(name.value);
    if (!found.ok) return found;
    const v = found.value;
    if (v === undefined) return err(undefinedVariable(name.value));
    if (v !== null && typeof v === 'object') {
      return err({
        variable: name.value,
        message: `\${${name.value}} is a ${Array.isArray(v) ? 'list' : 'map'} and cannot be embedded in a string`,
      });
    }
    out += s.slice(at, ref.start) + (quote === undefined ? String(v) : quote(String(v)));
    at = ref.end;
  }
  return ok(out + s.slice(at));
}

function undefinedVariable(name: string): InterpolationError {
  return { variable: name, message: `undefined variable \${${name}}` };
}
