import { z } from 'zod';

/**
 * The one definition of pipeline.yaml. Validation, the TypeScript types and the published JSON
 * Schema (schema/pipeline.schema.json, for editors) are all derived from it.
 */

// Letters beyond ASCII are allowed (stage names in the researcher's own language) as a plain
// code-point range, because JSON Schema validators in editors do not all understand \p{L}.
export const STAGE_NAME = /^[A-Za-z0-9_\u00C0-\uFFFF][A-Za-z0-9_.\u00C0-\uFFFF-]*$/;

/** A matrix larger than this is almost certainly a mistake (and would exhaust memory to expand). */
export const MAX_MATRIX_STAGES = 10_000;

const jsonValue = z.json();

const stringList = z.array(z.string().min(1));

const matrixAxis = z
  .union([z.array(z.union([z.string(), z.number(), z.boolean()])).min(1), z.string()])
  .describe('The values of one matrix axis, or a `${var}` naming a list in `vars:`.');

export const stageSchema = z
  .strictObject({
    desc: z.string().optional().describe('What the stage does, for `pipeline dag` and `show`.'),
    cmd: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe('Shell command(s) run with bash in the project root. `${...}` values are shell-quoted.'),
    uses: z
      .string()
      .min(1)
      .optional()
      .describe('A TypeScript/JavaScript module whose default export is the stage function.'),
    deps: stringList
      .optional()
      .describe('Inputs: a stage name, a matrix name (all its expansions), an expanded name, or a file/directory path.'),
    params: z
      .record(z.string(), jsonValue)
      .optional()
      .describe('Parameters passed to the stage; usable as `${name}` in cmd, deps and outs.'),
    outs: stringList.optional().describe('Files the stage writes; stored, and restored on a cache hit.'),
    metrics: stringList
      .optional()
      .describe('JSON files the stage writes whose numeric values are metrics (stored like outs).'),
    matrix: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), matrixAxis)
      .optional()
      .describe('Expands the stage into one stage per combination: `name@v1-v2`; values are `${item.key}`.'),
    timeout: z
      .union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'expected a duration such as 90s, 10m or 2h')])
      .optional()
      .describe('Stop the stage (and every process it started) after this long: seconds, or a duration such as 90s, 10m, 2h.'),
    always_changed: z
      .boolean()
      .optional()
      .describe('Run on every repro even when the fingerprint is unchanged (for non-deterministic inputs).'),
  })
  .describe('A stage: exactly one of `cmd` or `uses`.');

export const pipelineSchema = z
  .strictObject({
    $schema: z.string().optional(),
    vars: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), jsonValue).optional().describe('Values usable as `${name}`.'),
    stages: z.record(z.string().regex(STAGE_NAME), stageSchema).describe('The stages, by name.'),
  })
  .describe('pipeline.yaml: a content-hashed pipeline of stages.');

export const profileSchema = z
  .strictObject({ vars: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), jsonValue).optional() })
  .describe('profiles/NAME.yaml: vars that replace those of pipeline.yaml under `--profile NAME`.');

export type StageYaml = z.infer<typeof stageSchema>;
export type PipelineYaml = z.infer<typeof pipelineSchema>;

/** Keys a stage may have, for "did you mean" suggestions. */
export const STAGE_KEYS = Object.keys(stageSchema.shape);
export const TOP_KEYS = Object.keys(pipelineSchema.shape);

/** A `timeout:` value in milliseconds. */
export function durationMs(v: number | string): number {
  if (typeof v === 'number') return v * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (m === null) throw new Error(`not a duration: ${v}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

export function pipelineJsonSchema(): unknown {
  return z.toJSONSchema(pipelineSchema, { target: 'draft-07' });
}
