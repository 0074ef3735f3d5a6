import type { Logger } from '../logger.js';

/**
 * Graceful shutdown for a process (API or worker). SIGTERM/SIGINT run `cleanup` once;
 * if it outlasts `graceMs` the process exits 1 anyway. Platforms kill some time after
 * SIGTERM (Render: 30 s), so callers keep the grace below that. Handlers are installed
 * before start-up finishes, so a signal during start-up still cleans up what exists.
 */
export interface ShutdownOptions {
  logger: Logger;
  /** Read when the shutdown starts, so it can depend on what was started. */
  graceMs: () => number;
  cleanup: () => Promise<void>;
}

export type Stop = (reason: string, exitCode?: number) => Promise<void>;

export function installShutdown(options: ShutdownOptions): Stop {
  let stopping = false;
  const stop: Stop = async (reason, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    options.logger.info({ reason }, 'Shutting down');
    const timer = setTimeout(() => {
      options.logger.error('Shutdown grace period exceeded; exiting');
      process.exit(1);
    }, options.graceMs());
    timer.unref();
    let code = exitCode;
    try {
      await options.cleanup();
    } catch (error) {
      options.logger.error({ err: error }, 'Error while shutting down');
      code = 1;
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  return stop;
}
