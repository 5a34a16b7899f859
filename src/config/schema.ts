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

/**
 * What a stage asks of a cluster node. Each key maps to one sbatch option (src/run/slurm/
 * sbatch-options.ts); the values are checked here so that a typo fails before anything is
 * submitted, with a located line, rather than as an sbatch error halfway through a run.
 */
const EXPECTED = {
  cpus: 'a whole number of CPUs, such as 4',
  mem: 'a memory size such as 16G or 500M (a bare number is megabytes)',
  gpus: 'a GPU count such as 1, or TYPE:COUNT such as a100:2',
  gres: 'a generic resource list such as gpu:1',
  time: 'a time limit such as 30m, 2h, 1d, 01:30:00 or 1-12:00:00',
  partition: 'a partition name',
  account: 'an account name',
  qos: 'a QOS name',
  constraint: 'node features such as a100 or "intel&ib" (no spaces)',
} as const;
const fail = (key: keyof typeof EXPECTED) => ({ error: `expected ${EXPECTED[key]}` });
const word = (key: keyof typeof EXPECTED) => z.string(fail(key)).regex(/^\S+$/, fail(key));

const RESOURCES = {
  cpus: {
    value: z.union(
      [z.number().int(fail('cpus')).positive(fail('cpus')), z.string().regex(/^[1-9][0-9]*$/, fail('cpus'))],
      fail('cpus'),
    ),
    describe: 'CPUs for the stage: sbatch --cpus-per-task.',
  },
  mem: {
    // Slurm's size syntax: a whole number with an optional K, M, G or T; no unit is megabytes.
    value: z.union(
      [z.number().int(fail('mem')).positive(fail('mem')), z.string().regex(/^[1-9][0-9]*[KMGTkmgt]?$/, fail('mem'))],
      fail('mem'),
    ),
    describe: 'Memory for the stage: sbatch --mem (16G, 500M; a bare number is megabytes).',
  },
  gpus: {
    value: z.union(
      [
        z.number().int(fail('gpus')).nonnegative(fail('gpus')),
        z.string().regex(/^(?:[0-9]+|[A-Za-z0-9_.-]+:[1-9][0-9]*)$/, fail('gpus')),
      ],
      fail('gpus'),
    ),
    describe: 'GPUs for the stage: sbatch --gpus (a count, or TYPE:COUNT such as a100:2); 0 asks for none.',
  },
  gres: {
    value: word('gres'),
    describe: 'Generic resources: sbatch --gres (gpu:1), for clusters that do not take --gpus.',
  },
  time: {
    // This file's own durations (90s, 30m, 2h, 1d) or Slurm's (MM:SS, HH:MM:SS, D-HH, D-HH:MM:SS).
    // A bare number is refused: `timeout:` reads it as seconds and sbatch as minutes.
    value: z
      .string(fail('time'))
      .regex(/^(?:\d+(?:\.\d+)?(?:s|m|h|d)|\d+:\d{2}(?::\d{2})?|\d+-\d{1,2}(?::\d{2}(?::\d{2})?)?)$/, fail('time')),
    describe: "Time limit: sbatch --time. 30m, 2h, 1d, or Slurm's HH:MM:SS and D-HH:MM:SS; Slurm counts whole minutes.",
  },
  partition: { value: word('partition'), describe: 'Partition (queue): sbatch --partition.' },
  account: { value: word('account'), describe: 'Account charged for the job: sbatch --account.' },
  qos: { value: word('qos'), describe: 'Quality of service: sbatch --qos.' },
  constraint: { value: word('constraint'), describe: 'Node features the job needs: sbatch --constraint.' },
} as const;

/**
 * Names people bring from sbatch, PBS or other tools, which are too far from ours for a typo
 * suggestion to find: an unknown key among them gets "did you mean" all the same.
 */
export const RESOURCE_ALIASES: Readonly<Record<string, string>> = {
  memory: 'mem',
  'cpus-per-task': 'cpus',
  cpus_per_task: 'cpus',
  ncpus: 'cpus',
  gpu: 'gpus',
  walltime: 'time',
  time_limit: 'time',
  timelimit: 'time',
  queue: 'partition',
  project: 'account',
};

type ResourceKey = keyof typeof RESOURCES;
const resourceKeys = Object.keys(RESOURCES) as ResourceKey[];

/**
 * As written in pipeline.yaml: a literal, or a value with `${...}` references so that a profile
 * or a matrix can choose it (`gpus: ${gpus}`, `time: ${hours}h`); what it resolves to is checked
 * against `resolvedResourcesSchema` once it is known.
 */
const declaredResourceFields = Object.fromEntries(
  resourceKeys.map((k) => {
    const r = RESOURCES[k];
    return [
      k,
      z
        .union([r.value, z.string().regex(/\$\{.+\}/)], fail(k))
        .optional()
        .describe(r.describe),
    ];
  }),
) as { [K in ResourceKey]: z.ZodOptional<z.ZodUnion<[(typeof RESOURCES)[K]['value'], z.ZodString]>> };

export const resourcesSchema = z
  .strictObject(declaredResourceFields)
  .describe(
    'What the stage needs from a cluster node, mapped to sbatch options by the Slurm executor and ignored when stages run locally. Not part of the fingerprint: a bigger node computes the same result.',
  );

/** A stage's resources once `${...}` references are resolved: literal values only. */
export const resolvedResourcesSchema = z.strictObject(
  Object.fromEntries(resourceKeys.map((k) => [k, RESOURCES[k].value.optional().describe(RESOURCES[k].describe)])) as {
    [K in ResourceKey]: z.ZodOptional<(typeof RESOURCES)[K]['value']>;
  },
);

/** The message for a resolved resource value that does not fit. */
export function resourceExpectation(key: string): string | undefined {
  return (EXPECTED as Record<string, string | undefined>)[key];
}

const pollError = { error: 'expected a duration such as 2s or 500ms' };

export const slurmSettingsSchema = z
  .strictObject({
    ...(Object.fromEntries(
      resourceKeys.map((k) => [
        k,
        RESOURCES[k].value.optional().describe(`Default for every stage: ${RESOURCES[k].describe}`),
      ]),
    ) as { [K in ResourceKey]: z.ZodOptional<(typeof RESOURCES)[K]['value']> }),
    sbatch_args: z
      .array(z.string().min(1))
      .optional()
      .describe('Extra sbatch options for every job, one option per item: ["--mail-type=FAIL", "--exclude=node7"].'),
    poll_interval: z
      .union([z.number().positive(pollError), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, pollError)], pollError)
      .optional()
      .describe(
        'How often squeue is asked about the jobs in flight: seconds, or a duration such as 2s or 500ms. Default 2s.',
      ),
    jobs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Jobs in the queue at once when repro is not given -j. Default 1.'),
  })
  .describe(
    "Run stages as Slurm jobs. Resource keys here are defaults for every stage; a stage's own `resources:` override them key by key.",
  );

export const executorSchema = z
  .strictObject({ slurm: slurmSettingsSchema.optional() })
  .describe(
    'Where stages run: `{slurm: {...}}` submits each stage as a Slurm job (`repro --executor local` overrides). Without it, on this machine.',
  );

const matrixAxis = z
  .union([z.array(z.union([z.string(), z.number(), z.boolean()])).min(1), z.string()])
  .describe('The values of one matrix axis, or a `${var}` naming a list in `vars:`.');

const paramSourceSchema = z
  .strictObject({
    stage: z
      .string()
      .min(1)
      .describe('The upstream stage, by expanded name (`select@${item.arch}`); it becomes a dependency.'),
    json: z.string().min(1).describe('The name of one of its `json` outputs.'),
    key: z
      .string()
      .min(1)
      .optional()
      .describe('A dotted path inside that JSON value (`optimizer.learning_rate`); absent: the whole value.'),
  })
  .describe("Where a param's value comes from: a json output of an upstream stage.");

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
      .describe(
        'Inputs: a stage name, a matrix name (all its expansions), an expanded name, or a file/directory path.',
      ),
    params: z
      .record(z.string(), jsonValue)
      .optional()
      .describe('Parameters passed to the stage; usable as `${name}` in cmd, deps and outs.'),
    params_from: z
      .record(
        z.string().regex(/^[^.]+(\.[^.]+)*$/, 'expected a param path such as optimizer or optimizer.learning_rate'),
        paramSourceSchema,
      )
      .optional()
      .describe(
        "Params whose values come from an upstream stage's JSON output, by param path (dotted for nested values). Resolved once that stage is done, before this stage's fingerprint is computed.",
      ),
    outs: stringList.optional().describe('Files the stage writes; stored, and restored on a cache hit.'),
    metrics: stringList
      .optional()
      .describe('JSON files the stage writes whose numeric values are metrics (stored like outs).'),
    matrix: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), matrixAxis)
      .optional()
      .describe('Expands the stage into one stage per combination: `name@v1-v2`; values are `${item.key}`.'),
    timeout: z
      .union([
        z.number().positive(),
        z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'expected a duration such as 90s, 10m or 2h'),
      ])
      .optional()
      .describe(
        'Stop the stage (and every process it started) after this long: seconds, or a duration such as 90s, 10m, 2h.',
      ),
    always_changed: z
      .boolean()
      .optional()
      .describe('Run on every repro even when the fingerprint is unchanged (for non-deterministic inputs).'),
    resources: resourcesSchema.optional(),
  })
  .describe('A stage: exactly one of `cmd` or `uses`.');

export const pipelineSchema = z
  .strictObject({
    $schema: z.string().optional(),
    vars: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), jsonValue)
      .optional()
      .describe('Values usable as `${name}`.'),
    stages: z.record(z.string().regex(STAGE_NAME), stageSchema).describe('The stages, by name.'),
    executor: executorSchema.optional(),
  })
  .describe('pipeline.yaml: a content-hashed pipeline of stages.');

export const profileSchema = z
  .strictObject({ vars: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), jsonValue).optional() })
  .describe('profiles/NAME.yaml: vars that replace those of pipeline.yaml under `--profile NAME`.');

export type StageYaml = z.infer<typeof stageSchema>;
export type Resources = z.infer<typeof resolvedResourcesSchema>;
export type SlurmSettings = z.infer<typeof slurmSettingsSchema>;
export type ExecutorSettings = z.infer<typeof executorSchema>;
export type PipelineYaml = z.infer<typeof pipelineSchema>;

/** Keys a stage may have, for "did you mean" suggestions. */
export const STAGE_KEYS = Object.keys(stageSchema.shape);
export const PARAM_SOURCE_KEYS = Object.keys(paramSourceSchema.shape);
export const TOP_KEYS = Object.keys(pipelineSchema.shape);
export const RESOURCE_KEYS: string[] = resourceKeys;
export const EXECUTOR_KEYS = Object.keys(executorSchema.shape);
export const SLURM_KEYS = Object.keys(slurmSettingsSchema.shape);

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
