// Vega-Lite specs for the study's figures. Each carries its data inline, so a spec is a
// complete, hashable description of its chart, and categories keep the order the caller gave
// them in (Vega-Lite would otherwise sort them alphabetically) with colours fixed by that order.

type Spec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export interface LossPoint {
  /** One line per series, e.g. the optimizer. */
  series: string;
  step: number;
  /** Mean over seeds, drawn as the line. */
  mean: number;
  /** Lower and upper edge of the band drawn around the line (e.g. min/max or mean ± std). */
  low: number;
  high: number;
}

/**
 * Loss (or any metric) against training step: the mean as a line per series, with a shaded
 * band from low to high over seeds. With `facet`, one panel per value of that field of the
 * points (e.g. the architecture), side by side on shared axes.
 */
export function lossCurveSpec<P extends LossPoint>(
  points: readonly P[],
  opts: { facet?: keyof P & string; xTitle?: string; yTitle?: string; seriesTitle?: string } = {},
): Spec {
  const facet = opts.facet;
  const values = points.map((p, i) => {
    for (const key of ['step', 'mean', 'low', 'high'] as const) expectFinite(p[key], `loss point ${i} ${key}`);
    if (p.low > p.high) throw new RangeError(`loss point ${i}: low ${p.low} is above high ${p.high}`);
    const value: Spec = { series: String(p.series), step: p.step, mean: p.mean, low: p.low, high: p.high };
    if (facet !== undefined) {
      const panel: unknown = p[facet];
      if (typeof panel !== 'string' && typeof panel !== 'number') {
        throw new TypeError(`loss point ${i} has no ${JSON.stringify(facet)} to facet by`);
      }
      // A fixed field name spares callers Vega-Lite's field-path rules (dots, brackets).
      value.panel = String(panel);
    }
    return value;
  });
  const color = {
    field: 'series',
    type: 'nominal',
    title: opts.seriesTitle ?? 'optimizer',
    scale: { domain: firstSeen(values.map((v) => v.series as string)) },
  };
  const x = { field: 'step', type: 'quantitative', title: opts.xTitle ?? 'step' };
  const yTitle = opts.yTitle ?? 'loss';
  const layer = [
    {
      // fillOpacity rather than opacity: the shared legend would inherit opacity and fade out.
      mark: { type: 'area', fillOpacity: 0.2 },
      encoding: {
        x,
        y: { field: 'low', type: 'quantitative', title: yTitle, scale: { zero: false } },
        y2: { field: 'high' },
        color,
      },
    },
    {
      mark: { type: 'line', strokeWidth: 1.75 },
      encoding: {
        x,
        y: { field: 'mean', type: 'quantitative', title: yTitle, scale: { zero: false } },
        color: { ...color, legend: { symbolType: 'stroke', symbolStrokeWidth: 2 } },
      },
    },
  ];
  if (facet === undefined) {
    return { $schema: SCHEMA, data: { values }, width: 420, height: 260, layer };
  }
  return {
    $schema: SCHEMA,
    data: { values },
    facet: {
      column: { field: 'panel', type: 'nominal', title: facet, sort: firstSeen(values.map((v) => v.panel as string)) },
    },
    spec: { width: 280, height: 220, layer },
  };
}

export interface ErrorBar {
  /** Bars sharing a group are drawn in one panel; give it to all bars or to none. */
  group?: string;
  label: string;
  mean: number;
  std: number;
}

/** Bars of a mean with error bars of ± one standard deviation, one panel per group if given. */
export function barWithErrorSpec(bars: readonly ErrorBar[], opts: { yTitle: string; xTitle?: string }): Spec {
  const grouped = bars.some((b) => b.group !== undefined);
  const values = bars.map((b, i) => {
    expectFinite(b.mean, `bar ${i} mean`);
    expectFinite(b.std, `bar ${i} std`);
    if (b.std < 0) throw new RangeError(`bar ${i}: std ${b.std} is negative`);
    if (grouped && b.group === undefined) throw new Error(`bar ${i} has no group while others do`);
    const value: Spec = { label: b.label, mean: b.mean, std: b.std, low: b.mean - b.std, high: b.mean + b.std };
    if (grouped) value.group = b.group;
    return value;
  });
  const labels = firstSeen(values.map((v) => v.label as string));
  const x = { field: 'label', type: 'nominal', title: opts.xTitle ?? null, sort: labels, axis: { labelAngle: -30 } };
  const layer = [
    {
      mark: { type: 'bar' },
      encoding: {
        x,
        y: { field: 'mean', type: 'quantitative', title: opts.yTitle },
        // Colour repeats the x label on purpose: it lets the eye match a label across panels.
        color: { field: 'label', type: 'nominal', scale: { domain: labels }, legend: null },
      },
    },
    {
      mark: { type: 'errorbar', ticks: true, color: '#222' },
      encoding: { x, y: { field: 'low', type: 'quantitative', title: opts.yTitle }, y2: { field: 'high' } },
    },
  ];
  const size = { width: { step: 36 }, height: 240 };
  if (!grouped) return { $schema: SCHEMA, data: { values }, ...size, layer };
  return {
    $schema: SCHEMA,
    data: { values },
    facet: {
      column: { field: 'group', type: 'nominal', title: null, sort: firstSeen(values.map((v) => v.group as string)) },
    },
    spec: { ...size, layer },
  };
}

export interface GroupMetricPoint {
  /** What is compared within a group, e.g. "as-is" vs "balanced". */
  variant: string;
  /** Where it is compared, e.g. a demographic group. */
  group: string;
  value: number;
}

/** Grouped bars: for each group, one bar per variant side by side, coloured by variant. */
export function groupMetricSpec(
  points: readonly GroupMetricPoint[],
  opts: { yTitle: string; xTitle?: string; variantTitle?: string },
): Spec {
  const values = points.map((p, i) => {
    expectFinite(p.value, `point ${i} value`);
    return { variant: p.variant, group: p.group, value: p.value };
  });
  const variants = firstSeen(values.map((v) => v.variant));
  return {
    $schema: SCHEMA,
    data: { values },
    // A band per group wide enough for its bars side by side.
    width: { step: Math.max(48, 22 * variants.length) },
    height: 240,
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'group',
        type: 'nominal',
        title: opts.xTitle ?? null,
        sort: firstSeen(values.map((v) => v.group)),
        axis: { labelAngle: -30 },
      },
      xOffset: { field: 'variant', type: 'nominal', sort: variants },
      y: { field: 'value', type: 'quantitative', title: opts.yTitle },
      color: { field: 'variant', type: 'nominal', title: opts.variantTitle ?? 'variant', scale: { domain: variants } },
    },
  };
}

export interface SearchPoint {
  /** One colour per series, e.g. the optimizer. */
  series: string;
  /** The searched hyperparameter (e.g. the learning rate): positive, drawn on a log axis. */
  x: number;
  /** The validation metric; null for a trial that diverged (drawn at `failedAt`, as a cross). */
  y: number | null;
  /** trained, majority class (all predictions one class) or diverged. */
  status: 'trained' | 'majority class' | 'diverged';
  /** The trial the search selected: drawn with a ring around it. */
  selected: boolean;
}

const SEARCH_STATUS = ['trained', 'majority class', 'diverged'];

/**
 * A hyperparameter search: the validation metric of every trial against a log-scaled
 * hyperparameter, coloured by series, shaped by outcome, the selected trials ringed. A trial
 * without a metric (diverged) is drawn at `failedAt` rather than left out: failed trials are
 * part of what the search found.
 */
export function searchSpec(
  points: readonly SearchPoint[],
  opts: { xTitle: string; yTitle: string; failedAt: number; seriesTitle?: string },
): Spec {
  expectFinite(opts.failedAt, 'failedAt');
  const values = points.map((p, i) => {
    expectFinite(p.x, `search point ${i} x`);
    if (p.x <= 0) throw new RangeError(`search point ${i}: x ${p.x} must be positive for a log axis`);
    if (p.y !== null) expectFinite(p.y, `search point ${i} y`);
    if (!SEARCH_STATUS.includes(p.status)) throw new RangeError(`search point ${i}: status ${String(p.status)}`);
    return { series: p.series, x: p.x, y: p.y ?? opts.failedAt, status: p.status, selected: p.selected };
  });
  const x = { field: 'x', type: 'quantitative', title: opts.xTitle, scale: { type: 'log' }, axis: { format: '.0e' } };
  const y = { field: 'y', type: 'quantitative', title: opts.yTitle, scale: { zero: false } };
  return {
    $schema: SCHEMA,
    data: { values },
    width: 420,
    height: 260,
    layer: [
      {
        mark: { type: 'point', filled: true, size: 60, opacity: 0.8 },
        encoding: {
          x,
          y,
          color: {
            field: 'series',
            type: 'nominal',
            title: opts.seriesTitle ?? 'optimizer',
            scale: { domain: firstSeen(values.map((v) => v.series)) },
          },
          shape: {
            field: 'status',
            type: 'nominal',
            title: 'trial',
            scale: { domain: SEARCH_STATUS, range: ['circle', 'square', 'cross'] },
          },
        },
      },
      {
        transform: [{ filter: 'datum.selected' }],
        mark: { type: 'point', filled: false, size: 260, strokeWidth: 2, color: '#111' },
        encoding: { x, y },
      },
    ],
  };
}

function firstSeen(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function expectFinite(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a finite number, got ${String(value)}`);
  }
}
