import { defineStage, type Cell, type JsonObject, type TableData } from '../src/stage-api.ts';
import { rankTrials } from '../src/study/search/ranking.ts';
import { type SearchParams, searchPlan } from '../src/study/search/search-params.ts';
import { onEdge, table1Values } from '../src/study/search/space.ts';
import { emptyTrialTable } from '../src/study/search/trial-table.ts';

/**
 * The selection of one architecture x optimizer variant: the best trial at the highest rung any
 * trial finished without diverging (the last rung unless every survivor diverged there), by the
 * declared validation metric, ties to the lower validation loss. With `trials: 0` (the table1
 * profile) no search ran and the selection is Table 1's values, marked as such. Every trial of
 * every rung is in the `trials` table, diverged ones included.
 */
export default defineStage<SearchParams>(async (ctx) => {
  const plan = searchPlan(ctx.params);
  const names = Object.keys(plan.space);
  const where = `search of ${ctx.params.variant}`;
  const rungInputs = ctx.inputs
    .filter((i) => /^search-rung\d+$/.test(i.group))
    .sort((a, b) => Number(a.group.slice('search-rung'.length)) - Number(b.group.slice('search-rung'.length)));
  if (rungInputs.length !== plan.rungs.length)
    throw new Error(
      `select needs one search-rung input per declared rung (${plan.rungs.length}), found ${rungInputs.length}`,
    );
  const rungs: TableData[] = [];
  for (const input of rungInputs) rungs.push(await input.table('trials'));
  const trials: Record<string, Cell[]> = emptyTrialTable(names);
  for (const t of rungs) for (const [col, values] of Object.entries(trials)) values.push(...(t[col] ?? []));

  const table1 = table1Values(plan.space, ctx.params.optimizer, where, plan.trials > 0);
  let selected: { trial: number; values: Record<string, number>; validation: JsonObject } | undefined;
  for (const t of [...rungs].reverse()) {
    const scores = t.trial!.map((trial, i) => ({
      trial: trial as number,
      i,
      diverged: t.diverged![i] === true,
      validation_accuracy: t.validation_accuracy![i] as number | null,
      validation_loss: t.validation_loss![i] as number | null,
      validation_macro_f1: t.validation_macro_f1![i] as number | null,
    }));
    const best = rankTrials(scores, plan.metric)[0];
    if (best === undefined) continue;
    selected = {
      trial: best.trial,
      values: Object.fromEntries(names.map((n) => [n, t[n]![best.i] as number])),
      validation: {
        accuracy: best.validation_accuracy,
        loss: best.validation_loss,
        macro_f1: best.validation_macro_f1,
      },
    };
    break;
  }
  const protocol = plan.trials === 0 ? 'table1' : 'search';
  if (protocol === 'search' && selected === undefined)
    ctx.log(`every trial diverged: the selection falls back to Table 1's values, and says so (selected_trial null)`);
  const values = selected?.values ?? table1;
  const selection = {
    arch: String(ctx.item?.arch ?? ''),
    variant: ctx.params.variant,
    metric: plan.metric,
    direction: 'max',
    protocol,
    trials: plan.trials,
    selected_trial: selected?.trial ?? null,
    values,
    optimizer: { ...ctx.params.optimizer, ...values },
    space: plan.space as unknown as JsonObject,
    on_edge: protocol === 'search' && selected !== undefined ? onEdge(plan.space, values) : [],
    validation: selected?.validation ?? null,
  } satisfies JsonObject;
  ctx.log(
    protocol === 'table1'
      ? `no search: Table 1's ${JSON.stringify(values)}`
      : `selected trial ${selection.selected_trial} ${JSON.stringify(values)}` +
          (selection.on_edge.length > 0 ? `, on the edge of its range: ${selection.on_edge.join(', ')}` : ''),
  );
  const diverged = (trials.diverged ?? []).filter((d) => d === true).length;
  return {
    json: { selection },
    tables: { trials },
    metrics: {
      ...Object.fromEntries(names.map((n) => [`selected_${n}`, values[n]!])),
      trials: plan.trials,
      // What the search cost: updates over all its rungs (0 without a search).
      train_steps: rungInputs.reduce((n, i) => n + (i.metrics.train_steps ?? 0), 0),
      diverged_trial_rungs: diverged,
      ...(selected === undefined ? {} : { selected_validation_accuracy: selected.validation.accuracy as number }),
    },
  };
});
