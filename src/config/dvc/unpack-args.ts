import { isMapping, PyFloat, type PyValue } from './py-value.ts';
import { pyStr } from './py-value.ts';
import { TemplateError } from './vars-context.ts';

/** Python's shlex.quote: bare when only safe characters, else single-quoted. */
export function shlexQuote(s: string): string {
  if (s === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/** Nested maps to dotted keys; lists and empty maps stay values. */
function flatten(m: { [key: string]: PyValue }, prefix: string, out: Array<[string, PyValue]>): void {
  for (const [k, v] of Object.entries(m)) {
    if (isMapping(v) && Object.keys(v).length > 0) flatten(v, `${prefix}${k}.`, out);
    else out.push([`${prefix}${k}`, v]);
  }
}

/**
 * A dict interpolated into `cmd`, as DVC unpacks it into arguments: `--key value` per (dotted)
 * key, strings shell-quoted, `--flag` for true and nothing for false, a list as one `--key`
 * followed by its values. A list inside a list is refused, as DVC does.
 */
export function unpackArgs(dict: { [key: string]: PyValue }): string {
  const flat: Array<[string, PyValue]> = [];
  flatten(dict, '', flat);
  let out = '';
  for (const [k, v] of flat) {
    if (typeof v === 'boolean') {
      if (v) out += `--${k} `;
    } else if (typeof v === 'string') {
      out += `--${k} ${shlexQuote(v)} `;
    } else if (Array.isArray(v)) {
      v.forEach((item, n) => {
        if (Array.isArray(item) || isMapping(item))
          throw new TemplateError(`Cannot interpolate nested iterable in '${k}'`);
        const text = typeof item === 'string' ? shlexQuote(item) : pyStrOfItem(item);
        out += n > 0 ? `${text} ` : `--${k} ${text} `;
      });
    } else if (isMapping(v)) {
      out += `--${k} {} `;
    } else {
      out += `--${k} ${pyStr(v)} `;
    }
  }
  return out.trimEnd();
}

/** Items of a list are printed by Python's f-string, so a boolean there is `True`, not `true`. */
function pyStrOfItem(v: PyValue): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return v instanceof PyFloat || typeof v === 'number' || v === null ? pyStr(v) : String(v);
}
