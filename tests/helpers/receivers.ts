import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { TEST_SECRETS } from './secrets.js';

/**
 * Real protocol servers on 127.0.0.1 (port 0) standing in for Slack, Telegram and
 * an SMTP relay. They record everything they receive and answer as the test says.
 */
export interface HttpReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, reply: HttpReply) {
  const isText = typeof reply.body === 'string';
  response.writeHead(reply.status, {
    'content-type': isText ? 'text/plain' : 'application/json',
    ...reply.headers,
  });
  response.end(isText ? reply.body : JSON.stringify(reply.body ?? {}));
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

// Slack ---------------------------------------------------------------------------

export interface SlackPost {
  path: string;
  body: { text?: string; blocks?: unknown[] } & Record<string, unknown>;
  raw: string;
  status: number;
  at: number;
}

export interface SlackReceiver {
  /** Webhook URL, shaped like Slack's (the path is the secret). */
  url: string;
  /** Every request received, accepted or not. */
  requests: SlackPost[];
  /** Requests answered 200. */
  delivered(): SlackPost[];
  /** Decides the answer to each request; default 200 "ok". */
  /** May hold the answer by returning a promise. */
  respond: (post: SlackPost, index: number) => HttpReply | Promise<HttpReply>;
  close(): Promise<void>;
}

export const SLACK_OK: HttpReply = { status: 200, body: 'ok' };

export async function startSlackReceiver(): Promise<SlackReceiver> {
  const receiver: SlackReceiver = {
    url: '',
    requests: [],
    delivered: () => receiver.requests.filter((post) => post.status === 200),
    respond: () => SLACK_OK,
    close: () => closeServer(server),
  };
  const server = createServer(async (request, response) => {
    const raw = await readBody(request);
    const post: SlackPost = {
      path: request.url ?? '',
      body: JSON.parse(raw),
      raw,
      status: 0,
      at: Date.now(),
    };
    const index = receiver.requests.push(post) - 1;
    const reply = await receiver.respond(post, index);
    // A client that gave up (timeout, killed) never saw the answer: not delivered.
    if (response.destroyed || request.socket.destroyed) return;
    post.status = reply.status;
    send(response, reply);
  });
  const port = await listen(server);
  receiver.url = `http://127.0.0.1:${port}${TEST_SECRETS.slackWebhookPath}`;
  return receiver;
}

// Telegram ------------------------------------------------------------------------

export interface TelegramRequest {
  token: string;
  method: string;
  params: Record<string, string>;
  status: number;
  at: number;
}

export interface TelegramReceiver {
  /** Bot API root (TELEGRAM_API_URL). */
  url: string;
  requests: TelegramRequest[];
  delivered(): TelegramRequest[];
  /** Decides the answer; default ok. Use telegramError() for failures. */
  respond: (request: TelegramRequest, index: number) => HttpReply | Promise<HttpReply>;
  close(): Promise<void>;
}

export function telegramError(code: number, description: string, retryAfter?: number): HttpReply {
  return {
    status: code,
    body: {
      ok: false,
      error_code: code,
      description,
      ...(retryAfter === undefined ? {} : { parameters: { retry_after: retryAfter } }),
    },
  };
}

export async function startTelegramReceiver(): Promise<TelegramReceiver> {
  let messageId = 0;
  const receiver: TelegramReceiver = {
    url: '',
    requests: [],
    delivered: () => receiver.requests.filter((request) => request.status === 200),
    respond: (request) => ({
      status: 200,
      body: {
        ok: true,
        result: {
          message_id: ++messageId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: Number(request.params.chat_id), type: 'group' },
          text: request.params.text,
        },
      },
    }),
    close: () => closeServer(server),
  };
  const server = createServer(async (request, response) => {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(request.url ?? '');
    const raw = await readBody(request);
    if (!match) return send(response, telegramError(404, 'Not Found'));
    const type = request.headers['content-type'] ?? '';
    const params: Record<string, string> = type.includes('application/json')
      ? Object.fromEntries(
          Object.entries(JSON.parse(raw)).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
        )
      : Object.fromEntries(new URLSearchParams(raw));
    const entry: TelegramRequest = {
      token: decodeURIComponent(match[1]!),
      method: match[2]!,
      params,
      status: 0,
      at: Date.now(),
    };
    const index = receiver.requests.push(entry) - 1;
    const reply = await receiver.respond(entry, index);
    if (response.destroyed || request.socket.destroyed) return;
    entry.status = reply.status;
    send(response, reply);
  });
  const port = await listen(server);
  receiver.url = `http://127.0.0.1:${port}`;
  return receiver;
}

// SMTP ----------------------------------------------------------------------------

export interface ReceivedEmail {
  from: string | undefined;
  to: string[];
  subject: string;
  text: string;
  html: string;
  raw: string;
  at: number;
}

export interface SmtpReceiver {
  host: string;
  port: number;
  messages: ReceivedEmail[];
  /** Return an SMTP code (e.g. 450, 550) to refuse a recipient, or null to accept. */
  rejectRecipient: (address: string, attemptIndex: number) => number | null | Promise<number | null>;
  /** How many RCPT TO commands were seen (accepted or not). */
  recipientAttempts: number;
  close(): Promise<void>;
}

export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const receiver: SmtpReceiver = {
    host: '127.0.0.1',
    port: 0,
    messages: [],
    rejectRecipient: () => null,
    recipientAttempts: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      void Promise.resolve(receiver.rejectRecipient(address.address, receiver.recipientAttempts++)).then(
        (code) => {
          if (code === null) return callback();
          const error = Object.assign(new Error(`Recipient refused by test (${code})`), {
            responseCode: code,
          });
          callback(error);
        },
      );
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mailFrom = session.envelope.mailFrom;
        receiver.messages.push({
          ...parseMime(raw),
          from: mailFrom ? mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw,
          at: Date.now(),
        });
        callback();
      });
    },
  });
  // A client that dies mid-session (a worker killed with SIGKILL) resets its connection;
  // smtp-server reports that as an 'error' event, which is the client's trouble, not ours.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.port = (server.server.address() as AddressInfo).port;
  return receiver;
}

// A small MIME reader: enough for nodemailer's multipart/alternative output.

function splitHeaders(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  const head = at === -1 ? raw : raw.slice(0, at);
  const body = at === -1 ? '' : raw.slice(at + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '').toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable': {
      const bytes = body
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    }
    default:
      return body;
  }
}

function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=\s*/g, (_, _charset, kind: string, text: string) =>
    kind.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : decodeBody(text.replace(/_/g, ' '), 'quoted-printable'),
  );
}

function parseMime(raw: string): { subject: string; text: string; html: string } {
  const { headers, body } = splitHeaders(raw);
  const result = { subject: decodeWords(headers.subject ?? ''), text: '', html: '' };
  const collect = (partHeaders: Record<string, string>, partBody: string) => {
    const type = partHeaders['content-type'] ?? 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (boundary) {
      for (const part of partBody.split(`--${boundary}`).slice(1)) {
        if (part.startsWith('--')) break;
        const parsed = splitHeaders(part.replace(/^\r\n/, ''));
        collect(parsed.headers, parsed.body.replace(/\r\n$/, ''));
      }
      return;
    }
    const decoded = decodeBody(partBody, partHeaders['content-transfer-encoding']);
    if (type.startsWith('text/html')) result.html = decoded;
    else if (type.startsWith('text/plain')) result.text = decoded;
  };
  collect(headers, body);
  return result;
}
