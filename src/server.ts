import { Redis } from 'ioredis';
import { resolveAdminKey } from './admin/admin-key.js';
import { ConfigError, loadConfig } from './config.js';
import { buildApp } from './http/app.js';
import { createLogger } from './logger.js';
import { startMetricsServer } from './metrics/metrics-server.js';
import { createApiProcessWorker } from './outbox/notification-worker.js';
import { openStorage } from './storage/open-storage.js';

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
  const adminKey = resolveAdminKey(config);
  const storage = await openStorage(config, logger);
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { connectTimeout: 1000, maxRetriesPerRequest: 1, enableOfflineQueue: false })
    : undefined;
  redis?.on('error', (error) =>
    logger.warn({ err: error }, 'Redis error (rate limits fall back to allowing requests)'),
  );

  const app = await buildApp({
    config: { ...config, admin: { ...config.admin, apiKey: adminKey.key } },
    storage,
    logger,
    redis,
  });
  await app.listen({ port: config.port, host: config.host });
  logger.info({ storage: storage.mode, port: config.port }, 'leadrelay API listening');
  // METRICS_PORT: /metrics without a key on its own (private) port instead of the API's.
  const metricsServer =
    config.ops.metrics.enabled && config.ops.metrics.port !== undefined
      ? await startMetricsServer({
          port: config.ops.metrics.port,
          host: config.host,
          storage,
          staleAfterSeconds: config.ops.workerStaleAfterSeconds,
        })
      : undefined;
  if (metricsServer) logger.info({ port: metricsServer.port }, 'Metrics listening');
  if (adminKey.generated) {
    // Printed once, on the console only, so the newcomer can open the dashboard.
    process.stdout.write(
      `\nGenerated an admin API key (kept in ${adminKey.file}):\n  ${adminKey.key}\nDashboard: http://localhost:${config.port}/admin\n\n`,
    );
  }

  let stopping = false;
  const stop = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Shutting down');
    // With the worker in this process, leave it its own grace (default 20 s) plus a
    // margin: still inside Render's 30 s.
    const graceMs = worker
      ? Math.max(config.ops.shutdownGraceMs, config.worker.shutdownGraceMs + 5_000)
      : config.ops.shutdownGraceMs;
    const timer = setTimeout(() => {
      logger.error('Shutdown grace period exceeded; exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    await app.close();
    await metricsServer?.close();
    await worker?.stop();
    await storage.close();
    redis?.disconnect();
    process.exit(exitCode);
  };
  // Embedded default: the notification worker runs here (PGlite allows one process).
  const worker = createApiProcessWorker({
    storage,
    config,
    logger,
    onFatal: () => void stop('notification worker failed to record results', 1),
  });
  await worker?.start();
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(
    `leadrelay: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
