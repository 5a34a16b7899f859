import type { Cell } from '../../stage-api.ts';

/** The `trials` table's columns (INTERFACES.md section 2), one per searched setting in between. */
export function emptyTrialTable(searched: readonly string[]): Record<string, Cell[]> {
  const columns = [
    'trial',
    'rung',
    'epochs',
    ...searched,
    'validation_accuracy',
    'validation_loss',
    'validation_macro_f1',
    'diverged',
    'majority',
    'promoted',
    'table1',
  ];
  return Object.fromEntries(columns.map((c) => [c, []]));
}
