/**
 * Small statistics library whose results agree with SciPy (see
 * test/fixtures/make-stats-reference.py for the reference values).
 */
export { StatsInputError } from './errors.ts';
export { oneWayAnova, type AnovaResult } from './anova.ts';
export { tukeyHsd, type TukeyOptions, type TukeyPair } from './tukey.ts';
