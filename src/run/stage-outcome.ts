import type { JsonValue } from '../fingerprint/canonical-json.ts';
import type { StageOutputs, StageProgress } from '../stage-api.ts';

/** What an executor reports while a stage runs. */
export interface StageIO {
  log(line: string): void;
  progress(p: StageProgress): void;
}

/** A cluster job that ran (or tried to run) a stage, as the scheduler reports it. */
export interface JobReport {
  /** The scheduler's job id. */
  id: string;
  /** Its final state as the cluster names it: COMPLETED, FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY, ... */
  state: string;
  /** `exit:signal` as Slurm gives it (`1:0`, `0:15`), when known. */
  exitCode: string | null;
  /** Where it ran, when known. */
  node: string | null;
}

export type StageOutcome =
  | {
      ok: true;
      outputs: StageOutputs;
      provenance: Record<string, JsonValue>;
      /** The machine the stage ran on, when it was not this one. */
      host?: string;
      job?: JobReport;
    }
  | { ok: false; message: string; tail: string[]; interrupted: boolean; job?: JobReport };

/** Keeps the last lines of a stage's output, for the error report when it fails. */
export class Tail {
  private lines: string[] = [];
  constructor(private readonly max = 20) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }
  get(): string[] {
    return [...this.lines];
  }
}

/** Splits a byte stream into lines, calling `onLine` for each complete one. */
export function lineSplitter(onLine: (line: string) => void): { write(chunk: Buffer | string): void; end(): void } {
  let rest = '';
  return {
    write(chunk) {
      const parts = (rest + chunk.toString()).split(/\r?\n/);
      rest = parts.pop() ?? '';
      for (const p of parts) onLine(p);
    },
    end() {
      if (rest.length > 0) onLine(rest);
      rest = '';
    },
  };
}

/** Forwards a child's stdout and stderr, line by line, to the run's log and to the failure tail. */
export function forwardOutput(streams: Array<NodeJS.ReadableStream | null | undefined>, tail: Tail, io: StageIO): void {
  for (const stream of streams) {
    const split = lineSplitter((l) => {
      tail.push(l);
      io.log(l);
    });
    stream?.on('data', (c: Buffer) => split.write(c));
    stream?.on('end', () => split.end());
  }
}
