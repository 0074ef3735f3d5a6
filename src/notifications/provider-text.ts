/**
 * The one sanitiser for text that comes from a provider (Slack's error body, an SMTP
 * reply, Telegram's description, a library's error message) and is then stored
 * (notification_logs.error, lead_events.last_error) or logged.
 *
 * Why each step:
 * - Secrets first (webhook URL, bot token, SMTP password, and anything shaped like a
 *   Slack webhook path or a Telegram bot token), before any cut, so a cut can never
 *   leave half a secret behind.
 * - Well-formed Unicode: a lone UTF-16 surrogate becomes U+FFFD. JSON.stringify writes
 *   it as `\udXXX`, which Postgres refuses in jsonb (22P02): one such byte in a batch
 *   used to make the whole record call fail, and the worker exit.
 * - No NUL (Postgres text cannot hold it, 22P05 in jsonb) and no other C0 control
 *   except tab, newline and carriage return: they become U+FFFD too, so the log line
 *   still shows that something was there.
 * - Cut by code points, never inside a character (String.slice counts UTF-16 units and
 *   splits emoji), with an ellipsis that says it was cut.
 */
export const PROVIDER_TEXT_MAX_CODE_POINTS = 200;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;
const REPLACEMENT = '\uFFFD';
const MIN_SECRET_LENGTH = 4;

export function providerText(
  value: unknown,
  secrets: readonly (string | undefined)[] = [],
  maxCodePoints = PROVIDER_TEXT_MAX_CODE_POINTS,
): string {
  let text = typeof value === 'string' ? value : String(value ?? '');
  for (const secret of secrets) {
    if (secret && secret.length >= MIN_SECRET_LENGTH) text = text.split(secret).join('[REDACTED]');
  }
  text = text
    .replace(/\/services\/[A-Za-z0-9/_-]+/g, '/services/[REDACTED]')
    .replace(/bot\d+:[A-Za-z0-9_-]+/g, 'bot[REDACTED]')
    .replace(LONE_SURROGATE, REPLACEMENT)
    .replace(CONTROL, REPLACEMENT);
  return cutCodePoints(text, maxCodePoints);
}

/** At most `max` code points; a cut text ends with "…" (which counts as one). */
export function cutCodePoints(text: string, max: number): string {
  // Fast path: a string no longer than `max` UTF-16 units has at most `max` code points.
  if (text.length <= max) return text;
  const points = Array.from(text);
  if (points.length <= max) return text;
  return `${points.slice(0, Math.max(0, max - 1)).join('')}…`;
}
