import { isMapping, PyFloat, type PyValue } from './py-value.ts';
import { pyStr } from './py-value.ts';
import { unpackArgs } from './unpack-args.ts';
import { TemplateError, type VarsContext } from './vars-context.ts';

/** `${...}` not preceded by a backslash; the inner text ends at the first `}` (no nesting, as in DVC). */
const REFERENCE = /(?<!\\)\$\{(.*?)\}/g;
/** A key, then `.key` or `[key]` parts. */
const EXPRESSION = /^[^.[\]]+(?:\.[^.[\]]+|\[[^.[\]]+\])*$/;

export function hasReference(s: string): boolean {
  REFERENCE.lastIndex = 0;
  return REFERENCE.test(s);
}

function checkExpression(inner: string): void {
  if (!EXPRESSION.test(inner)) throw new TemplateError(`invalid expression \${${inner}}`);
}

/**
 * DVC's check of what may be interpolated into a field: a scalar anywhere; a dict only into
 * `cmd` (unpacked into arguments); a list only where no field is named (foreach and matrix data).
 */
function validate(value: PyValue, field: string | undefined): void {
  const composite = Array.isArray(value) || isMapping(value);
  if (!composite || field === undefined || field.includes('foreach')) return;
  if (isMapping(value) && field === 'cmd') return;
  throw new TemplateError(`Cannot interpolate data of type '${Array.isArray(value) ? 'list' : 'dict'}'`);
}

/** One string rendered: exactly `${x}` keeps x's type, anything longer becomes text. */
export function renderString(src: string, ctx: VarsContext, field: string | undefined): PyValue {
  const matches = [...src.matchAll(REFERENCE)];
  if (matches.length === 0) return src.replace(/\\\$\{/g, '${');
  if (matches.length === 1 && matches[0]?.[0] === src) {
    const inner = matches[0][1] ?? '';
    checkExpression(inner);
    const value = ctx.select(inner);
    validate(value, field);
    return value;
  }
  let out = '';
  let at = 0;
  for (const m of matches) {
    const inner = m[1] ?? '';
    checkExpression(inner);
    const value = ctx.select(inner);
    validate(value, field);
    out += src.slice(at, m.index) + (isMapping(value) ? unpackArgs(value) : pyStr(value));
    at = (m.index ?? 0) + m[0].length;
  }
  out += src.slice(at);
  return out.replace(/\\\$\{/g, '${');
}

/** Renders every string in a value, keys included, as DVC's recursive resolve does. */
export function renderValue(v: PyValue, ctx: VarsContext, field: string | undefined): PyValue {
  if (typeof v === 'string') return renderString(v, ctx, field);
  if (Array.isArray(v)) return v.map((x) => renderValue(x, ctx, field));
  if (v instanceof PyFloat || v === null || typeof v !== 'object') return v;
  const out: { [key: string]: PyValue } = {};
  for (const [k, x] of Object.entries(v))
    out[String(keyText(renderString(k, ctx, field)))] = renderValue(x, ctx, field);
  return out;
}

function keyText(v: PyValue): string {
  return typeof v === 'string' ? v : pyStr(v);
}
