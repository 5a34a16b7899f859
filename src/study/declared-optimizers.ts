import { join } from 'node:path';
import { loadStageSpecs } from '../config/load-project.ts';
import type { OptimizerConfig } from '../ml/optimizers/config.ts';
import { optimizerConfig, type OptimizerParams } from './optimizer-params.ts';

/**
 * The optimizer of every fine-tuning variant as the study declares it (pipeline.yaml's Table 1,
 * or a profile's setting such as profiles/section82.yaml), read through the config loader from
 * the finetune stages' resolved params, so that the bench and the tests train with exactly what
 * the study runs and pipeline.yaml stays the one place the values are written. Keyed by variant
 * (`sgd`, `adamw`, `proposed-no-lr`, ...).
 */
export async function declaredOptimizers(root: string, profile?: string): Promise<Map<string, OptimizerConfig>> {
  const file = join(root, 'pipeline.yaml');
  const project = await loadStageSpecs(root, file, profile === undefined ? {} : { profile });
  if (!project.ok)
    throw new Error(`${file} does not load: ${project.error.map((f) => f.diagnostic.message).join('; ')}`);
  const optimizers = new Map<string, OptimizerConfig>();
  for (const spec of project.value.specs) {
    if (spec.group !== 'finetune') continue;
    const variant = String(spec.params.variant);
    if (!optimizers.has(variant)) optimizers.set(variant, optimizerConfig(spec.params.optimizer as OptimizerParams));
  }
  if (optimizers.size === 0) throw new Error(`${file} has no finetune stages to read the optimizers from`);
  return optimizers;
}
