import { BACKEND_ORDER, chooseBackend, type BackendChoice } from '../ml/backend.ts';

/**
 * The tfjs backend for a study stage: PIPELINE_BACKEND (cpu, wasm, tfjs-node, tfjs-node-gpu)
 * forces one; otherwise the fastest that loads. Which one ran is recorded with the run.
 */
export async function studyBackend(record: (key: string, value: string) => void): Promise<BackendChoice> {
  const forced = process.env.PIPELINE_BACKEND;
  if (forced !== undefined && !(BACKEND_ORDER as readonly string[]).includes(forced)) {
    throw new Error(`PIPELINE_BACKEND=${forced} is not one of ${BACKEND_ORDER.join(', ')}`);
  }
  const choice = await chooseBackend(forced === undefined ? BACKEND_ORDER : [forced]);
  record('backend', choice.name);
  record('backend_version', choice.version);
  return choice;
}
