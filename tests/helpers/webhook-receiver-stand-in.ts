import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook consumer on 127.0.0.1 that verifies every delivery the way the Standard
 * Webhooks spec tells receivers to (standardwebhooks.com, "Verifying webhooks"),
 * written here from the spec and not borrowed from the code under test:
 *
 *   signed content = `${webhook-id}.${webhook-timestamp}.${raw body}`
 *   key            = base64-decode(secret without its "whsec_" prefix)
 *   expected       = base64(HMAC-SHA256(key, signed content))
 *   valid          = some space-separated "v1,<sig>" in webhook-signature equals it
 *                    (constant-time), and the timestamp is within 5 minutes of now.
 *
 * The test sets `secret` from the create answer and scripts answers with `respond`.
 */
export interface WebhookDelivery {
  id: string;
  timestamp: string;
  signature: string;
  raw: string;
  body: { type?: string; timestamp?: string; data?: Record<string, unknown> };
  verified: boolean;
  status: number;
  at: number;
}

export interface WebhookReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface WebhookReceiver {
  url: string;
  secret: string;
  deliveries: WebhookDelivery[];
  /** Deliveries answered 2xx. */
  accepted(): WebhookDelivery[];
  respond: (delivery: WebhookDelivery, index: number) => WebhookReply | Promise<WebhookReply>;
  close(): Promise<void>;
}

const TOLERANCE_SECONDS = 5 * 60;

export function verifyStandardWebhook(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  raw: string,
): boolean {
  const seconds = Number.parseInt(headers.timestamp, 10);
  if (!Number.isFinite(seconds) || Math.abs(Date.now() / 1000 - seconds) > TOLERANCE_SECONDS) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${headers.id}.${headers.timestamp}.${raw}`).digest();
  return headers.signature.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: '',
    secret: '',
    deliveries: [],
    accepted: () => receiver.deliveries.filter((d) => d.status >= 200 && d.status < 300),
    respond: () => ({ status: 204 }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer(async (request, response) => {
    const raw = await readBody(request);
    const header = (name: string) => String(request.headers[name] ?? '');
    const delivery: WebhookDelivery = {
      id: header('webhook-id'),
      timestamp: header('webhook-timestamp'),
      signature: header('webhook-signature'),
      raw,
      body: (() => {
        try {
          return JSON.parse(raw);
        } catch {
          return {};
        }
      })(),
      verified: false,
      status: 0,
      at: Date.now(),
    };
    delivery.verified = verifyStandardWebhook(receiver.secret, delivery, raw);
    const index = receiver.deliveries.push(delivery) - 1;
    // A receiver refuses what it cannot verify, as the spec tells it to.
    const reply = delivery.verified ? await receiver.respond(delivery, index) : { status: 401 };
    delivery.status = reply.status;
    response.writeHead(reply.status, reply.headers ?? {});
    response.end(reply.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/leadrelay`;
  return receiver;
}
