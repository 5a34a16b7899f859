/** Reads of config.json fields with one-line errors that name the file and the field. */

type Config = Record<string, unknown>;

function field(config: Config, key: string, file: string, fallback: unknown): unknown {
  const value = config[key] ?? fallback;
  if (value === undefined) throw new Error(`${file}: missing field "${key}"`);
  return value;
}

export function configInteger(config: Config, key: string, file: string, fallback?: number): number {
  const value = field(config, key, file, fallback);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new Error(`${file}: field "${key}" must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

/** A number that `accept` allows (by default any finite one); `what` says which in the error. */
export function configNumber(
  config: Config,
  key: string,
  file: string,
  fallback?: number,
  accept: (x: number) => boolean = Number.isFinite,
  what = 'a finite number',
): number {
  const value = field(config, key, file, fallback);
  if (typeof value !== 'number' || !accept(value))
    throw new Error(`${file}: field "${key}" must be ${what}, got ${JSON.stringify(value)}`);
  return value;
}

/** A dropout probability. */
export const configProbability = (config: Config, key: string, file: string, fallback?: number): number =>
  configNumber(config, key, file, fallback, (x) => x >= 0 && x < 1, 'a number in [0, 1)');

/** A layer-norm epsilon or another strictly positive constant. */
export const configPositive = (config: Config, key: string, file: string, fallback?: number): number =>
  configNumber(config, key, file, fallback, (x) => x > 0 && Number.isFinite(x), 'a positive number');

export function configString(config: Config, key: string, file: string, fallback?: string): string {
  const value = field(config, key, file, fallback);
  if (typeof value !== 'string')
    throw new Error(`${file}: field "${key}" must be a string, got ${JSON.stringify(value)}`);
  return value;
}

export function configBoolean(config: Config, key: string, file: string, fallback?: boolean): boolean {
  const value = field(config, key, file, fallback);
  if (typeof value !== 'boolean')
    throw new Error(`${file}: field "${key}" must be true or false, got ${JSON.stringify(value)}`);
  return value;
}
