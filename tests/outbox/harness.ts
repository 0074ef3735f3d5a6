import type { Config } from '../../src/config.js';
import { captureLead as captureLeadAndAnnounce } from '../../src/leads/capture-lead.js';
import type { NormalizedLead } from '../../src/leads/lead-input.js';
import { createNotificationWorker, type NotificationWorker } from '../../src/outbox/notification-worker.js';
import type { SqlStorage, Storage } from '../../src/storage/storage.js';
import { testConfig } from '../helpers/app.js';
import { type CapturedLogs, captureLogs } from '../helpers/logs.js';
import {
  type SlackReceiver,
  type SmtpReceiver,
  startSlackReceiver,
  startSmtpReceiver,
  startTelegramReceiver,
  type TelegramReceiver,
} from '../helpers/receivers.js';
import { TEST_SECRETS } from '../helpers/secrets.js';

/** Secret values from the run-wide list, so the end-of-run log audit searches for them too. */
export const TELEGRAM_TOKEN = TEST_SECRETS.telegramBotToken;
export const SMTP_PASSWORD = TEST_SECRETS.smtpPassword;

export interface Channels {
  slack: SlackReceiver;
  telegram: TelegramReceiver;
  smtp: SmtpReceiver;
  /** Environment pointing every channel at the receivers. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startChannels(): Promise<Channels> {
  const [slack, telegram, smtp] = await Promise.all([
    startSlackReceiver(),
    startTelegramReceiver(),
    startSmtpReceiver(),
  ]);
  return {
    slack,
    telegram,
    smtp,
    env: {
      SLACK_WEBHOOK_URL: slack.url,
      TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
      TELEGRAM_CHAT_ID: '-1001234567890',
      TELEGRAM_API_URL: telegram.url,
      EMAIL_HOST: smtp.host,
      EMAIL_PORT: String(smtp.port),
      EMAIL_FROM: 'leadrelay <alerts@example.com>',
      EMAIL_TO: 'sales@example.com',
    },
    async close() {
      await Promise.all([slack.close(), telegram.close(), smtp.close()]);
    },
  };
}

/** Short timings so retries and leases play out in well under a second or two. */
export const FAST_WORKER_ENV: Record<string, string> = {
  WORKER_POLL_INTERVAL_MS: '100',
  WORKER_RETRY_BASE_MS: '50',
  WORKER_RETRY_MAX_MS: '200',
  WORKER_SEND_TIMEOUT_MS: '2000',
  WORKER_LEASE_SECONDS: '5',
  WORKER_MAX_ATTEMPTS: '4',
  ADMIN_DASHBOARD_URL: 'https://crm.example.com/admin',
  // Unpaced: these tests count one message per lead per channel against receivers with
  // no rate limit. Pacing and digests have their own tests (tests/outbox/pacing.test.ts).
  SLACK_RATE_PER_MINUTE: '0',
  TELEGRAM_RATE_PER_MINUTE: '0',
  EMAIL_RATE_PER_MINUTE: '0',
};

export interface RunningWorker {
  worker: NotificationWorker;
  config: Config;
  logs: CapturedLogs;
  stop(): Promise<void>;
}

export async function startWorker(storage: Storage, env: Record<string, string>): Promise<RunningWorker> {
  const config = testConfig({ ...FAST_WORKER_ENV, ...env });
  const logs = captureLogs('debug');
  const worker = createNotificationWorker({ storage, config, logger: logs.logger });
  await worker.start();
  return { worker, config, logs, stop: () => worker.stop() };
}

export interface CapturedLead {
  id: string;
  eventId: number;
}

export async function captureLead(
  storage: Storage,
  lead: Record<string, unknown> = {},
): Promise<CapturedLead> {
  // The intake path itself: capture, then the post-commit wake-up.
  const result = await captureLeadAndAnnounce(
    storage,
    {
      customerName: 'Test User',
      customerPhone: '+971501234567',
      customerEmail: 'test@example.com',
      intent: 'buy',
      source: 'chatbot',
      metadata: {},
      ...lead,
    } as NormalizedLead,
    { slaMinutes: 5 },
  );
  return { id: result.id, eventId: Number(result.eventId) };
}

/**
 * Captures `n` leads in one statement, as a backlog (no wake-up: workers find them by
 * polling or by the next NOTIFY). Names are `<prefix> <n>`.
 */
export function captureBacklog(storage: SqlStorage, n: number, prefix = 'Lead') {
  return storage.query(
    `select capture_lead(jsonb_build_object('customerName', $2 || ' ' || g,
            'customerPhone', '+97150' || lpad(g::text, 7, '0'),
            'customerEmail', lower($2) || g || '@example.com', 'intent', 'buy'))
       from generate_series(1, $1) g`,
    [n, prefix],
  );
}

/** The number in the first row's `n` column. */
export async function countOf(storage: SqlStorage, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await storage.query<{ n: string }>(sql, params))[0]!.n);
}
