import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_SECRETS } from './secrets.js';

/**
 * A stand-in for Twilio's Programmable Messaging API on 127.0.0.1, following its
 * documented behaviour (twilio.com/docs/messaging/api/message-resource, /docs/api/errors):
 *
 * - `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form encoded, HTTP Basic
 *   `AccountSid:AuthToken`; anything else 401 with error 20003.
 * - Needs `To`, and `From` or `MessagingServiceSid`, and `Body` or `ContentSid`.
 * - Answers 201 with the Message resource (`sid` SM…, `status` "queued"), or an error
 *   body `{code, message, more_info, status}`: 21211 invalid To (not E.164, or not
 *   `whatsapp:`-prefixed like From for WhatsApp), 21610 unsubscribed recipient,
 *   63016 free-form WhatsApp outside the 24-hour window (no ContentSid), and
 *   whatever the test scripts with `respond` (20429 / HTTP 429 with Retry-After, 500).
 */
export interface TwilioMessage {
  sid: string;
  to: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  body: string | undefined;
  contentSid: string | undefined;
  contentVariables: Record<string, string> | undefined;
  status: number;
  code: number | undefined;
}

export interface TwilioReply {
  status: number;
  code?: number;
  message?: string;
  headers?: Record<string, string>;
}

export interface TwilioStandIn {
  url: string;
  accountSid: string;
  authToken: string;
  /** Every request that passed auth and parsing, with the answer it got. */
  requests: TwilioMessage[];
  accepted(): TwilioMessage[];
  /** Numbers (E.164) that replied STOP: 21610 for them. */
  unsubscribed: Set<string>;
  /** Overrides the answer for a request; return undefined for the normal behaviour. */
  respond: (message: TwilioMessage, index: number) => TwilioReply | undefined;
  close(): Promise<void>;
}

export const TWILIO_TEST_AUTH_TOKEN = TEST_SECRETS.twilioAuthToken;
const E164 = /^\+[1-9]\d{6,14}$/;

export function twilioError(status: number, code: number, message: string, headers?: Record<string, string>) {
  return { status, code, message, ...(headers ? { headers } : {}) };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTwilioStandIn(): Promise<TwilioStandIn> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const standIn: TwilioStandIn = {
    url: '',
    accountSid,
    authToken: TWILIO_TEST_AUTH_TOKEN,
    requests: [],
    accepted: () => standIn.requests.filter((message) => message.status === 201),
    unsubscribed: new Set(),
    respond: () => undefined,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer(async (request, response) => {
    const raw = await readBody(request);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };
    const error = (reply: TwilioReply) =>
      answer(
        reply.status,
        {
          code: reply.code,
          message: reply.message ?? 'Error',
          more_info: `https://www.twilio.com/docs/errors/${reply.code}`,
          status: reply.status,
        },
        reply.headers,
      );

    const path = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
    const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${TWILIO_TEST_AUTH_TOKEN}`).toString('base64')}`;
    if (request.headers.authorization !== expectedAuth) {
      return error({ status: 401, code: 20003, message: 'Authenticate' });
    }
    if (request.method !== 'POST' || request.url !== path) {
      return error({ status: 404, code: 20404, message: 'The requested resource was not found' });
    }
    if (!request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
      return error({ status: 400, code: 21601, message: 'Request must be form encoded' });
    }
    const form = new URLSearchParams(raw);
    const variables = form.get('ContentVariables');
    const message: TwilioMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      to: form.get('To') ?? '',
      from: form.get('From') ?? undefined,
      messagingServiceSid: form.get('MessagingServiceSid') ?? undefined,
      body: form.get('Body') ?? undefined,
      contentSid: form.get('ContentSid') ?? undefined,
      contentVariables: variables ? (JSON.parse(variables) as Record<string, string>) : undefined,
      status: 0,
      code: undefined,
    };
    const index = standIn.requests.push(message) - 1;
    const fail = (reply: TwilioReply) => {
      message.status = reply.status;
      message.code = reply.code;
      error(reply);
    };

    const scripted = standIn.respond(message, index);
    if (scripted && scripted.status !== 201) return fail(scripted);
    if (!message.to) return fail({ status: 400, code: 21604, message: "A 'To' phone number is required." });
    if (!message.from && !message.messagingServiceSid) {
      return fail({ status: 400, code: 21603, message: "A 'From' phone number is required." });
    }
    if (!message.body && !message.contentSid) {
      return fail({ status: 400, code: 21602, message: 'Message body is required.' });
    }
    const whatsapp = message.to.startsWith('whatsapp:');
    const number = whatsapp ? message.to.slice('whatsapp:'.length) : message.to;
    const fromOk = !message.from || message.from.startsWith('whatsapp:') === whatsapp;
    if (!E164.test(number) || !fromOk) {
      return fail({ status: 400, code: 21211, message: `Invalid 'To' Phone Number: ${message.to}` });
    }
    if (standIn.unsubscribed.has(number)) {
      return fail({ status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    }
    if (whatsapp && !message.contentSid) {
      return fail({
        status: 400,
        code: 63016,
        message: 'Failed to send freeform message because you are outside the allowed window.',
      });
    }
    message.status = 201;
    answer(201, {
      sid: message.sid,
      account_sid: accountSid,
      to: message.to,
      from: message.from ?? null,
      messaging_service_sid: message.messagingServiceSid ?? null,
      body: message.body ?? '',
      status: 'queued',
      num_segments: '1',
      direction: 'outbound-api',
      date_created: new Date().toUTCString(),
      uri: `${path.replace('.json', '')}/${message.sid}.json`,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standIn;
}
