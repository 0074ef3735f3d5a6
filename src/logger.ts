import pino, { type LoggerOptions } from 'pino';
import { errorForLog } from './storage/errors.js';

/**
 * Logging policy: secrets never reach a log line, personal data only masked.
 * - Every logged object is walked to any depth (`protectLogObject`): a key that names
 *   a secret is censored, a key that names a phone or an email is masked, and every
 *   Error is serialised by `errorForLog`, which reduces database errors to SQLSTATE,
 *   constraint and table (their DETAIL holds whole rows, contact data included).
 * - The fixed paths below are a second layer for the request objects Fastify logs.
 * - Code that mentions a contact on purpose uses maskPhone / maskEmail.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.password',
  '*.pass',
  '*.apiKey',
  '*.token',
  '*.botToken',
  '*.webhookUrl',
  '*.serviceRoleKey',
  '*.supabaseServiceRoleKey',
  '*.databaseUrl',
  'config',
];

const SECRET_QUERY_PARAMS = /([?&](?:key|token|api_key|access_token)=)[^&#]*/gi;

/** Removes credentials that clients may put in a query string (EventSource cannot send headers). */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, '$1[REDACTED]');
}

export function maskEmail(email: string | null | undefined): string | undefined {
  if (!email) return undefined;
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

export function maskPhone(phone: string | null | undefined): string | undefined {
  if (!phone) return undefined;
  const visible = phone.slice(-3);
  return `${phone.startsWith('+') ? '+' : ''}***${visible}`;
}

/** Keys (compared case-insensitively, without `-` and `_`) whose values are secrets. */
const SECRET_KEYS = new Set(
  [
    'password',
    'pass',
    'apiKey',
    'token',
    'botToken',
    'accessToken',
    'secret',
    'webhookUrl',
    'serviceRoleKey',
    'supabaseServiceRoleKey',
    'databaseUrl',
    'connectionString',
    'authorization',
    'cookie',
    'x-api-key',
    'config',
  ].map(normalKey),
);
const EMAIL_KEYS = new Set(['email', 'customerEmail', 'customer_email'].map(normalKey));
const PHONE_KEYS = new Set(['phone', 'customerPhone', 'customer_phone'].map(normalKey));

function normalKey(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '');
}

const MAX_DEPTH = 12;

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of a log object that is safe at any depth: secrets censored, contacts masked,
 * errors reduced. Class instances other than errors (Fastify's request and reply)
 * are left to their serializers.
 */
export function protectLogObject(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return '[TOO DEEP]';
  if (value instanceof Error) return protectLogObject(errorForLog(value), depth + 1);
  if (Array.isArray(value)) return value.map((item) => protectLogObject(item, depth + 1));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const normal = normalKey(key);
    if (SECRET_KEYS.has(normal) && field !== undefined && field !== null) out[key] = '[REDACTED]';
    else if (EMAIL_KEYS.has(normal) && typeof field === 'string') out[key] = maskEmail(field);
    else if (PHONE_KEYS.has(normal) && typeof field === 'string') out[key] = maskPhone(field);
    else out[key] = protectLogObject(field, depth + 1);
  }
  return out;
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    formatters: {
      log: (object) => protectLogObject(object) as Record<string, unknown>,
    },
    serializers: {
      req(request: { id?: string; method?: string; url?: string; ip?: string }) {
        return { id: request.id, method: request.method, url: redactUrl(request.url ?? ''), ip: request.ip };
      },
      err: (error: unknown) => protectLogObject(error),
    },
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): pino.Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}

export type Logger = pino.Logger;
