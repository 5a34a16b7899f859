import fs from 'node:fs';
import path from 'node:path';
import type { Bert } from '../models/bert.ts';
import type { Gpt } from '../models/gpt.ts';
import type { LanguageModel } from '../models/language-model.ts';
import type { ModelSpec } from '../models/model-spec.ts';
import type { T5 } from '../models/t5.ts';
import { bertConfigFromHf, loadBertCheckpoint } from './bert-checkpoint.ts';
import { gpt2ConfigFromHf, loadGpt2Checkpoint } from './gpt2-checkpoint.ts';
import { SafeTensors } from './safetensors.ts';
import { loadT5Checkpoint, t5ConfigFromHf } from './t5-checkpoint.ts';

/** `model_type` in a Hugging Face config.json, per family we can load. */
const FAMILY_OF_MODEL_TYPE = { gpt2: 'gpt', bert: 'bert', t5: 't5' } as const;

/** A Hugging Face checkpoint directory: config.json, model.safetensors and tokenizer.json. */
export interface HfCheckpoint {
  dir: string;
  modelType: keyof typeof FAMILY_OF_MODEL_TYPE;
  config: Record<string, unknown>;
  tensors: SafeTensors;
  /** Path of the weights, for error messages. */
  weightsFile: string;
}

function readFile(dir: string, name: string): Buffer {
  const file = path.join(dir, name);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(
      `checkpoint ${dir}: cannot read ${name} (${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)})`,
    );
  }
}

/** Reads and checks a checkpoint directory; errors name the file and field or tensor. */
export function readHfCheckpoint(dir: string): HfCheckpoint {
  const configFile = path.join(dir, 'config.json');
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFile(dir, 'config.json').toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    if ((e as Error).message.startsWith('checkpoint ')) throw e;
    throw new Error(`${configFile}: not JSON (${(e as Error).message})`);
  }
  const modelType = config.model_type;
  if (typeof modelType !== 'string' || !(modelType in FAMILY_OF_MODEL_TYPE)) {
    throw new Error(
      `${configFile}: model_type ${JSON.stringify(modelType)} is not one this pipeline loads (${Object.keys(FAMILY_OF_MODEL_TYPE).join(', ')})`,
    );
  }
  const weightsFile = path.join(dir, 'model.safetensors');
  const bytes = readFile(dir, 'model.safetensors');
  const tensors = SafeTensors.parse(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), weightsFile);
  return { dir, modelType: modelType as HfCheckpoint['modelType'], config, tensors, weightsFile };
}

/** The checkpoint's tokenizer.json text. */
export function readCheckpointTokenizer(dir: string): string {
  return readFile(dir, 'tokenizer.json').toString('utf8');
}

/** The architecture family and sizes a checkpoint's config.json declares. */
export function checkpointSpec(ckpt: HfCheckpoint, numClasses: number, maxTargetLength: number): ModelSpec {
  const file = path.join(ckpt.dir, 'config.json');
  switch (ckpt.modelType) {
    case 'gpt2':
      return { family: 'gpt', config: gpt2ConfigFromHf(ckpt.config, numClasses, file) };
    case 'bert':
      return { family: 'bert', config: bertConfigFromHf(ckpt.config, numClasses, file) };
    case 't5':
      return { family: 't5', config: t5ConfigFromHf(ckpt.config, numClasses, maxTargetLength, file) };
  }
}

/** Copies the checkpoint's weights into a model built from `checkpointSpec`. */
export function loadCheckpointWeights(model: LanguageModel, ckpt: HfCheckpoint): void {
  if (model.family !== FAMILY_OF_MODEL_TYPE[ckpt.modelType])
    throw new Error(`checkpoint ${ckpt.dir} holds a ${ckpt.modelType} model, not a ${model.family} one`);
  if (model.family === 'gpt') loadGpt2Checkpoint(model as Gpt, ckpt.tensors, ckpt.weightsFile);
  else if (model.family === 'bert') loadBertCheckpoint(model as Bert, ckpt.tensors, ckpt.weightsFile);
  else loadT5Checkpoint(model as T5, ckpt.tensors, ckpt.weightsFile, ckpt.config);
}
