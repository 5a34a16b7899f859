export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * JSON with object keys sorted at every depth, so two equal values always give the same bytes
 * (and the same hash) however their keys were ordered when built. Non-finite numbers, which
 * JSON.stringify would silently turn into null, are written as tagged strings so `.nan` and
 * `null` in a params file never share a hash.
 */
export function canonicalJson(value: unknown, indent?: number): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

const NON_FINITE = '$number:';

/**
 * The number that canonicalJson wrote as a tagged string (Infinity, -Infinity, NaN); undefined
 * for any other string, so a reader can tell the tag from text that merely looks like it.
 */
export function taggedNumber(text: string): number | undefined {
  if (!text.startsWith(NON_FINITE)) return undefined;
  const n = Number(text.slice(NON_FINITE.length));
  return Number.isFinite(n) ? undefined : n;
}

function sortKeys(value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return `${NON_FINITE}${String(value)}`;
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
