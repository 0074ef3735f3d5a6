import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { inject } from 'vitest';
import { createLogger, type Logger } from '../../src/logger.js';

/** A real pino logger whose output is kept in memory, so tests can read every line. */
export interface CapturedLogs {
  logger: Logger;
  lines: string[];
  text(): string;
  entries(): Record<string, unknown>[];
}

/**
 * Where every captured line of this run is also appended, so the end of the run can
 * search all log output for secrets and unmasked contact details.
 */
export function runLogFile(): string {
  const dir = inject('runLogDir');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${process.pid}.jsonl`);
}

export function captureLogs(level = 'info'): CapturedLogs {
  const lines: string[] = [];
  const file = runLogFile();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      const text = chunk.toString();
      lines.push(...text.split('\n').filter(Boolean));
      appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
      done();
    },
  });
  return {
    logger: createLogger(level, sink),
    lines,
    text: () => lines.join('\n'),
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
