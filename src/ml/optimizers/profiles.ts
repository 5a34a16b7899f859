import type { OptimizerConfig } from './config.ts';

/**
 * The paper's two hyperparameter settings as optimizer configs, for pipeline params to start from.
 *
 * `table1` is the paper's Table 1. Its RMSProp row says "0.9 / 0.999" under "beta1 / momentum"
 * and "beta2". We read 0.9 as RMSProp's decay rho (the value Hinton proposed and Keras's default)
 * and use no momentum; 0.999 has no counterpart in momentum-free RMSProp and is not used. The
 * literal column reading (momentum 0.9, rho 0.999) remains expressible in a config. Adam and the
 * proposed optimizer are not in Table 1 but are compared in Table 2: they take AdamW's settings,
 * so that the comparison isolates what differs (decoupled decay; the two adaptive components).
 *
 * `section82` is the paper's second setting: "SGD-based" optimizers at 0.001 with momentum 0.99
 * and Adam at 1e-4 (0.9, 0.999); AdamW and the proposed optimizer take Adam's rate so that the
 * Adam family again differs only in its update rule. RMSProp keeps Table 1's row.
 */
export const OPTIMIZER_PROFILES: Record<'table1' | 'section82', Record<string, OptimizerConfig>> = {
  table1: {
    sgd: { name: 'sgd', learningRate: 0.01, momentum: 0.9 },
    adam: { name: 'adam', learningRate: 5e-5, beta1: 0.9, beta2: 0.999 },
    adamw: { name: 'adamw', learningRate: 5e-5, beta1: 0.9, beta2: 0.999, weightDecay: 0.01 },
    rmsprop: { name: 'rmsprop', learningRate: 0.001, rho: 0.9, momentum: 0 },
    proposed: { name: 'proposed', learningRate: 5e-5, beta1: 0.9, beta2: 0.999, weightDecay: 0.01, adaptiveLr: true, adaptiveMomentum: true },
  },
  section82: {
    sgd: { name: 'sgd', learningRate: 0.001, momentum: 0.99 },
    adam: { name: 'adam', learningRate: 1e-4, beta1: 0.9, beta2: 0.999 },
    adamw: { name: 'adamw', learningRate: 1e-4, beta1: 0.9, beta2: 0.999, weightDecay: 0.01 },
    rmsprop: { name: 'rmsprop', learningRate: 0.001, rho: 0.9, momentum: 0 },
    proposed: { name: 'proposed', learningRate: 1e-4, beta1: 0.9, beta2: 0.999, weightDecay: 0.01, adaptiveLr: true, adaptiveMomentum: true },
  },
};
