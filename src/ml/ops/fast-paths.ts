/**
 * Whether the ops use their faster formulations (on by default). Off, they run the
 * straightforward ones they replaced, so bench/profile.ts can measure before and after side by
 * side in one process; results agree within the reference tests' tolerances either way.
 */
let enabled = true;

export function setFastPaths(on: boolean): void {
  enabled = on;
}

export function fastPaths(): boolean {
  return enabled;
}
