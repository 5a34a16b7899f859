import type { JsonValue, TableData, UpstreamStage } from '../stage-api.ts';
import { searchSpec, type SearchPoint } from './charts.ts';
import { tableColumns } from './table-columns.ts';
import type { ReportSection, ReportTable } from './types.ts';

/** The `selection` json of a select@ARCH-VARIANT stage (INTERFACES.md, section 2). */
export interface Selection {
  arch: string;
  variant: string;
  metric: string;
  direction: 'max' | 'min';
  protocol: 'search' | 'table1';
  trials: number;
  selected_trial: number | null;
  values: Record<string, number>;
  optimizer: Record<string, JsonValue>;
  space: Record<string, { min: number; max: number; scale: 'log' | 'linear' }>;
  on_edge: string[];
  validation: { accuracy: number; loss: number; macro_f1: number } | null;
}

export interface SearchInput {
  stage: UpstreamStage;
  selection: Selection;
  trials: TableData;
}

/** Reads and checks every select stage's outputs; a malformed one is named with its field. */
export async function readSearches(inputs: readonly UpstreamStage[]): Promise<SearchInput[]> {
  const selects = inputs.filter((i) => i.group === 'select');
  const out: SearchInput[] = [];
  for (const stage of selects) {
    const selection = checkSelection(await stage.json('selection'), stage.name);
    const trials = stage.outputs.includes('table:trials') ? await stage.table('trials') : {};
    for (const column of ['trial', 'rung', 'learning_rate', 'diverged', 'majority']) {
      if (selection.protocol === 'search' && !Array.isArray(trials[column]))
        throw new Error(`${stage.name} table trials: column "${column}" is missing`);
    }
    out.push({ stage, selection, trials });
  }
  return out.sort((a, b) =>
    a.selection.arch === b.selection.arch
      ? a.selection.variant.localeCompare(b.selection.variant)
      : a.selection.arch.localeCompare(b.selection.arch),
  );
}

function checkSelection(value: JsonValue, name: string): Selection {
  const where = (field: string) => `${name} json selection: field "${field}"`;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${name} json selection is not an object`);
  const v = value as Record<string, JsonValue>;
  for (const field of ['arch', 'variant', 'metric', 'protocol'])
    if (typeof v[field] !== 'string') throw new Error(`${where(field)} must be a string`);
  if (v.protocol !== 'search' && v.protocol !== 'table1')
    throw new Error(`${where('protocol')} must be search or table1`);
  if (!Number.isInteger(v.trials)) throw new Error(`${where('trials')} must be an integer`);
  for (const field of ['values', 'optimizer', 'space'])
    if (typeof v[field] !== 'object' || v[field] === null || Array.isArray(v[field]))
      throw new Error(`${where(field)} must be an object`);
  if (!Array.isArray(v.on_edge)) throw new Error(`${where('on_edge')} must be a list`);
  return v as unknown as Selection;
}

const sci = (x: number) => x.toExponential(1).replace('e+', 'e').replace(/\.0e/, 'e');
const pct = (x: number) => `${(100 * x).toFixed(0)} %`;

/** "learning_rate 1e-5 … 1e-2 (log)" for each searched hyperparameter. */
function spaceText(s: Selection): string {
  return Object.entries(s.space)
    .map(([k, r]) => `${k} ${sci(r.min)} … ${sci(r.max)} (${r.scale})`)
    .join('; ');
}

function valuesText(s: Selection): string {
  return Object.entries(s.values)
    .map(([k, x]) => `${k} ${typeof x === 'number' ? sci(x) : String(x)}`)
    .join('; ');
}

/** Table 1 from the selections: the space searched and the values chosen, per cell. */
export function table1FromSearches(searches: readonly SearchInput[]): ReportTable {
  const fixedOnly = searches.every((s) => s.selection.protocol === 'table1');
  return {
    kind: 'table',
    id: 'table-1',
    title: fixedOnly
      ? 'Table 1: optimizer hyperparameters used (fixed values, no search)'
      : 'Table 1: the search space and the values it selected',
    columns: tableColumns({
      arch: 'architecture',
      variant: 'variant',
      protocol: 'protocol',
      space: 'search space',
      trials: 'trials',
      values: 'selected',
      optimizer: 'optimizer used',
      validation: 'validation accuracy of the selection',
    }),
    rows: searches.map(({ selection: s }) => ({
      arch: s.arch,
      variant: s.variant,
      protocol: s.protocol === 'search' ? 'search' : 'fixed values (Table 1), no search',
      space: s.protocol === 'search' ? spaceText(s) : null,
      trials: s.protocol === 'search' ? s.trials : null,
      values: s.protocol === 'search' ? valuesText(s) : null,
      optimizer: Object.entries(s.optimizer)
        .map(([k, x]) => `${k} ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`)
        .join(', '),
      validation: s.validation === null ? null : (100 * s.validation.accuracy).toFixed(1),
    })),
    notes: [
      `Every optimizer variant had the same number of trials; each trial trained on the training split and was scored on the validation split only, the test split never. A selection "on the edge" lies in the outer 5 % of its range (log scale for a log range).`,
    ],
    sources: searches.map(({ stage }) => ({
      label: `selection of ${stage.name}`,
      hash: stage.outputHashes['json:selection'] ?? stage.fingerprint,
    })),
  };
}

interface TrialOutcome {
  trial: number;
  learningRate: number;
  accuracy: number | null;
  diverged: boolean;
  majority: boolean;
}

/** Each trial at the last rung it reached: what the search knew of it when it stopped. */
function outcomes(trials: TableData): TrialOutcome[] {
  const col = <T>(name: string) => (trials[name] ?? []) as T[];
  const trial = col<number>('trial');
  const rung = col<number>('rung');
  const lr = col<number>('learning_rate');
  const acc = col<number | null>('validation_accuracy');
  const diverged = col<boolean>('diverged');
  const majority = col<boolean>('majority');
  const last = new Map<number, number>();
  trial.forEach((t, i) => {
    const seen = last.get(t);
    if (seen === undefined || rung[i]! > rung[seen]!) last.set(t, i);
  });
  return [...last.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, i]) => ({
      trial: t,
      learningRate: lr[i]!,
      accuracy: acc[i] ?? null,
      // A trial that diverged at any rung stays a failed trial.
      diverged: trial.some((x, j) => x === t && diverged[j] === true),
      majority: majority[i] === true,
    }));
}

/** Per architecture: the search chart and its table (failed trials counted, edges warned). */
export function searchSections(arch: string, searches: readonly SearchInput[]): ReportSection[] {
  const mine = searches.filter((s) => s.selection.arch === arch && s.selection.protocol === 'search');
  if (mine.length === 0) return [];
  const points: SearchPoint[] = [];
  const warnings: string[] = [];
  const rows = mine.map(({ selection: s, trials }) => {
    const outs = outcomes(trials);
    for (const o of outs)
      points.push({
        series: s.variant,
        x: o.learningRate,
        y: o.diverged ? null : o.accuracy,
        status: o.diverged ? 'diverged' : o.majority ? 'majority class' : 'trained',
        selected: o.trial === s.selected_trial,
      });
    for (const field of s.on_edge) {
      const r = s.space[field];
      warnings.push(
        `Warning: ${s.variant}'s selected ${field} (${sci(s.values[field] ?? Number.NaN)}) lies on an edge of its range${r === undefined ? '' : ` ${sci(r.min)} … ${sci(r.max)}`}: the best value may lie outside it; widen the range.`,
      );
    }
    const diverged = outs.filter((o) => o.diverged).length;
    const majority = outs.filter((o) => !o.diverged && o.majority).length;
    return {
      variant: s.variant,
      trials: `${outs.length}/${s.trials}`,
      lr: s.values.learning_rate === undefined ? null : sci(s.values.learning_rate),
      validation: s.validation === null ? 'no trial selected' : (100 * s.validation.accuracy).toFixed(1),
      edge: s.on_edge.length === 0 ? 'no' : `yes: ${s.on_edge.join(', ')}`,
      diverged: `${pct(diverged / Math.max(1, s.trials))} (${diverged})`,
      majority: `${pct(majority / Math.max(1, s.trials))} (${majority})`,
    };
  });
  const sources = mine.map(({ stage }) => ({
    label: `trials of ${stage.name}`,
    hash: stage.outputHashes['table:trials'] ?? stage.fingerprint,
  }));
  return [
    {
      kind: 'chart',
      id: `search-${arch}`,
      title: `The search (${arch}): validation accuracy of every trial against its learning rate, per optimizer`,
      spec: searchSpec(points, { xTitle: 'learning rate', yTitle: 'validation accuracy', failedAt: 0 }),
      notes: [
        'Each trial at the last rung of successive halving it reached; ringed: the selected trial. Trials that diverged are drawn at 0 as crosses, squares stayed at the majority class.',
        ...warnings,
      ],
      sources,
    },
    {
      kind: 'table',
      id: `search-table-${arch}`,
      title: `The search (${arch}): selection and failed trials per optimizer`,
      columns: tableColumns({
        variant: 'optimizer',
        trials: 'trials',
        lr: 'selected learning rate',
        validation: 'validation accuracy %',
        edge: 'on an edge of the space',
        diverged: 'diverged',
        majority: 'majority class',
      }),
      rows,
      notes: warnings.length === 0 ? ['No selection lies on an edge of its range.'] : warnings,
      sources,
    },
  ];
}
