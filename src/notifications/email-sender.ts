import { createTransport } from 'nodemailer';
import { formatEmail } from './format.js';
import { providerText } from './provider-text.js';
import { type LeadAlert, type NotificationSender, SendError } from './sender.js';

export interface EmailSenderOptions {
  host: string;
  port: number;
  secure: boolean;
  user?: string | undefined;
  /** Secret: scrubbed from every error text. */
  pass?: string | undefined;
  from: string;
  to: string[];
  timeoutMs: number;
}

/** Connection-level failures: the message never got a verdict, so trying again is right. */
const TRANSIENT_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'EABORT',
  'EPROTOCOL',
]);

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  permanent?: boolean;
  response?: string;
}

/**
 * Email over SMTP with nodemailer: an HTML part and a plain-text part, to EMAIL_TO.
 * Every timeout of the connection is bounded by the send timeout, and the send's
 * AbortSignal (nodemailer 10.5+) cancels a send in progress on shutdown.
 */
/** EMAIL_TO, plus the lead's owner when they have an address (once, whatever the case). */
export function recipientsOf(alert: LeadAlert, configured: string[]): string[] {
  const owner = alert.assignee?.email;
  if (!owner || configured.some((address) => address.toLowerCase() === owner.toLowerCase()))
    return configured;
  return [...configured, owner];
}

export function createEmailSender(options: EmailSenderOptions): NotificationSender {
  const secrets = [options.pass];
  // A pool keeps SMTP connections open between alerts: a handshake (and TLS) per
  // message was the drain's slowest step in the benchmark.
  const transport = createTransport({
    pool: true,
    maxConnections: 3,
    host: options.host,
    port: options.port,
    secure: options.secure,
    ...(options.user ? { auth: { user: options.user, pass: options.pass ?? '' } } : {}),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  return {
    channel: 'email',
    async send(alert, signal) {
      const content = formatEmail(alert);
      const to = recipientsOf(alert, options.to);
      try {
        const info = await transport.sendMail({
          from: options.from,
          to,
          subject: content.subject,
          text: content.text,
          html: content.html,
          signal,
        });
        const rejected = (info.rejected ?? []).length;
        // With several recipients some may be refused while the rest got it: that is a
        // delivery, noted on the log row rather than retried (a retry would re-send to all).
        return {
          providerStatus: 250,
          note: rejected > 0 ? `${rejected} of ${to.length} recipients refused` : undefined,
        };
      } catch (error) {
        throw classifySmtpError(error as SmtpError, signal, secrets);
      }
    },
    async close() {
      transport.close();
    },
  };
}

function classifySmtpError(
  error: SmtpError,
  signal: AbortSignal,
  secrets: (string | undefined)[],
): SendError {
  const scrub = (text: string) => providerText(text, secrets);
  if (typeof error.responseCode === 'number') {
    const code = error.responseCode;
    // RFC 5321: 5yz is a permanent refusal (except 503, a session-state problem), 4yz transient.
    const permanent = error.permanent ?? (code >= 500 && code !== 503);
    const response = scrub(error.response ?? error.message);
    return new SendError(`SMTP server answered ${code}: ${response}`, permanent ? 'permanent' : 'transient', {
      providerStatus: code,
    });
  }
  if (signal.aborted) return new SendError('SMTP send timed out', 'transient');
  const kind = error.code && !TRANSIENT_CODES.has(error.code) ? 'permanent' : 'transient';
  const code = error.code ? ` (${error.code})` : '';
  return new SendError(scrub(`SMTP send failed${code}: ${error.message}`), kind);
}
