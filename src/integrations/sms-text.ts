import { headline } from '../notifications/lead-alert.js';
import type { LeadAlert } from '../notifications/sender.js';

/**
 * The SMS alert: name, intent, phone and the link, kept to two segments at most.
 * Plain text in the GSM-7 alphabet fits 2 × 153 = 306 characters; one character
 * outside it (Arabic, an emoji) makes the whole message UCS-2: 2 × 67 = 134. The
 * link and the phone are never cut (they are what the rep taps); name and intent are.
 */
const GSM7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€]*$/;
/** GSM-7 characters that take two septets (escape + character). */
const GSM7_EXTENDED = /[\^{}\\[~\]|€]/g;

export const SMS_MAX_GSM7 = 306;
export const SMS_MAX_UCS2 = 134;

export function isGsm7(text: string): boolean {
  return GSM7.test(text);
}

/** Length in the units the segment limits count: septets for GSM-7, UTF-16 units for UCS-2. */
export function smsLength(text: string): number {
  return isGsm7(text) ? text.length + (text.match(GSM7_EXTENDED)?.length ?? 0) : text.length;
}

export function smsLimit(text: string): number {
  return isGsm7(text) ? SMS_MAX_GSM7 : SMS_MAX_UCS2;
}

function cut(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

export function formatSms(alert: LeadAlert): string {
  const fixed = [alert.phone ?? alert.email ?? '', alert.leadUrl].filter(Boolean).join(' ');
  const name = (alert.name ?? 'Unnamed lead').replace(/\s+/g, ' ').trim();
  const intent = (alert.intent ?? '').replace(/\s+/g, ' ').trim();
  const compose = (n: string, i: string) => `${headline(alert)}: ${n}${i ? ` (${i})` : ''}\n${fixed}`;
  let text = compose(name, intent);
  // Shorten intent first, then name, until the message fits its two segments.
  for (let budget = 80; smsLength(text) > smsLimit(text) && budget > 0; budget -= 8) {
    text = compose(cut(name, Math.max(8, budget)), budget > 24 ? cut(intent, budget - 16) : '');
  }
  if (smsLength(text) > smsLimit(text)) text = compose('', '');
  return text;
}
