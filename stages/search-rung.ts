import { parseParamSubset } from '../src/ml/models/language-model.ts';
import type { ModelSpec } from '../src/ml/models/model-spec.ts';
import { defineStage, type Cell, type JsonObject, type StageOutputs, type TableData } from '../src/stage-api.ts';
import { studyBackend } from '../src/study/backend.ts';
import { rankTrials } from '../src/study/search/ranking.ts';
import { rungSteps } from '../src/study/search/rungs.ts';
import { type SearchParams, searchPlan } from '../src/study/search/search-params.ts';
import { emptyTrialTable } from '../src/study/search/trial-table.ts';
import { type TrialStart, runTrial } from '../src/study/search/trial.ts';
import { trialValues } from '../src/study/search/space.ts';
import { inputOf, readTokenized } from '../src/study/study-inputs.ts';

interface Params extends SearchParams {
  /** 1-based rung of `rungs` this stage trains; rung r > 1 continues the promoted trials of rung r - 1. */
  rung: number;
  batch_size: number;
  trainable: string;
  backend: string;
}

interface Row {
  trial: number;
  values: Record<string, number>;
  start: TrialStart;
}

/**
 * One rung of successive halving for one architecture x optimizer variant. Trials train on the
 * training split and are scored on the validation split; the test split is never read. Rung 1
 * draws the trials (Table 1's setting and seeded Halton points); each later rung continues the
 * trials the previous one promoted from their saved weights and optimizer state, so the two
 * rungs together compute exactly what one uninterrupted run of the last budget would.
 */
export default defineStage<Params>(async (ctx): Promise<StageOutputs> => {
  const plan = searchPlan(ctx.params);
  const { rung } = ctx.params;
  if (!(Number.isInteger(rung) && rung >= 1 && rung <= plan.rungs.length))
    throw new Error(`rung must be 1..${plan.rungs.length} (the declared rungs), got ${rung}`);
  const names = Object.keys(plan.space);
  const table = emptyTrialTable(names);
  const curves: Record<string, Cell[]> = { trial: [], step: [], loss: [] };
  if (plan.trials === 0) {
    ctx.log('search.trials is 0: no search, Table 1 values are used as declared');
    return { tables: { trials: table, loss_curves: curves }, metrics: { trials: 0, train_steps: 0, diverged: 0 } };
  }
  const backend = await studyBackend((k, v) => ctx.provenance(k, v), ctx.params.backend);
  const pretrain = inputOf(ctx.inputs, 'pretrain');
  const spec = (await pretrain.json('spec')) as unknown as ModelSpec;
  const pretrained = await pretrain.blob('weights');
  const tokenized = await readTokenized(inputOf(ctx.inputs, 'tokenize'), spec.family);
  // Only these two splits are read: the selection must not see the test split.
  const train = await tokenized.split('train');
  const validation = await tokenized.split('validation');
  const stepsPerEpoch = Math.ceil(train.ids.length / ctx.params.batch_size);
  const totalSteps = rungSteps(plan.rungs.at(-1)!, stepsPerEpoch);
  const toStep = rungSteps(plan.rungs[rung - 1]!, stepsPerEpoch);
  const last = rung === plan.rungs.length;

  let rows: Row[];
  if (rung === 1) {
    rows = trialValues(plan.space, plan.trials, plan.seed, ctx.params.optimizer, `search of ${ctx.params.variant}`).map(
      (values, trial) => ({ trial, values, start: { fromStep: 0 } }),
    );
  } else {
    const previous = inputOf(ctx.inputs, `search-rung${rung - 1}`);
    const prev: TableData = await previous.table('trials');
    const fromStep = rungSteps(plan.rungs[rung - 2]!, stepsPerEpoch);
    rows = [];
    for (let i = 0; i < prev.trial!.length; i++) {
      if (prev.promoted![i] !== true) continue;
      const trial = prev.trial![i] as number;
      rows.push({
        trial,
        values: Object.fromEntries(names.map((n) => [n, prev[n]![i] as number])),
        start: {
          fromStep,
          weights: await previous.blob(`weights-${trial}`),
          optimizerState: await previous.blob(`optimizer-${trial}`),
        },
      });
    }
  }

  const outcomes = [];
  let trainSteps = 0;
  for (const [done, row] of rows.entries()) {
    const outcome = await runTrial(
      {
        spec,
        tokenized,
        pretrained,
        train: { ids: train.ids, labels: train.labels },
        validation: { ids: validation.ids, labels: validation.labels },
        optimizer: { ...ctx.params.optimizer, ...row.values },
        seed: plan.seed,
        batchSize: ctx.params.batch_size,
        subset: parseParamSubset(ctx.params.trainable),
        totalSteps,
        toStep,
        keepState: !last,
        signal: ctx.signal,
        onProgress: (p) =>
          p.phase === 'train' &&
          ctx.progress({
            done: done * (toStep - row.start.fromStep) + p.step - row.start.fromStep,
            total: rows.length * (toStep - row.start.fromStep),
            note: `trial ${row.trial} step ${p.step}/${toStep} loss ${p.loss.toFixed(3)}`,
          }),
      },
      row.start,
    );
    trainSteps += (outcome.divergedAt ?? toStep) - row.start.fromStep;
    outcomes.push({ row, outcome });
    const v = outcome.validation;
    ctx.log(
      `trial ${row.trial} ${JSON.stringify(row.values)}: ` +
        (v === undefined ? `diverged at step ${outcome.divergedAt}` : `validation accuracy ${v.accuracy.toFixed(3)}`),
    );
  }
  const scores = outcomes.map(({ row, outcome: { validation: v } }) => ({
    trial: row.trial,
    diverged: v === undefined,
    validation_accuracy: v?.accuracy ?? null,
    validation_loss: v?.loss ?? null,
    validation_macro_f1: v?.macroF1 ?? null,
  }));
  // Before the last rung the best `promote` continue; at the last rung the best is the selection.
  const promoted = new Set(
    rankTrials(scores, plan.metric)
      .slice(0, last ? 1 : plan.rungs[rung - 1]!.promote)
      .map((s) => s.trial),
  );
  const blobs: Record<string, Uint8Array> = {};
  for (const [i, { row, outcome }] of outcomes.entries()) {
    const s = scores[i]!;
    const v = outcome.validation;
    table.trial!.push(row.trial);
    table.rung!.push(rung);
    table.epochs!.push(toStep / stepsPerEpoch);
    for (const n of names) table[n]!.push(row.values[n]!);
    table.validation_accuracy!.push(s.validation_accuracy);
    table.validation_loss!.push(s.validation_loss);
    table.validation_macro_f1!.push(s.validation_macro_f1);
    table.diverged!.push(s.diverged);
    table.majority!.push(v === undefined ? false : new Set(v.predictions).size <= 1);
    table.promoted!.push(promoted.has(row.trial));
    table.table1!.push(row.trial === 0);
    outcome.lossCurve.forEach((loss, k) => {
      curves.trial!.push(row.trial);
      curves.step!.push(row.start.fromStep + k + 1);
      curves.loss!.push(loss);
    });
    // Only survivors' state is kept: it is what the next rung continues from.
    if (promoted.has(row.trial) && !last) {
      blobs[`weights-${row.trial}`] = outcome.weights!;
      blobs[`optimizer-${row.trial}`] = outcome.optimizerState!;
    }
  }
  ctx.log(
    `${backend.name}: rung ${rung} trained ${rows.length} trials to step ${toStep} of ${totalSteps} ` +
      `(${trainSteps} updates); promoted ${[...promoted].join(', ') || 'none'}`,
  );
  return {
    tables: { trials: table, loss_curves: curves },
    blobs,
    json: {
      rung: {
        rung,
        from_step: rows[0]?.start.fromStep ?? 0,
        to_step: toStep,
        total_steps: totalSteps,
        steps_per_epoch: stepsPerEpoch,
        trained: rows.map((r) => r.trial),
        promoted: [...promoted],
      } satisfies JsonObject,
    },
    metrics: { trials: rows.length, train_steps: trainSteps, diverged: scores.filter((s) => s.diverged).length },
  };
});
