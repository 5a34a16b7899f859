import type { OptimizerConfig, ScheduleConfig } from '../ml/optimizers/config.ts';
import type { JsonObject } from '../stage-api.ts';

/** An optimizer as pipeline.yaml declares it. */
export interface OptimizerParams extends JsonObject {
  name: string;
  learning_rate: number;
}

const num = (o: JsonObject, key: string): number | undefined => {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number') throw new Error(`optimizer setting "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
};

const KNOWN = new Set([
  'name',
  'learning_rate',
  'weight_decay',
  'clip_norm',
  'schedule',
  'momentum',
  'nesterov',
  'beta1',
  'beta2',
  'epsilon',
  'rho',
  'centered',
  'adaptive_lr',
  'adaptive_momentum',
  'max_beta1',
]);

function schedule(s: unknown): ScheduleConfig | undefined {
  if (s === undefined || s === null) return undefined;
  const o = s as JsonObject;
  const warmupSteps = num(o, 'warmup_steps');
  switch (o.kind) {
    case 'constant':
      return { kind: 'constant', ...(warmupSteps === undefined ? {} : { warmupSteps }) };
    case 'linear':
    case 'cosine':
      return {
        kind: o.kind,
        ...(warmupSteps === undefined ? {} : { warmupSteps }),
        ...(num(o, 'min_ratio') === undefined ? {} : { minRatio: num(o, 'min_ratio')! }),
      };
    case 'cyclical':
      return {
        kind: 'cyclical',
        ...(warmupSteps === undefined ? {} : { warmupSteps }),
        maxLearningRate: num(o, 'max_learning_rate')!,
        halfCycleSteps: num(o, 'half_cycle_steps')!,
      };
    default:
      throw new Error(`schedule kind must be constant, linear, cosine or cyclical, got ${JSON.stringify(o.kind)}`);
  }
}

/** pipeline.yaml's optimizer settings -> the training library's config, rejecting unknown keys. */
export function optimizerConfig(p: OptimizerParams): OptimizerConfig {
  for (const key of Object.keys(p)) if (!KNOWN.has(key)) throw new Error(`unknown optimizer setting "${key}"`);
  const common = {
    learningRate: num(p, 'learning_rate')!,
    ...(num(p, 'weight_decay') === undefined ? {} : { weightDecay: num(p, 'weight_decay')! }),
    ...(num(p, 'clip_norm') === undefined ? {} : { clipNorm: num(p, 'clip_norm')! }),
    ...(p.schedule === undefined ? {} : { schedule: schedule(p.schedule)! }),
  };
  const opt = <K extends string>(key: string, as: K) =>
    num(p, key) === undefined ? {} : ({ [as]: num(p, key)! } as Record<K, number>);
  switch (p.name) {
    case 'sgd':
      return {
        name: 'sgd',
        ...common,
        ...opt('momentum', 'momentum'),
        ...(p.nesterov === true ? { nesterov: true } : {}),
      };
    case 'adam':
    case 'adamw':
      return {
        name: p.name,
        ...common,
        ...opt('beta1', 'beta1'),
        ...opt('beta2', 'beta2'),
        ...opt('epsilon', 'epsilon'),
      };
    case 'rmsprop':
      return {
        name: 'rmsprop',
        ...common,
        ...opt('rho', 'rho'),
        ...opt('momentum', 'momentum'),
        ...opt('epsilon', 'epsilon'),
        ...(p.centered === true ? { centered: true } : {}),
      };
    case 'proposed':
      return {
        name: 'proposed',
        ...common,
        ...opt('beta1', 'beta1'),
        ...opt('beta2', 'beta2'),
        ...opt('epsilon', 'epsilon'),
        ...opt('max_beta1', 'maxBeta1'),
        adaptiveLr: p.adaptive_lr !== false,
        adaptiveMomentum: p.adaptive_momentum !== false,
      };
    default:
      throw new Error(`unknown optimizer "${p.name}" (use sgd, adam, adamw, rmsprop or proposed)`);
  }
}
