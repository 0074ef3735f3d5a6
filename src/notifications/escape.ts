/**
 * Escaping and truncation. User text (name, message, source...) is untrusted: it
 * must never become markup in a channel. Every value goes through the escaper of
 * the channel it is sent on, and truncation happens while escaping, so a cut can
 * never split an entity like `&amp;` in half.
 */
const SLACK_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

const ELLIPSIS = '…';

function escapeWith(table: Record<string, string>, text: string, maxLength: number): string {
  let out = '';
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    const piece = table[char] ?? char;
    // Keep room for the ellipsis unless this is the very last character.
    const room = i === chars.length - 1 ? maxLength : maxLength - ELLIPSIS.length;
    if (out.length + piece.length > room) return out + ELLIPSIS;
    out += piece;
  }
  return out;
}

/**
 * Slack mrkdwn: `&`, `<` and `>` are the only control characters, so escaping them
 * makes `<!channel>`, `<@U123>` and `<http://evil|click>` inert text.
 */
export function escapeSlack(text: string, maxLength = Number.POSITIVE_INFINITY): string {
  return escapeWith(SLACK_ESCAPES, text, maxLength);
}

/** HTML text and attribute values (email bodies, Telegram's HTML parse mode). */
export function escapeHtml(text: string, maxLength = Number.POSITIVE_INFINITY): string {
  return escapeWith(HTML_ESCAPES, text, maxLength);
}

/** Plain text cut to `maxLength` characters (email subject and text part). */
export function truncate(text: string, maxLength: number): string {
  const chars = Array.from(text);
  if (chars.length <= maxLength) return text;
  return chars.slice(0, Math.max(0, maxLength - 1)).join('') + ELLIPSIS;
}

/** Removes line breaks and control characters (headers, one-line fields). */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** `tel:` target for a tap-to-call link: digits and a leading plus only, or null. */
export function telHref(phone: string | null | undefined): string | null {
  if (!phone) return null;
  const digits = phone.replace(/[^\d+]/g, '').replace(/(?!^)\+/g, '');
  return /^\+?\d{3,20}$/.test(digits) ? `tel:${digits}` : null;
}

/** `mailto:` target for an address that is safe inside a link, or null. */
export function mailtoHref(email: string | null | undefined): string | null {
  if (!email) return null;
  return /^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/.test(email)
    ? `mailto:${email}`
    : null;
}
