import { type BulkRunner, createBulkRunner } from '../src/bulk/bulk-runner.js';
import { ConfigError, loadConfig, warnAboutLocalAlertLinks } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createNotificationWorker, type NotificationWorker } from '../src/outbox/notification-worker.js';
import { installShutdown } from '../src/process/shutdown.js';
import { openStorage } from '../src/storage/open-storage.js';
import type { Storage } from '../src/storage/storage.js';

/**
 * The notification worker process (`npm run worker`): drains lead_events to Slack,
 * email and Telegram, and runs bulk actions (src/bulk/bulk-runner.ts), against
 * DATABASE_URL (any Postgres; for Supabase the direct connection or the session
 * pooler, since the transaction pooler breaks LISTEN) or SUPABASE_URL (rpc, polling). Run as many as you like: claims never overlap.
 *
 * Shutdown: SIGTERM/SIGINT stop claiming and let the batch in hand finish within
 * WORKER_SHUTDOWN_GRACE_MS (default 20 s), then exit 0. Platforms kill some time
 * after SIGTERM (Render and Kubernetes: 30 s), so the grace plus the 5 s margin
 * below must stay under that.
 */
const EXIT_MARGIN_MS = 5_000;

async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, { needsAdminKey: false });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`leadrelay worker: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (config.storage.mode === 'pglite') {
    process.stderr.write(
      'leadrelay worker: the embedded database (PGlite) allows one process, so the worker runs inside ' +
        'the API (npm start). Set DATABASE_URL or SUPABASE_URL to run workers on their own.\n',
    );
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  warnAboutLocalAlertLinks(config, logger);
  if (!config.worker.enabled) {
    logger.warn('ENABLE_NOTIFICATION_WORKER=false: notification worker not started');
    return;
  }
  let storage: Storage | undefined;
  let worker: NotificationWorker | undefined;
  let bulk: BulkRunner | undefined;
  const stop = installShutdown({
    logger,
    graceMs: () => config.worker.shutdownGraceMs + EXIT_MARGIN_MS,
    async cleanup() {
      // A bulk batch in flight is one short transaction: let it commit, hand back the lease.
      await bulk?.stop();
      await worker?.stop();
      await storage?.close();
    },
  });
  storage = await openStorage(config, logger, { applicationName: 'leadrelay-worker' });
  worker = createNotificationWorker({
    storage,
    config,
    logger,
    onFatal: () => void stop('failed to record results', 1),
  });
  await worker.start();
  // Bulk actions (docs/bulk-actions.md) run in the worker processes too.
  bulk = createBulkRunner({ storage, config, logger });
  await bulk.start();
}

main().catch((error) => {
  process.stderr.write(
    `leadrelay worker: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
