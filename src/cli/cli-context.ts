import { InvalidArgumentError } from 'commander';
import type { Config } from '../config.js';
import type { Storage } from '../storage/storage.js';

/** What every `leadrelay` subcommand gets: its streams and environment, config and storage on demand. */
export interface CliIo {
  env: Record<string, string | undefined>;
  out(text: string): void;
  err(text: string): void;
  /** Draw progress bars in place (a terminal) rather than line by line. */
  interactive?: boolean;
}

/** `running`: the command started a long-lived process (api, worker) that owns its exit. */
export type CliResult = number | 'running';

/** Bad usage or configuration: exit code 2 with the message. */
export class UsageError extends Error {}

export interface CliContext {
  io: CliIo;
  /** The environment, validated (a bad value is a UsageError naming it). */
  config(): Config;
  /** Opens storage for operator work (no migration, no request query timeout), runs `work`, closes it. */
  withStorage<T>(config: Config, work: (storage: Storage) => Promise<T>): Promise<T>;
  setResult(result: CliResult): void;
}

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('must be a whole number >= 1');
  return Number(value);
}

export function isoTime(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new InvalidArgumentError('must be a date/time such as 2026-11-20T00:00:00Z');
  return date;
}
