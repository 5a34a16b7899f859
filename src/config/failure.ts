import type { Diagnostic } from './diagnostic.ts';

/**
 * Every way a pipeline definition can be wrong. One discriminated union so a caller can switch
 * on `reason` exhaustively, and every member carries a diagnostic that can point into the file.
 */
export type ConfigFailure =
  | { reason: 'file-not-found'; diagnostic: Diagnostic }
  | { reason: 'invalid-yaml'; diagnostic: Diagnostic }
  | { reason: 'unknown-key'; key: string; suggestion?: string; diagnostic: Diagnostic }
  | { reason: 'invalid-value'; diagnostic: Diagnostic }
  | { reason: 'undefined-variable'; variable: string; diagnostic: Diagnostic }
  | { reason: 'duplicate-stage'; stage: string; diagnostic: Diagnostic }
  | { reason: 'missing-dependency'; dependency: string; diagnostic: Diagnostic }
  | { reason: 'cycle'; cycle: string[]; diagnostic: Diagnostic }
  | { reason: 'reference-cycle'; cycle: string[]; diagnostic: Diagnostic }
  | { reason: 'path-outside-project'; path: string; diagnostic: Diagnostic }
  | { reason: 'unknown-target'; target: string; diagnostic: Diagnostic };

/** Exit status for a definition the user must fix, as opposed to a stage that failed (1). */
export const CONFIG_EXIT_CODE = 2;
