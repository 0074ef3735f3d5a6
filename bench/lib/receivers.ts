import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SMTPServer } from 'smtp-server';

/**
 * Counting stand-ins for Slack, Telegram and an SMTP relay on 127.0.0.1, in the
 * harness process: the same protocols the senders speak in production (HTTP JSON,
 * HTTP form posts, SMTP), answered at once, keeping only counts and, for Slack, the
 * arrival time of each lead's post (for end-to-end latency). Kept apart from
 * tests/helpers/receivers.ts so the benchmark does not pull in test code.
 */
export interface Receivers {
  slackUrl: string;
  telegramUrl: string;
  smtpPort: number;
  counts: { slack: number; telegram: number; email: number };
  /** performance.now() of the first and the latest notification on any channel. */
  firstAt: number;
  lastAt: number;
  /** conversationId -> performance.now() when its Slack post arrived. */
  slackArrivals: Map<string, number>;
  total(): number;
  reset(): void;
  close(): Promise<void>;
}

const LEAD_ID = /#\/leads\/([0-9a-f-]{36})/;

export async function startReceivers(): Promise<Receivers> {
  const receivers: Receivers = {
    slackUrl: '',
    telegramUrl: '',
    smtpPort: 0,
    counts: { slack: 0, telegram: 0, email: 0 },
    firstAt: 0,
    lastAt: 0,
    slackArrivals: new Map(),
    total: () => receivers.counts.slack + receivers.counts.telegram + receivers.counts.email,
    reset() {
      receivers.counts = { slack: 0, telegram: 0, email: 0 };
      receivers.firstAt = 0;
      receivers.lastAt = 0;
      receivers.slackArrivals.clear();
    },
    close: async () => {
      await Promise.all([closeHttp(slack), closeHttp(telegram)]);
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };
  const arrived = (channel: keyof Receivers['counts']) => {
    const now = performance.now();
    if (receivers.firstAt === 0) receivers.firstAt = now;
    receivers.lastAt = now;
    receivers.counts[channel]++;
    return now;
  };

  let messageId = 0;
  const slack = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const at = arrived('slack');
      const id = LEAD_ID.exec(Buffer.concat(chunks).toString('utf8'))?.[1];
      if (id && !receivers.slackArrivals.has(id)) receivers.slackArrivals.set(id, at);
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  const telegram = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      arrived('telegram');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          ok: true,
          result: { message_id: ++messageId, date: Math.floor(Date.now() / 1000), chat: { id: -1 } },
        }),
      );
    });
  });
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        arrived('email');
        callback();
      });
    },
  });

  receivers.slackUrl = `http://127.0.0.1:${await listen(slack)}/services/TBENCH/BBENCH/benchWebhookPath`;
  receivers.telegramUrl = `http://127.0.0.1:${await listen(telegram)}`;
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  receivers.smtpPort = (smtp.server.address() as AddressInfo).port;
  return receivers;
}

async function listen(server: Server): Promise<number> {
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closeHttp(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The environment that points leadrelay's (and the peer's) senders at these receivers. */
export function channelEnv(receivers: Receivers): Record<string, string> {
  return {
    SLACK_WEBHOOK_URL: receivers.slackUrl,
    TELEGRAM_BOT_TOKEN: '123456:BENCH-token',
    TELEGRAM_CHAT_ID: '-1001',
    TELEGRAM_API_URL: receivers.telegramUrl,
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(receivers.smtpPort),
    EMAIL_SECURE: 'false',
    EMAIL_FROM: 'leadrelay-bench@example.com',
    EMAIL_TO: 'sales@example.com',
  };
}
