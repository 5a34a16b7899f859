import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng.ts';
import type { ParamSubset } from './language-model.ts';

// tfjs variable names are global to the engine; a per-instance prefix lets several models
// coexist (two seeds in one test), while the map keeps names stable for weight files.
let instances = 0;

/**
 * A model's parameters by stable name, with the seeded initialisers the models share: each
 * tensor's values come from a seed derived from (seed, tensor name), so adding a parameter does
 * not change the others' initial values.
 */
export class Parameters {
  readonly map = new Map<string, tf.Variable>();
  private readonly prefix: string;

  /** `model` names the architecture in errors. */
  constructor(private readonly model: string) {
    this.prefix = `${model.toLowerCase()}${++instances}/`;
  }

  /** Takes ownership of `value` (disposed once copied into the variable). */
  add(name: string, value: tf.Tensor): void {
    this.map.set(name, tf.variable(value, true, this.prefix + name));
    value.dispose();
  }

  /** Normal(0, std) truncated at two standard deviations. */
  normal(name: string, shape: number[], std: number, init: Rng): void {
    this.add(name, tf.truncatedNormal(shape, 0, std, 'float32', init.fork(name).tfSeed()));
  }

  constant(name: string, shape: number[], value: number): void {
    this.add(name, tf.fill(shape, value, 'float32'));
  }

  get(name: string): tf.Variable {
    const found = this.map.get(name);
    if (found === undefined) throw new Error(`${this.model} has no parameter "${name}"`);
    return found;
  }

  /** The variables whose names `keep` accepts, in name order (a fixed order for optimizers). */
  select(keep: (name: string) => boolean): tf.Variable[] {
    return [...this.map.keys()]
      .sort()
      .filter(keep)
      .map((n) => this.map.get(n)!);
  }

  dispose(): void {
    for (const v of this.map.values()) v.dispose();
    this.map.clear();
  }
}

/** Number of scalar parameters in a list of variables. */
export const countParameters = (variables: readonly tf.Variable[]): number =>
  variables.reduce((sum, v) => sum + v.size, 0);

/** Where a model of one stack of blocks keeps what a subset selects, by parameter-name prefix. */
export interface StackLayout {
  /** Blocks in the stack. */
  layers: number;
  /** The classification head: all that `head` trains (`cls/`). */
  head: string;
  /** What `last-N` trains besides the head and the blocks: final norms, a pooler (`lnf/`). */
  top: string;
  /** Block i's parameters are named `${block}${i}/...` (`h` for `h0/`, `h1/`, ...). */
  block: string;
}

/** Which names a subset trains in a model of one stack of blocks (GPT, BERT). */
export function stackSubset(subset: ParamSubset, layout: StackLayout): (name: string) => boolean {
  const head = (name: string): boolean => name.startsWith(layout.head);
  if (subset === 'all') return () => true;
  if (subset === 'head') return head;
  const n = Number(subset.slice('last-'.length));
  if (!Number.isInteger(n) || n < 1) throw new Error(`bad parameter subset "${subset}"`);
  if (n > layout.layers)
    throw new Error(`parameter subset "${subset}" asks for ${n} blocks but the model has ${layout.layers}`);
  const first = layout.layers - n;
  const blockName = new RegExp(`^${layout.block}(\\d+)/`);
  return (name) => {
    if (head(name) || name.startsWith(layout.top)) return true;
    const block = blockName.exec(name);
    return block !== null && Number(block[1]) >= first;
  };
}
