import { Logger, run } from 'graphile-worker';
import { loadConfig } from '../../src/config.js';
import { buildLeadAlert } from '../../src/notifications/lead-alert.js';
import { buildSenders } from '../../src/notifications/registry.js';

/**
 * The peer: one graphile-worker 0.17 runner process doing leadrelay's job. The job
 * is added by a trigger on lead_events (bench/sections/peer-setup.ts), so it commits
 * in the same transaction as the lead; the task sends the alert to Slack, email and
 * Telegram in parallel with leadrelay's own senders and formatting, so the two
 * systems differ only in how they queue, claim and record work.
 * Configured by environment: the channel variables leadrelay reads, DATABASE_URL,
 * GRAPHILE_CONCURRENCY, GRAPHILE_LOCAL_QUEUE_SIZE, GRAPHILE_COMPLETE_BATCH_DELAY_MS.
 */
const config = loadConfig();
const senders = buildSenders(config);
const dashboardUrl = 'http://localhost:3000/admin';
const timeoutMs = config.worker.sendTimeoutMs;
const number = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

interface LeadJob {
  eventId: number;
  conversationId: string | null;
  payload: unknown;
}

// Warnings and errors only: graphile's info lines (one per job) would cost the peer CPU
// that leadrelay's workers (pino to /dev/null) do not pay in the same way.
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') process.stderr.write(`[graphile ${level}] ${message}\n`);
});

const localQueueSize = number('GRAPHILE_LOCAL_QUEUE_SIZE', -1);
const runner = await run({
  connectionString: config.storage.databaseUrl!,
  concurrency: number('GRAPHILE_CONCURRENCY', 10),
  maxPoolSize: number('GRAPHILE_CONCURRENCY', 10) + 2,
  noHandleSignals: true,
  pollInterval: 2_000,
  logger,
  preset: {
    worker: {
      ...(localQueueSize > 0 ? { localQueue: { size: localQueueSize } } : {}),
      completeJobBatchDelay: number('GRAPHILE_COMPLETE_BATCH_DELAY_MS', -1),
    },
  },
  taskList: {
    async lead_created(rawPayload) {
      const job = rawPayload as LeadJob;
      const alert = buildLeadAlert(
        {
          id: job.eventId,
          eventType: 'lead.created',
          conversationId: job.conversationId,
          payload: job.payload,
        },
        dashboardUrl,
      );
      await Promise.all(
        senders.configured().map((channel) =>
          senders.get(channel)!.send(alert, AbortSignal.timeout(timeoutMs), {
            id: job.eventId,
            type: 'lead.created',
            conversationId: job.conversationId,
            payload: job.payload,
            createdAt: new Date().toISOString(),
            attempt: 1,
          }),
        ),
      );
    },
  },
});
process.stdout.write('graphile-worker ready\n');

const stop = async () => {
  await runner.stop();
  await senders.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
await runner.promise;
