import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { outboxStore } from '../outbox/outbox-store.js';
import { SqlState, StorageQueryError } from '../storage/errors.js';
import { openStorage } from '../storage/open-storage.js';

/**
 * Queues dead events again:
 *   npm run replay -- --event 42
 *   npm run replay -- --failed-since 2026-11-20T00:00:00Z
 * Each comes back with a fresh set of attempts; channels that already got the lead
 * are not sent again. On the embedded default stop the API first (PGlite allows one
 * process); the API's worker picks the events up when it starts.
 */
const USAGE = 'usage: npm run replay -- --event <id> | --failed-since <ISO time>';

function fail(message: string): never {
  process.stderr.write(`leadrelay replay: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseTarget(argv: string[]): { eventId: number } | { failedSince: Date } {
  let values: { event?: string | undefined; 'failed-since'?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { event: { type: 'string' }, 'failed-since': { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const event = values.event;
  const since = values['failed-since'];
  if ((event === undefined) === (since === undefined)) fail('give exactly one of --event and --failed-since');
  if (event !== undefined) {
    if (!/^\d+$/.test(event)) fail(`--event must be an event id (a whole number), got "${event}"`);
    return { eventId: Number(event) };
  }
  const date = new Date(since!);
  if (Number.isNaN(date.getTime())) fail(`--failed-since must be a date/time such as 2026-11-20T00:00:00Z`);
  return { failedSince: date };
}

async function main() {
  const target = parseTarget(process.argv.slice(2));
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, { needsAdminKey: false });
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const storage = await openStorage(config, logger, { applicationName: 'leadrelay-replay' });
  try {
    const result = await outboxStore(storage).replay(target);
    process.stdout.write(
      result.count === 0
        ? 'No dead events matched; nothing queued.\n'
        : `Queued ${result.count} dead event(s) again: ${result.replayed.join(', ')}\n`,
    );
  } catch (error) {
    if (error instanceof StorageQueryError && error.code === SqlState.notFound) {
      process.stderr.write(`leadrelay replay: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      throw error;
    }
  } finally {
    await storage.close();
  }
}

main().catch((error) => {
  process.stderr.write(`leadrelay replay: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
