import { join } from 'node:path';
import {
  barWithErrorSpec,
  groupMetricSpec,
  lossCurveSpec,
  writeReport,
  type Report,
  type ReportCell,
  type ReportSection,
} from '../src/report/index.ts';
import { readSearches, searchSections, table1FromSearches } from '../src/report/search-sections.ts';
import { tableColumns } from '../src/report/table-columns.ts';
import { table1FromParams } from '../src/report/table1-from-params.ts';
import { timeToTarget } from '../src/report/time-to-target.ts';
import { defineStage, type JsonObject, type UpstreamStage } from '../src/stage-api.ts';
import { probabilityOfImprovement } from '../src/stats/index.ts';
import { distinct, diverged, mean, runsOf, std, type Run } from '../src/study/group-runs.ts';

interface Params extends JsonObject {
  title: string;
  /** Which naive Bayes smoothing the fairness comparison uses. */
  baseline_alpha: number;
  /** Most points drawn per loss curve (longer curves are thinned evenly). */
  curve_points: number;
}

/** The page beside report.html for measured figures, outside the hashed outputs. */
const MEASURED = 'report-measured';

const pct = (x: number) => (100 * x).toFixed(1);
const pm = (xs: number[], f: (x: number) => string) => `${f(mean(xs))} ± ${f(std(xs))}`;
const fix = (d: number) => (x: number) => x.toFixed(d);
const src = (label: string, input: UpstreamStage, output: string) => ({
  label: `${label} (${input.name} ${output})`,
  hash: input.outputHashes[output] ?? input.fingerprint,
});

/** The study's tables and figures, every number with the artifact it came from. */
export default defineStage<Params>(async (ctx) => {
  // Diverged fine-tunes have no model and no test metrics: they are listed on their own (below)
  // and every mean, test, curve and time is over the runs that trained to the end.
  const allEvals = runsOf(ctx.inputs, 'evaluate');
  const evals = allEvals.filter((r) => !diverged(r));
  const allFinetunes = runsOf(ctx.inputs, 'finetune');
  const finetunes = allFinetunes.filter((r) => !diverged(r));
  const allBalanced = runsOf(ctx.inputs, 'evaluate-balanced');
  const allBalancedFinetunes = runsOf(ctx.inputs, 'finetune-balanced');
  const stats = ctx.inputs.find((i) => i.group === 'stats');
  if (stats === undefined) throw new Error('report needs the stats stage as an input');
  const tukey = await stats.table('tukey');
  const anova = await stats.table('anova');
  const welch = await stats.table('welch');
  const bootstrap = await stats.table('bootstrap');
  const improvement = await stats.table('improvement');
  const searches = await readSearches(ctx.inputs);
  const threshold = evals[0]?.input.params.validation_loss_threshold;
  const archs = distinct(evals.map((r) => r.arch)).sort();
  const variantsOf = (arch: string, runs: Run[]) =>
    distinct(runs.filter((r) => r.arch === arch).map((r) => r.variant)).sort();
  const values = (arch: string, variant: string, metric: string) =>
    evals
      .filter((r) => r.arch === arch && r.variant === variant)
      .sort((a, b) => a.seed - b.seed)
      .map((r) => r.input.metrics[metric] ?? Number.NaN);
  // Measured figures (times, throughput) differ between runs on the same inputs: they go to the
  // measured page, outside the hashed outputs, so report.html and report.md are reproducible.
  const measuredOf = (arch: string, variant: string, name: string) =>
    finetunes
      .filter((r) => r.arch === arch && r.variant === variant)
      .sort((a, b) => a.seed - b.seed)
      .map((r) => r.input.measurements[name] ?? Number.NaN);
  const bootstrapText = (arch: string, variant: string) => {
    const i = (bootstrap.arch as string[]).findIndex(
      (a, k) => a === arch && bootstrap.variant![k] === variant && bootstrap.metric![k] === 'test_accuracy',
    );
    return i < 0 ? null : `${pct(Number(bootstrap.low![i]))} … ${pct(Number(bootstrap.high![i]))}`;
  };
  // Seconds per step of each seed's own run, times the step at which it reached the target.
  const secondsToTarget = (arch: string, variant: string) =>
    evals
      .filter((r) => r.arch === arch && r.variant === variant)
      .sort((a, b) => a.seed - b.seed)
      .map((r) => {
        const steps = stepsOrInfinity(r.input.metrics.steps_to_threshold ?? -1);
        const run = finetunes.find((f) => f.arch === arch && f.variant === variant && f.seed === r.seed);
        const perStep =
          (run?.input.measurements.train_seconds ?? Number.NaN) / (run?.input.metrics.steps ?? Number.NaN);
        return Number.isFinite(steps) ? steps * perStep : steps;
      });
  const sections: ReportSection[] = [];
  const measuredSections: ReportSection[] = [];
  const measurements: Record<string, number> = {};

  sections.push({
    kind: 'text',
    id: 'about',
    title: 'What was run',
    paragraphs: [
      `${evals.length} fine-tuned models were evaluated${allEvals.length > evals.length ? ` (${allEvals.length - evals.length} more diverged in training and have no model: see the table of diverged fine-tunes)` : ''}: ${archs.join(', ')} x ${distinct(evals.map((r) => r.variant)).length} optimizer variants x ${distinct(evals.map((r) => r.seed)).length} seeds. The backend each ran on is recorded with its run (\`pipeline show RUN\`).`,
      'Every number here is computed from stored artifacts and is reproduced byte for byte by `pipeline verify --rerun report`; each table and figure cites the hash of the artifacts it was read from, and `pipeline lineage HASH` traces any of them to the raw data.',
      `Training times and throughput are measurements: they differ between runs on the same inputs, so they are not in this report but on the measured page beside it (\`${MEASURED}.html\`, \`${MEASURED}.md\`), which the report stage writes each time it runs and which no hash covers; the same figures are in the store's \`measurements\` table.`,
    ],
  });

  sections.push({
    kind: 'text',
    id: 'methods',
    title: 'Which test each claim rests on',
    paragraphs: [
      '"The optimizers differ" (per architecture and metric): Welch\'s ANOVA, which does not assume the optimizers share one variance across seeds; the classic one-way ANOVA the paper used is shown beside it. Where an optimizer gave the same value on every seed, Welch\'s test is undefined and the report says so.',
      '"X beats Y": the probability of improvement P(X > Y) = U / (n m) from the Mann-Whitney U over seeds, which assumes nothing about the shape or spread of either; Tukey HSD (equal variances assumed) is listed for the pairs it rejects.',
      '"X scores about m": the mean over seeds with a 95 % percentile-bootstrap interval (a description of five seeds, not a test).',
      '"Balancing changes the variance across groups by X %": the per-run variance of group accuracies, fine-tuned models trained on each training split with the same optimizer and seed, and P(as-is > balanced) over those runs.',
      'Time to target: the median over seeds of the steps until the validation loss first reached the threshold; "not reached" is never turned into a number.',
    ],
  });

  const divergedRuns = [
    ...allFinetunes.filter(diverged).map((r) => ({ data: 'as-is', r })),
    ...allBalancedFinetunes.filter(diverged).map((r) => ({ data: 'balanced', r })),
  ];
  if (divergedRuns.length > 0)
    sections.push({
      kind: 'table',
      id: 'diverged-runs',
      title: 'Fine-tunes that diverged (a non-finite training loss), left out of every mean, test and figure below',
      columns: tableColumns({
        stage: 'stage',
        data: 'training data',
        arch: 'architecture',
        variant: 'optimizer',
        seed: 'seed',
        learning_rate: 'learning rate',
        step: 'step',
      }),
      rows: divergedRuns.map(({ data, r }) => ({
        stage: r.input.name,
        data,
        arch: r.arch,
        variant: r.variant,
        seed: r.seed,
        learning_rate: String(
          (r.input.params.optimizer as { learning_rate?: number } | undefined)?.learning_rate ?? '',
        ),
        step: r.input.metrics.diverged_step ?? null,
      })),
      notes: [
        `${divergedRuns.length} of ${allFinetunes.length + allBalancedFinetunes.length} fine-tunes diverged. Each is a result of its optimizer at the selected learning rate on that seed, so it is reported here rather than retried or hidden; the tables below give the number of seeds each figure rests on.`,
      ],
      sources: divergedRuns.map(({ r }) => ({ label: `metrics of ${r.input.name}`, hash: r.input.fingerprint })),
    });

  // Table 1: with a search, the space and what it selected (read from the select stages);
  // without one, the hyperparameters actually used, read from the fine-tunes' resolved params.
  if (searches.length > 0) sections.push(table1FromSearches(searches));
  const seen = new Map<string, Run>();
  for (const r of finetunes) if (!seen.has(r.variant)) seen.set(r.variant, r);
  const t1 = [...seen.entries()].sort(([a], [b]) => a.localeCompare(b));
  if (searches.length === 0)
    sections.push(
      table1FromParams(
        t1.map(([variant, r]) => ({ variant, params: r.input.params })),
        t1.map(([, r]) => ({ label: `params of ${r.input.name}`, hash: r.input.fingerprint })),
      ),
    );

  // A generative classifier (T5) can answer with text that is no label: say how often, since
  // that, not a wrong label, is what keeps its accuracy down when it has not learned the task.
  const noLabelNote = (arch: string, variants: string[]): string[] => {
    const rates = variants
      .map((v) => [v, mean(values(arch, v, 'test_no_label_rate'))] as const)
      .filter(([, r]) => r > 0);
    return rates.length === 0
      ? []
      : [
          `Share of test answers that were no label at all (mean over seeds): ${rates.map(([v, r]) => `${v} ${pct(r)} %`).join(', ')}.`,
        ];
  };
  for (const arch of archs) {
    // Every variant that ran has a row, even one whose every seed diverged: a missing row would
    // hide the outcome. The seeds column appears only where some run of the architecture diverged.
    const variants = variantsOf(arch, allEvals);
    const seedCount = (v: string) => {
      const runs = allEvals.filter((r) => r.arch === arch && r.variant === v);
      return { done: runs.filter((r) => !diverged(r)).length, all: runs.length };
    };
    const someDiverged = allEvals.some((r) => r.arch === arch && diverged(r));
    // The variants with at least one model: every comparison, chart and ablation is over these.
    const trained = variantsOf(arch, evals);
    const rows = variants.map((v): Record<string, ReportCell> => {
      const { done, all } = seedCount(v);
      const seeds: Record<string, ReportCell> = someDiverged
        ? { seeds: done === all ? String(all) : `${done} of ${all}` }
        : {};
      if (done === 0)
        return {
          variant: v,
          ...seeds,
          accuracy: 'diverged on every seed',
          f1: null,
          binary: null,
          ppl: null,
          interval: null,
          threshold: 'not reached',
        };
      return {
        variant: v,
        ...seeds,
        accuracy: pm(values(arch, v, 'test_accuracy'), pct),
        f1: pm(values(arch, v, 'test_macro_f1'), fix(3)),
        binary: fix(3)(mean(values(arch, v, 'test_binary_f1'))),
        ppl: perplexityText(values(arch, v, 'test_perplexity')),
        interval: bootstrapText(arch, v),
        threshold: timeToTarget(values(arch, v, 'steps_to_threshold').map(stepsOrInfinity), fix(0)),
      };
    });
    // Higher is better for every marked column.
    const best = (metric: string) => {
      const means = variants.map((v) => {
        const xs = values(arch, v, metric);
        return xs.length === 0 ? -Infinity : mean(xs);
      });
      return means.indexOf(Math.max(...means));
    };
    const significant = (tukey.arch as string[]).flatMap((a, i) =>
      a === arch && tukey.metric![i] === 'test_accuracy' && tukey.reject![i] === true
        ? [
            `${String(tukey.a![i])} vs ${String(tukey.b![i])}: difference ${pct(Number(tukey.mean_diff![i]))} points, p = ${Number(tukey.p![i]).toPrecision(3)}`,
          ]
        : [],
    );
    const aRow = (anova.arch as string[]).findIndex((a, i) => a === arch && anova.metric![i] === 'test_accuracy');
    const wRow = (welch.arch as string[]).findIndex((a, i) => a === arch && welch.metric![i] === 'test_accuracy');
    sections.push({
      kind: 'table',
      id: `table-2-${arch}`,
      title: `Table 2 (${arch}): test accuracy, F1, perplexity and convergence per optimizer (mean ± std over seeds)`,
      columns: tableColumns({
        variant: 'optimizer',
        ...(someDiverged ? { seeds: 'seeds trained to the end' } : {}),
        accuracy: 'accuracy %',
        interval: 'accuracy 95 % bootstrap interval',
        f1: 'macro F1',
        binary: 'spam F1',
        ppl: 'perplexity',
        threshold: `time to target: steps to validation loss ≤ ${String(threshold ?? 'the threshold')} (median over seeds)`,
      }),
      rows,
      marked: [
        { row: best('test_accuracy'), key: 'accuracy' },
        { row: best('test_macro_f1'), key: 'f1' },
        { row: best('test_binary_f1'), key: 'binary' },
      ],
      notes: [
        'Bold: best in its column. Training times are measured, not reproducible: they are on the measured page.',
        // The lowest perplexity was bolded once, and went to BERT under SGD, which learned nothing.
        'Perplexity is not bolded: fine-tuning trains the classifier, not the language model, so the lowest held-out perplexity marks the model that moved least from its pre-training (one that learned little wins it), not the best one.',
        `Time to target (AlgoPerf's measure): the training step at which the validation loss, scored after each epoch, first reached ${String(threshold ?? 'the threshold')} or less; the median over seeds, "not reached" when half the seeds or more never reached it (how many did is in brackets). Seconds to target are measured, so they are on the measured page.`,
        'Accuracy interval: percentile bootstrap of the mean over seeds (stats table bootstrap; the resample count and seed are its params). With a handful of seeds it describes their spread; it is not a test.',
        wRow < 0 || welch.p![wRow] === null
          ? `Do the optimizers differ in accuracy? Welch's ANOVA (no shared variance assumed): ${String(welch.note?.[wRow] ?? 'not run')}; the classic ANOVA below assumes one variance for all groups, so read its verdict with P(X > Y) (table below), which assumes nothing about the spreads.`
          : `Do the optimizers differ in accuracy? Welch's ANOVA (no shared variance assumed): F(${String(welch.df_between![wRow])}, ${Number(welch.df_within![wRow]).toFixed(1)}) = ${Number(welch.f![wRow]).toFixed(2)}, p = ${Number(welch.p![wRow]).toPrecision(3)}; this is the verdict the report states.`,
        aRow < 0 || anova.p![aRow] === null
          ? `Classic one-way ANOVA (equal variances assumed, as in the paper): ${String(anova.note?.[aRow] ?? 'not run')}`
          : `Classic one-way ANOVA (equal variances assumed, as in the paper): F(${String(anova.df_between![aRow])}, ${String(anova.df_within![aRow])}) = ${Number(anova.f![aRow]).toFixed(2)}, p = ${Number(anova.p![aRow]).toPrecision(3)}.`,
        significant.length === 0
          ? 'No pair of optimizers differs significantly in accuracy (Tukey HSD, which assumes equal variances).'
          : `Pairs that differ significantly in accuracy (Tukey HSD, which assumes equal variances): ${significant.join('; ')}.`,
        ...noLabelNote(arch, variants),
      ],
      sources: [
        src('ANOVA', stats, 'table:anova'),
        src("Welch's ANOVA", stats, 'table:welch'),
        src('Tukey HSD', stats, 'table:tukey'),
        src('means', stats, 'table:summary'),
        src('bootstrap intervals', stats, 'table:bootstrap'),
        src('evaluations', evals.find((r) => r.arch === arch)!.input, 'metrics'),
      ],
    });

    // P(row > column) for every ordered pair: the claim "X beats Y" rests on this, not on a mean.
    const prob = (x: string, y: string) => {
      const i = (improvement.arch as string[]).findIndex(
        (a, k) =>
          a === arch &&
          improvement.metric![k] === 'test_accuracy' &&
          improvement.x![k] === x &&
          improvement.y![k] === y,
      );
      return i < 0 ? null : Number(improvement.probability![i]).toFixed(2);
    };
    sections.push({
      kind: 'table',
      id: `improvement-${arch}`,
      title: `Probability of improvement (${arch}): P(row > column) in test accuracy over seeds`,
      columns: [{ key: 'variant', label: 'optimizer' }, ...trained.map((v) => ({ key: `p_${v}`, label: v }))],
      rows: trained.map((x) => ({
        variant: x,
        ...Object.fromEntries(trained.map((y) => [`p_${y}`, x === y ? null : prob(x, y)])),
      })),
      notes: [
        'P(X > Y) = U / (n m) from the Mann-Whitney U over the seeds of each, ties counting one half (as rliable computes it): the chance that a run of the row optimizer scores above a run of the column one. 0.5 is no difference; it assumes nothing about the shape or the spread of either, so it stays meaningful where a variant sits at one value for every seed.',
      ],
      sources: [src('P(X > Y)', stats, 'table:improvement')],
    });

    sections.push(...searchSections(arch, searches));

    const timed = variantsOf(arch, finetunes);
    const times = timed.map((v) => measuredOf(arch, v, 'train_seconds'));
    const rates = timed.map((v) => measuredOf(arch, v, 'tokens_per_second'));
    timed.forEach((v, i) => {
      measurements[`train_seconds_mean_${arch}_${v}`] = mean(times[i]!);
      measurements[`tokens_per_second_mean_${arch}_${v}`] = mean(rates[i]!);
    });
    const fastest = times.map((t) => -mean(t));
    measuredSections.push({
      kind: 'table',
      id: `times-${arch}`,
      title: `Training time and throughput per optimizer (${arch}, measured), mean ± std over seeds`,
      columns: tableColumns({
        variant: 'optimizer',
        time: 'train time (s)',
        rate: 'tokens/s',
        target: `time to target: seconds to validation loss ≤ ${String(threshold ?? 'the threshold')} (median over seeds)`,
      }),
      rows: timed.map((v, i) => ({
        variant: v,
        time: pm(times[i]!, fix(1)),
        rate: fix(0)(mean(rates[i]!)),
        target: timeToTarget(secondsToTarget(arch, v), (x) => `${x.toFixed(1)} s`),
      })),
      marked: timed.length === 0 ? [] : [{ row: fastest.indexOf(Math.max(...fastest)), key: 'time' }],
      notes: [
        'Bold: fastest. Measured while this run trained the models; other runs on the same inputs measure other times.',
        'Seconds to target: the step at which the validation loss first reached the threshold (main report, Table 2) times that run\'s measured training seconds per step; "not reached" when half the seeds or more never reached it.',
        stats.measurements[`train_seconds_anova_p_${arch}`] === undefined
          ? 'Training-time ANOVA: not testable.'
          : `Training-time ANOVA: F = ${stats.measurements[`train_seconds_anova_f_${arch}`]!.toFixed(2)}, p = ${stats.measurements[`train_seconds_anova_p_${arch}`]!.toPrecision(3)}.`,
      ],
      sources: finetunes
        .filter((r) => r.arch === arch && r.seed === Math.min(...finetunes.map((x) => x.seed)))
        .map((r) => ({ label: `measurements of ${r.input.name} (and its other seeds)`, hash: r.input.fingerprint })),
    });

    const ablation = ['proposed', 'proposed-no-lr', 'proposed-no-momentum'].filter((v) => trained.includes(v));
    if (ablation.length > 1 && ablation[0] === 'proposed') {
      const full = values(arch, 'proposed', 'test_accuracy');
      sections.push({
        kind: 'table',
        id: `table-3-${arch}`,
        title: `Table 3 (${arch}): ablation of the proposed optimizer`,
        columns: tableColumns({
          variant: 'variant',
          accuracy: 'accuracy %',
          diff: 'full minus variant (points)',
          p: 'Tukey p',
        }),
        rows: ablation.map((v) => {
          const i = (tukey.arch as string[]).findIndex(
            (a, k) =>
              a === arch &&
              tukey.metric![k] === 'test_accuracy' &&
              ((tukey.a![k] === 'proposed' && tukey.b![k] === v) || (tukey.b![k] === 'proposed' && tukey.a![k] === v)),
          );
          return {
            variant:
              v === 'proposed'
                ? 'full'
                : v === 'proposed-no-lr'
                  ? 'without adaptive learning rate'
                  : 'without adaptive momentum',
            accuracy: pm(values(arch, v, 'test_accuracy'), pct),
            diff: v === 'proposed' ? null : pct(mean(full) - mean(values(arch, v, 'test_accuracy'))),
            p: i < 0 ? null : Number(tukey.p![i]).toPrecision(3),
          };
        }),
        notes: ['The paper claims +1.0 and +1.2 points from the two components.'],
        sources: [src('Tukey HSD', stats, 'table:tukey')],
      });
    }

    // Convergence: training loss per step, mean and min-max band over seeds.
    const points = [];
    for (const v of variantsOf(arch, finetunes)) {
      const curves = await Promise.all(
        finetunes
          .filter((r) => r.arch === arch && r.variant === v)
          .map(async (r) => (await r.input.table('loss_curve')).loss as number[]),
      );
      const steps = Math.min(...curves.map((c) => c.length));
      const every = Math.max(1, Math.ceil(steps / ctx.params.curve_points));
      for (let s = 0; s < steps; s += every) {
        const at = curves.map((c) => c[s]!);
        points.push({ series: v, step: s + 1, mean: mean(at), low: Math.min(...at), high: Math.max(...at) });
      }
    }
    sections.push({
      kind: 'chart',
      id: `convergence-${arch}`,
      title: `Convergence (${arch}): training loss per step, mean and range over seeds`,
      spec: lossCurveSpec(points, { xTitle: 'step', yTitle: 'training loss', seriesTitle: 'optimizer' }),
      sources: finetunes
        .filter((r) => r.arch === arch && r.seed === Math.min(...finetunes.map((x) => x.seed)))
        .map((r) => src('loss curve', r.input, 'table:loss_curve')),
    });
    sections.push({
      kind: 'chart',
      id: `accuracy-${arch}`,
      title: `Test accuracy per optimizer (${arch}), mean ± std over seeds`,
      spec: barWithErrorSpec(
        trained.map((v) => ({
          label: v,
          mean: 100 * mean(values(arch, v, 'test_accuracy')),
          std: 100 * std(values(arch, v, 'test_accuracy')),
        })),
        { yTitle: 'accuracy %', xTitle: 'optimizer' },
      ),
      sources: [src('means', stats, 'table:summary')],
    });

    const groups = distinct(
      Object.keys(evals[0]?.input.metrics ?? {})
        .filter((k) => k.startsWith('test_accuracy_'))
        .map((k) => k.slice('test_accuracy_'.length)),
    ).sort();
    sections.push({
      kind: 'table',
      id: `groups-${arch}`,
      title: `Test accuracy per group of the data (${arch}), mean over seeds, %`,
      columns: [{ key: 'variant', label: 'optimizer' }, ...groups.map((g) => ({ key: g, label: g }))],
      rows: trained.map((v) => ({
        variant: v,
        ...Object.fromEntries(groups.map((g) => [g, pct(mean(values(arch, v, `test_accuracy_${g}`)))])),
      })),
      sources: evals
        .filter((r) => r.arch === arch)
        .slice(0, 1)
        .map((r) => ({
          label: `per-group metrics of ${r.input.name} and the other evaluate stages`,
          hash: r.input.fingerprint,
        })),
    });
  }

  // Fairness on the fine-tuned models: the same architecture, optimizer and seed fine-tuned on the
  // data as it is and on the balanced training split, scored on the same test split.
  const spreadOf = (accs: number[]) => {
    const m = mean(accs);
    return { variance: mean(accs.map((a) => (a - m) ** 2)), gap: Math.max(...accs) - Math.min(...accs) };
  };
  const groupAccuracies = (r: Run) =>
    Object.entries(r.input.metrics)
      .filter(([k]) => k.startsWith('test_accuracy_'))
      .sort(([x], [y]) => x.localeCompare(y));
  const balancedEvals = allBalanced.filter((r) => !diverged(r));
  const fineTunedFairness = balancedEvals.length > 0;
  if (fineTunedFairness) {
    const fairArchs = distinct(balancedEvals.map((r) => r.arch)).sort();
    const fairPoints = [];
    const rows = [];
    const claims: string[] = [];
    for (const arch of fairArchs) {
      const paired = balancedEvals
        .filter((r) => r.arch === arch)
        .sort((x, y) => x.variant.localeCompare(y.variant) || x.seed - y.seed)
        .flatMap((balanced) => {
          const asIs = allEvals.find(
            (r) => r.arch === arch && r.variant === balanced.variant && r.seed === balanced.seed,
          );
          if (asIs === undefined)
            throw new Error(
              `${balanced.input.name} has no as-is evaluation of the same architecture, variant and seed`,
            );
          // A pair compares one optimizer and seed on both training sets: without both models, no pair.
          return diverged(asIs) ? [] : [{ variant: balanced.variant, asIs, balanced }];
        });
      const label = (data: string) => (fairArchs.length > 1 ? `${arch} ${data}` : data);
      for (const [data, pick] of [
        ['as-is', (p: (typeof paired)[number]) => p.asIs],
        ['balanced', (p: (typeof paired)[number]) => p.balanced],
      ] as const) {
        const groups = groupAccuracies(pick(paired[0]!)).map(([k]) => k);
        for (const g of groups)
          fairPoints.push({
            variant: label(data),
            group: g.slice('test_accuracy_'.length),
            value: 100 * mean(paired.map((p) => pick(p).input.metrics[g] ?? Number.NaN)),
          });
      }
      const spreadOfRun = (r: Run) => spreadOf(groupAccuracies(r).map(([, v]) => v));
      for (const variant of distinct(paired.map((p) => p.variant))) {
        const runs = paired.filter((p) => p.variant === variant);
        const asIs = runs.map((p) => spreadOfRun(p.asIs));
        const balanced = runs.map((p) => spreadOfRun(p.balanced));
        const va = mean(asIs.map((x) => x.variance));
        const vb = mean(balanced.map((x) => x.variance));
        rows.push({
          arch,
          variant,
          seeds: runs.length,
          as_is: va.toExponential(3),
          balanced: vb.toExponential(3),
          change: va > 0 ? `${((100 * (vb - va)) / va).toFixed(1)} %` : null,
          p: probabilityOfImprovement(
            asIs.map((x) => x.variance),
            balanced.map((x) => x.variance),
          ).probability.toFixed(2),
          gap: `${pct(mean(asIs.map((x) => x.gap)))} → ${pct(mean(balanced.map((x) => x.gap)))}`,
        });
      }
      const all = paired.map((p) => ({
        asIs: spreadOfRun(p.asIs).variance,
        balanced: spreadOfRun(p.balanced).variance,
      }));
      const va = mean(all.map((x) => x.asIs));
      const vb = mean(all.map((x) => x.balanced));
      const pImp = probabilityOfImprovement(
        all.map((x) => x.asIs),
        all.map((x) => x.balanced),
      ).probability;
      claims.push(
        va > 0
          ? `${arch}: balancing the training data changes the variance of accuracy across groups by ${((100 * (vb - va)) / va).toFixed(1)} % (fine-tuned models, mean over ${all.length} runs: ${pairing(paired)}; the paper claims -15 %). The claim rests on the means of the per-run variances and on P(variance as-is > variance balanced) = ${pImp.toFixed(2)} over those runs (Mann-Whitney U / (n m); 0.5 is no difference).`
          : `${arch}: relative change not defined (no spread of accuracy across groups on the data as it is).`,
      );
    }
    const fairSources = fairArchs.flatMap((arch) =>
      [balancedEvals, evals].map((runs) => {
        const r = runs.find((x) => x.arch === arch)!;
        return { label: `per-group metrics of ${r.input.name} and its sibling evaluations`, hash: r.input.fingerprint };
      }),
    );
    sections.push({
      kind: 'chart',
      id: 'fairness-groups',
      title: `Figure 1: test accuracy per group of fine-tuned models (${fairArchs.join(', ')}), trained on the data as it is and balanced across groups, mean over optimizers and seeds`,
      spec: groupMetricSpec(fairPoints, { yTitle: 'accuracy %', xTitle: 'group', variantTitle: 'training data' }),
      sources: fairSources,
    });
    sections.push({
      kind: 'table',
      id: 'fairness-spread',
      title: 'Figure 2: spread of accuracy across groups, fine-tuned models, per optimizer (mean over seeds)',
      columns: tableColumns({
        arch: 'architecture',
        variant: 'optimizer',
        seeds: 'seeds',
        as_is: 'variance across groups, as-is',
        balanced: 'variance across groups, balanced',
        change: 'change',
        p: 'P(as-is > balanced)',
        gap: 'max - min (points), as-is → balanced',
      }),
      rows,
      notes: [
        ...claims,
        'Variance: of the test accuracies of the groups, per run (population variance), then averaged over seeds. Both branches use the same pre-trained model, tokenizer, optimizer settings, seeds, validation and test split; only the training split differs.',
      ],
      sources: fairSources,
    });
  }

  // The naive Bayes baseline: a secondary check on the same two training splits.
  const baselines = ctx.inputs.filter(
    (i) => i.group === 'baseline' && Number(i.item?.alpha) === ctx.params.baseline_alpha,
  );
  if (baselines.length > 0) {
    const fairPoints = [];
    const spread: Record<string, ReturnType<typeof spreadOf>> = {};
    for (const b of baselines.sort((x, y) => String(x.item?.data).localeCompare(String(y.item?.data)))) {
      const per = Object.entries(b.metrics).filter(([k]) => k.startsWith('test_accuracy_'));
      for (const [k, v] of per)
        fairPoints.push({ variant: String(b.item?.data), group: k.slice('test_accuracy_'.length), value: 100 * v });
      spread[String(b.item?.data)] = spreadOf(per.map(([, v]) => v));
    }
    const asIs = spread['as-is'];
    const balanced = spread.balanced;
    const change =
      asIs !== undefined && balanced !== undefined && asIs.variance > 0
        ? (balanced.variance - asIs.variance) / asIs.variance
        : null;
    const baselineTitle = fineTunedFairness ? 'Naive Bayes baseline' : 'Figure 1';
    sections.push({
      kind: 'chart',
      id: fineTunedFairness ? 'fairness-baseline-groups' : 'fairness-groups',
      title: `${baselineTitle}: test accuracy per group, trained on the data as it is and balanced across groups (naive Bayes, alpha ${ctx.params.baseline_alpha})`,
      spec: groupMetricSpec(fairPoints, { yTitle: 'accuracy %', xTitle: 'group', variantTitle: 'training data' }),
      sources: baselines.map((b) => ({ label: `metrics of ${b.name}`, hash: b.fingerprint })),
    });
    sections.push({
      kind: 'table',
      id: fineTunedFairness ? 'fairness-baseline-spread' : 'fairness-spread',
      title: `${fineTunedFairness ? 'Naive Bayes baseline' : 'Figure 2'}: spread of accuracy across groups`,
      columns: tableColumns({
        data: 'training data',
        variance: 'variance of group accuracy',
        gap: 'max - min (points)',
      }),
      rows: Object.entries(spread).map(([data, s]) => ({
        data,
        variance: s.variance.toExponential(3),
        gap: pct(s.gap),
      })),
      notes: [
        change === null
          ? 'Relative change not defined (no spread on the data as it is).'
          : `Relative change in variance from balancing (naive Bayes, one model per training split, so no test applies): ${(100 * change).toFixed(1)}% (the paper claims -15%).`,
      ],
      sources: baselines.map((b) => ({ label: `metrics of ${b.name}`, hash: b.fingerprint })),
    });
  }

  const report: Report = {
    title: ctx.params.title,
    subtitle: 'Generated by `pipeline repro`; every table and figure names its sources.',
    sections,
  };
  const measured: Report = {
    title: `Measured: ${ctx.params.title}`,
    subtitle: `Measurements of the run that computed the results in \`report.html\`: they differ from run to run, no hash covers them, and this page is written anew each time the report stage runs (\`pipeline query "SELECT * FROM measurements"\` lists them all).`,
    sections: measuredSections,
  };
  const outDir = join(ctx.root, 'artifacts');
  await writeReport(report, outDir, 'report');
  // Not a declared out: declared outs are hashed, and these figures must not be.
  await writeReport(measured, outDir, MEASURED);
  ctx.provenance('measured_page', `artifacts/${MEASURED}.html`);
  return { json: { sections: sections.map((s) => s.id) }, measurements };
});

/** How many optimizer variants and seeds a set of paired runs spans, and how many pairs a divergence took out. */
function pairing(paired: { variant: string; balanced: { seed: number } }[]): string {
  const variants = distinct(paired.map((p) => p.variant)).length;
  const seeds = distinct(paired.map((p) => p.balanced.seed)).length;
  const missing = variants * seeds - paired.length;
  return `${variants} optimizer variants x ${seeds} seeds${missing > 0 ? `, less ${missing} pair${missing === 1 ? '' : 's'} whose fine-tune diverged` : ''}`;
}

/**
 * The mean perplexity over seeds; where a seed's overflowed (a language-model head that gives
 * some test token probability 0), no mean is meaningful, and the cell says on how many seeds.
 */
function perplexityText(xs: number[]): string {
  const infinite = xs.filter((x) => !Number.isFinite(x)).length;
  return infinite === 0 ? fix(1)(mean(xs)) : `infinite on ${infinite} of ${xs.length} seeds`;
}

/** evaluate's steps_to_threshold, with its -1 ("never reached") as Infinity. */
function stepsOrInfinity(step: number): number {
  return Number.isFinite(step) && step >= 0 ? step : Number.POSITIVE_INFINITY;
}
