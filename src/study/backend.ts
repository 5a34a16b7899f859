import { BACKEND_ORDER, chooseBackend, type BackendChoice } from '../ml/backend.ts';
import type { JsonValue } from '../stage-api.ts';

/** What a study stage's `backend` param may say: a backend by name, or `auto`. */
export const STUDY_BACKENDS: readonly string[] = ['auto', ...BACKEND_ORDER];

/**
 * The tfjs backend for a study stage, from its `backend` param (part of its cache key):
 * - a backend's name (`webgpu`, `wasm`, ...) pins it: the stage runs there or fails, so a result
 *   stored under that key was computed there; PIPELINE_BACKEND, if set, must say the same;
 * - `auto` (the default): PIPELINE_BACKEND (cpu, wasm, tfjs-node, webgpu, tfjs-node-gpu) forces
 *   one, otherwise the fastest that loads; the key does not say which ran.
 * Which one ran, its version and, for webgpu, the adapter are recorded with the run.
 */
export async function studyBackend(
  record: (key: string, value: JsonValue) => void,
  requested: string = 'auto',
): Promise<BackendChoice> {
  if (!STUDY_BACKENDS.includes(requested))
    throw new Error(`params.backend "${requested}" is not one of ${STUDY_BACKENDS.join(', ')}`);
  const forced = process.env.PIPELINE_BACKEND;
  if (forced !== undefined && !(BACKEND_ORDER as readonly string[]).includes(forced)) {
    throw new Error(`PIPELINE_BACKEND=${forced} is not one of ${BACKEND_ORDER.join(', ')}`);
  }
  if (requested !== 'auto' && forced !== undefined && forced !== requested) {
    throw new Error(
      `PIPELINE_BACKEND=${forced} but the stage's params say backend: ${requested} (its results are stored under that backend)`,
    );
  }
  const choice = await chooseBackend(
    requested !== 'auto' ? [requested] : forced !== undefined ? [forced] : BACKEND_ORDER,
  );
  record('backend', choice.name);
  record('backend_version', choice.version);
  if (choice.adapter !== undefined) record('adapter', { ...choice.adapter });
  return choice;
}
