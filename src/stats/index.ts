/**
 * Small statistics library whose results agree with SciPy (see
 * test/fixtures/make-stats-reference.py and make-robust-stats-reference.py for the reference values).
 */
export { StatsInputError } from './errors.ts';
export { oneWayAnova, type AnovaResult } from './anova.ts';
export { tukeyHsd, type TukeyOptions, type TukeyPair } from './tukey.ts';
export { welchAnova, type WelchAnovaResult } from './welch-anova.ts';
export { probabilityOfImprovement, type ImprovementResult } from './probability-of-improvement.ts';
export { bootstrapMeanInterval, type BootstrapInterval, type BootstrapOptions } from './bootstrap.ts';
