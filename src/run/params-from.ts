import type { JsonObject, JsonValue } from '../fingerprint/canonical-json.ts';
import type { ContentHash } from '../fingerprint/hash-types.ts';
import type { ParamSource, StageSpec } from '../config/stage-spec.ts';
import type { ParamOrigin } from '../store/lockfile.ts';
import type { OutputRef } from '../store/store.ts';

export type ParamResolution =
  /** Every source was read: the spec with those values in its params. */
  | { kind: 'resolved'; spec: StageSpec; origins: Record<string, ParamOrigin> }
  /** Some source has no result yet (planning only): one reason per param that is not known. */
  | { kind: 'unknown'; reasons: string[] }
  /** A source's result lacks what the entry names: a located one-line message. */
  | { kind: 'failed'; message: string };

/** How a source is named in messages: `select@a json:selection key optimizer`. */
export function describeSource(s: ParamSource): string {
  return `${s.stage} json:${s.json}${s.key === undefined ? '' : ` key ${s.key}`}`;
}

/** The reason given for a param whose source stage has not run yet. */
export function notKnownYet(s: ParamSource): string {
  return `${s.param}: from ${describeSource(s)}, not known until that stage runs`;
}

/**
 * Reads each `params_from` value from its source stage's json output and writes it into a copy
 * of the stage's params, so the fingerprint, the stage's context and the lockfile all see the
 * value that was selected rather than the declared stand-in. `outputsOf` gives a settled
 * stage's outputs (undefined while it has none); `readJson` reads a json artifact by hash.
 */
export async function resolveParams(
  spec: StageSpec,
  outputsOf: (stage: string) => Readonly<Record<string, OutputRef>> | undefined,
  readJson: (hash: ContentHash) => Promise<JsonValue>,
): Promise<ParamResolution> {
  const sources = spec.paramsFrom ?? [];
  const unknown = sources.filter((s) => outputsOf(s.stage) === undefined);
  if (unknown.length > 0) return { kind: 'unknown', reasons: unknown.map(notKnownYet) };
  const params = structuredClone(spec.params);
  const origins: Record<string, ParamOrigin> = {};
  for (const s of sources) {
    const fail = (why: string): ParamResolution => ({
      kind: 'failed',
      message: `${s.at}: params_from.${s.param} of stage ${spec.name}: ${why}`,
    });
    const outputs = outputsOf(s.stage)!;
    const ref = outputs[`json:${s.json}`];
    if (ref === undefined) {
      const names = Object.keys(outputs)
        .filter((n) => n.startsWith('json:'))
        .map((n) => n.slice('json:'.length));
      return fail(
        `${s.stage} has no json output "${s.json}" (${names.length === 0 ? 'it has none' : `it has ${names.join(', ')}`})`,
      );
    }
    const found = valueAt(await readJson(ref.hash), s.key);
    if (!found.ok) return fail(`json:${s.json} of ${s.stage} has no key "${s.key ?? ''}" (${found.why})`);
    const declared = valueAt(spec.params, s.param);
    // A declared stand-in says what kind of value the stage expects; null leaves it open.
    if (declared.ok && declared.value !== null && kindOf(declared.value) !== kindOf(found.value)) {
      return fail(
        `${describeSource(s)} is ${article(kindOf(found.value))}, but the declared param is ${article(kindOf(declared.value))}`,
      );
    }
    setAt(params, s.param, found.value);
    origins[s.param] = { stage: s.stage, json: s.json, ...(s.key === undefined ? {} : { key: s.key }), hash: ref.hash };
  }
  return { kind: 'resolved', spec: { ...spec, params }, origins };
}

type Found = { ok: true; value: JsonValue } | { ok: false; why: string };

/** The value at a dotted path (a list is indexed by number); no path: the value itself. */
function valueAt(root: JsonValue, path: string | undefined): Found {
  if (path === undefined) return { ok: true, value: root };
  let value: JsonValue = root;
  const segments = path.split('.');
  for (const [i, seg] of segments.entries()) {
    const here = i === 0 ? 'the value' : segments.slice(0, i).join('.');
    if (Array.isArray(value)) {
      const index = /^(0|[1-9][0-9]*)$/.test(seg) ? Number(seg) : undefined;
      if (index === undefined || index >= value.length)
        return { ok: false, why: `${here} is a list of ${value.length}, and "${seg}" is not an index in it` };
      value = value[index]!;
    } else if (value !== null && typeof value === 'object') {
      if (!Object.hasOwn(value, seg)) {
        const keys = Object.keys(value);
        return {
          ok: false,
          why: `${here} has ${keys.length === 0 ? 'no keys' : `keys ${keys.slice(0, 10).join(', ')}${keys.length > 10 ? ', ...' : ''}`}`,
        };
      }
      value = value[seg]!;
    } else {
      return { ok: false, why: `${here} is ${article(kindOf(value))}, not an object` };
    }
  }
  return { ok: true, value };
}

/** Sets a dotted path, making the objects on the way (expansion checked none is a non-object). */
function setAt(params: JsonObject, path: string, value: JsonValue): void {
  const segments = path.split('.');
  let at = params;
  for (const seg of segments.slice(0, -1)) {
    const next = at[seg];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) at[seg] = {};
    at = at[seg] as JsonObject;
  }
  at[segments.at(-1)!] = value;
}

function kindOf(v: JsonValue): string {
  return v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'object' : typeof v;
}

function article(kind: string): string {
  return /^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`;
}
