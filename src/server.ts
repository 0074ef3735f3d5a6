import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { resolveAdminKey } from './admin/admin-key.js';
import type { BulkRunner } from './bulk/bulk-runner.js';
import { ConfigError, loadConfig, warnAboutLocalAlertLinks } from './config.js';
import { buildApp } from './http/app.js';
import { createLogger } from './logger.js';
import { type MetricsServer, startMetricsServer } from './metrics/metrics-server.js';
import type { NotificationWorker } from './outbox/notification-worker.js';
import { installShutdown } from './process/shutdown.js';
import { openStorage } from './storage/open-storage.js';
import type { Storage } from './storage/storage.js';

/**
 * The API process: config, logger, storage, HTTP server, signals. Render sends
 * SIGTERM and kills 30 s later; we stop within API_SHUTDOWN_GRACE_MS (default 10 s,
 * at most 25 s by the config schema, so always inside that): stop accepting
 * connections, let in-flight requests finish (app.close), close the pool, exit 0.
 */

async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`leadrelay: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  warnAboutLocalAlertLinks(config, logger);
  const adminKey = resolveAdminKey(config);
  let storage: Storage | undefined;
  let app: FastifyInstance | undefined;
  let metricsServer: MetricsServer | undefined;
  let worker: NotificationWorker | undefined;
  let bulk: BulkRunner | undefined;
  let redis: Redis | undefined;
  const stop = installShutdown({
    logger,
    // With the worker in this process, leave it its own grace (default 20 s) plus a
    // margin: still inside Render's 30 s.
    graceMs: () =>
      worker
        ? Math.max(config.ops.shutdownGraceMs, config.worker.shutdownGraceMs + 5_000)
        : config.ops.shutdownGraceMs,
    async cleanup() {
      await app?.close();
      await metricsServer?.close();
      await bulk?.stop();
      await worker?.stop();
      await storage?.close();
      redis?.disconnect();
    },
  });

  storage = await openStorage(config, logger);
  // Loaded only when used: memory counts against the API's budget.
  redis = config.redisUrl
    ? new (await import('ioredis')).Redis(config.redisUrl, {
        connectTimeout: 1000,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
      })
    : undefined;
  redis?.on('error', (error) =>
    logger.warn({ err: error }, 'Redis error (rate limits fall back to allowing requests)'),
  );

  app = await buildApp({
    config: { ...config, admin: { ...config.admin, apiKey: adminKey.key } },
    storage,
    logger,
    redis,
  });
  await app.listen({ port: config.port, host: config.host });
  logger.info({ storage: storage.mode, port: config.port }, 'leadrelay API listening');
  // METRICS_PORT: /metrics without a key on its own (private) port instead of the API's.
  if (config.ops.metrics.enabled && config.ops.metrics.port !== undefined) {
    metricsServer = await startMetricsServer({
      port: config.ops.metrics.port,
      host: config.host,
      storage,
      staleAfterSeconds: config.ops.workerStaleAfterSeconds,
    });
    logger.info({ port: metricsServer.port }, 'Metrics listening');
  }
  if (adminKey.generated) {
    // Printed once, on the console only, so the newcomer can open the dashboard.
    process.stdout.write(
      `\nGenerated an admin API key (kept in ${adminKey.file}):\n  ${adminKey.key}\nDashboard: http://localhost:${config.port}/admin\n\n`,
    );
  }

  // Embedded default: the notification worker runs here (PGlite allows one process).
  // The worker and its channel libraries load only where it runs here (embedded mode).
  const { createApiProcessWorker } =
    storage.mode === 'pglite' ? await import('./outbox/notification-worker.js') : {};
  worker = createApiProcessWorker?.({
    storage,
    config,
    logger,
    onFatal: () => void stop('notification worker failed to record results', 1),
  });
  await worker?.start();
  // Bulk actions run where the worker runs: here on the embedded default.
  if (worker) {
    const { createBulkRunner } = await import('./bulk/bulk-runner.js');
    bulk = createBulkRunner({ storage, config, logger });
    await bulk.start();
  }
}

main().catch((error) => {
  process.stderr.write(
    `leadrelay: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
