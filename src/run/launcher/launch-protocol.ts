import type { CommandExit, CommandSettings } from '../spawn-command.ts';

/** Coordinator -> launcher: start a command line, or stop one that is running. */
export type ToLauncher =
  { type: 'start'; id: number; line: string; settings: CommandSettings } | { type: 'stop'; id: number };

/** Launcher -> coordinator: a command's output, and how it ended (always after its last output). */
export type FromLauncher =
  { type: 'output'; id: number; stream: 1 | 2; text: string } | { type: 'exit'; id: number; exit: CommandExit };
