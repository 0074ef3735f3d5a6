import pino, { type LoggerOptions } from 'pino';

/**
 * Logging policy: secrets never reach a log line, personal data only masked.
 * Redaction covers the places secrets can appear (auth headers, config objects,
 * error objects carrying request options); PII is masked by the helpers below
 * wherever code chooses to mention a contact.
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

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    serializers: {
      req(request: { id?: string; method?: string; url?: string; ip?: string }) {
        return { id: request.id, method: request.method, url: redactUrl(request.url ?? ''), ip: request.ip };
      },
      err: pino.stdSerializers.err,
    },
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): pino.Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}

export type Logger = pino.Logger;
