import { isMapping, PyFloat, type PyValue } from './py-value.ts';

export type PyMap = { [key: string]: PyValue };

/** A refusal of DVC's templating; the caller places it at the field being rendered. */
export class TemplateError extends Error {}

/**
 * What `${...}` can see while a dvc.yaml is rendered: params.yaml of its folder, then `vars`
 * entries in order, merged key by key. As in DVC a key is never overwritten: defining one twice
 * (other than as two maps merged) is an error, as is loading part of a file after all of it.
 */
export class VarsContext {
  private constructor(
    private data: PyMap,
    /** Where each merged key came from (dotted path -> file or `vars[i]`), for error messages. */
    private readonly sources: Map<string, string>,
    /** Files loaded so far: null for the whole file, else the keys taken from it. */
    private readonly imports: Map<string, string[] | null>,
  ) {}

  static empty(): VarsContext {
    return new VarsContext({}, new Map(), new Map());
  }

  clone(): VarsContext {
    return new VarsContext(
      structuredCloneMap(this.data),
      new Map(this.sources),
      new Map([...this.imports].map(([k, v]) => [k, v === null ? null : [...v]])),
    );
  }

  /** A view with `item` (and `key`) set for one foreach or matrix iteration; the rest is shared. */
  withIteration(extra: PyMap): VarsContext {
    return new VarsContext({ ...this.data, ...extra }, this.sources, this.imports);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.data, key);
  }

  /** Merges a file's data (`keys` = the `file:a,b` selection, null for all of it). */
  mergeFile(path: string, keys: string[] | null, data: PyValue): void {
    if (!isMapping(data)) throw new TemplateError(`expected a dictionary in file '${path}'`);
    const seen = this.imports.get(path);
    if (seen !== undefined) {
      if (keys === null && seen === null) return; // the same whole file twice is allowed
      if (keys === null || seen === null || keys.some((k) => seen.includes(k))) {
        throw new TemplateError(
          `cannot load '${path}${keys === null ? '' : `:${keys.join(',')}`}' as it's ${seen === null ? 'already' : 'partially'} loaded`,
        );
      }
    }
    let selected: PyMap = data;
    if (keys !== null) {
      selected = {};
      for (const k of keys) {
        if (!Object.hasOwn(data, k)) throw new TemplateError(`could not find '${k}' in '${path}'`);
        selected[k] = data[k] as PyValue;
      }
    }
    this.merge(this.data, selected, path, '');
    this.imports.set(path, keys === null ? null : [...(seen ?? []), ...keys]);
  }

  mergeInline(data: PyMap, source: string): void {
    this.merge(this.data, data, source, '');
  }

  private merge(into: PyMap, update: PyMap, source: string, prefix: string): void {
    for (const [k, v] of Object.entries(update)) {
      const path = `${prefix}${k}`;
      const existing = into[k];
      if (isMapping(existing) && isMapping(v)) {
        this.merge(existing, v, source, `${path}.`);
        continue;
      }
      if (Object.hasOwn(into, k)) {
        throw new TemplateError(
          `cannot redefine '${path}' from '${source}' as it already exists in '${this.sourceOf(path)}'`,
        );
      }
      into[k] = isMapping(v) ? structuredCloneMap(v) : v;
      this.sources.set(path, source);
    }
  }

  private sourceOf(path: string): string {
    for (let p = path; p !== ''; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
      const s = this.sources.get(p);
      if (s !== undefined) return s;
    }
    return '<local>';
  }

  /** `a.b[0].c` as DVC reads it; throws "Could not find" when any part is missing. */
  select(expr: string): PyValue {
    const parts = expr.replace(/\[/g, '.').replace(/\]/g, '').split('.');
    let v: PyValue = this.data;
    for (const raw of parts) {
      const part = raw.trim();
      if (Array.isArray(v)) {
        const i = Number(part);
        if (!/^[-+]?\d+$/.test(part) || v[i < 0 ? v.length + i : i] === undefined)
          throw new TemplateError(`Could not find '${expr}'`);
        v = v[i < 0 ? v.length + i : i] as PyValue;
      } else if (isMapping(v) && Object.hasOwn(v, part)) {
        v = v[part] as PyValue;
      } else {
        throw new TemplateError(`Could not find '${expr}'`);
      }
    }
    return v;
  }
}

function structuredCloneMap(m: PyMap): PyMap {
  const out: PyMap = {};
  for (const [k, v] of Object.entries(m)) out[k] = cloneValue(v);
  return out;
}

function cloneValue(v: PyValue): PyValue {
  if (v instanceof PyFloat || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneValue);
  return structuredCloneMap(v);
}
