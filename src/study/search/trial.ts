import type { ClassifierEvaluation, LabelledSequences } from '../../ml/evaluate.ts';
import type { ParamSubset } from '../../ml/models/language-model.ts';
import { instantiate, type ModelSpec } from '../../ml/models/model-spec.ts';
import { optimizerConfig, type OptimizerParams } from '../optimizer-params.ts';
import { TrainingDiverged, trainClassifier, type TrainProgress } from '../../ml/train.ts';
import { loadWeights, saveWeights } from '../../ml/weights.ts';
import type { TokenizedInputs } from '../study-inputs.ts';

/** Where a trial starts this rung: the pre-trained model, or its own state after the last rung. */
export interface TrialStart {
  fromStep: number;
  /** Weights and optimizer state saved at `fromStep`; absent at step 0. */
  weights?: Uint8Array;
  optimizerState?: Uint8Array;
}

export interface TrialRun {
  spec: ModelSpec;
  tokenized: TokenizedInputs;
  pretrained: Uint8Array;
  train: LabelledSequences;
  validation: LabelledSequences;
  optimizer: OptimizerParams;
  /** Shuffle, dropout and classification-head seed: the same for every trial of a search. */
  seed: number;
  batchSize: number;
  subset: ParamSubset;
  /** Length of the whole search run in updates (the last rung's budget): the schedule's length. */
  totalSteps: number;
  toStep: number;
  /** Keep weights and optimizer state at `toStep` (for a trial that may be promoted). */
  keepState: boolean;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
}

export interface TrialOutcome {
  /** The validation scores at `toStep`, or undefined when training or validation diverged. */
  validation?: ClassifierEvaluation;
  /** Set when it diverged: the update whose loss was not finite (or `toStep` for validation). */
  divergedAt?: number;
  lossCurve: number[];
  weights?: Uint8Array;
  optimizerState?: Uint8Array;
}

/**
 * Trains one trial from `start` up to `run.toStep` updates. A training loss or validation loss
 * that is not finite is an outcome of the trial (recorded as diverged), not a failure of the stage.
 */
export async function runTrial(run: TrialRun, start: TrialStart): Promise<TrialOutcome> {
  const model = instantiate(run.spec, run.tokenized, run.seed);
  try {
    loadWeights(model.variables, run.pretrained, { skip: (name) => name.startsWith('cls/') });
    // A continued trial takes everything it trained, its classification head included.
    if (start.weights !== undefined) loadWeights(model.variables, start.weights);
    const epochs = Math.ceil(run.totalSteps / Math.ceil(run.train.ids.length / run.batchSize));
    let curve;
    try {
      curve = await trainClassifier(model, run.train, run.validation, {
        batchSize: run.batchSize,
        epochs,
        optimizer: optimizerConfig(run.optimizer),
        seed: run.seed,
        subset: run.subset,
        padId: run.tokenized.special.pad,
        labelNames: run.tokenized.labelNames,
        signal: run.signal,
        onProgress: run.onProgress,
        range: {
          fromStep: start.fromStep,
          toStep: run.toStep,
          totalSteps: run.totalSteps,
          ...(start.optimizerState === undefined ? {} : { optimizerState: start.optimizerState }),
          saveOptimizerState: run.keepState,
        },
      });
    } catch (e) {
      if (e instanceof TrainingDiverged) return { divergedAt: e.step, lossCurve: [] };
      throw e;
    }
    const validation = curve.epochs.at(-1)!.validation;
    if (!Number.isFinite(validation.loss)) return { divergedAt: run.toStep, lossCurve: curve.lossCurve };
    return {
      validation,
      lossCurve: curve.lossCurve,
      ...(run.keepState ? { weights: await saveWeights(model.variables), optimizerState: curve.optimizerState! } : {}),
    };
  } finally {
    model.dispose();
  }
}
