import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The confirmToken of a destructive bulk action (archive, erase). A dry run answers it;
 * the real run must send it back unchanged and before it expires, or it is refused
 * with 428 confirmation_required. It is an HMAC (keyed with the admin key, like the
 * stream token) over its expiry, who asked, the action, its target and its params:
 * a token from a dry run of "archive these 30" does not confirm "erase everything",
 * nor someone else's request. Nothing is stored.
 */
export const CONFIRM_TOKEN_TTL_MS = 10 * 60_000;

export interface ConfirmSubject {
  /** The principal's member id, or null for the owner. */
  principalId: string | null;
  action: string;
  target: unknown;
  params: unknown;
}

/** JSON with object keys sorted at every level, so equal values sign equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function sign(key: string, expiresAt: number, subject: ConfirmSubject): string {
  return createHmac('sha256', key)
    .update(
      [
        'leadrelay-bulk-confirm',
        expiresAt,
        subject.principalId ?? 'owner',
        subject.action,
        canonicalJson(subject.target),
        canonicalJson(subject.params),
      ].join('\n'),
    )
    .digest('base64url');
}

export function createConfirmToken(
  key: string,
  subject: ConfirmSubject,
  now = Date.now(),
): { token: string; expiresAt: string } {
  const expiresAt = now + CONFIRM_TOKEN_TTL_MS;
  return {
    token: `${expiresAt}.${sign(key, expiresAt, subject)}`,
    expiresAt: new Date(expiresAt).toISOString(),
  };
}

export function verifyConfirmToken(
  key: string,
  token: string,
  subject: ConfirmSubject,
  now = Date.now(),
): boolean {
  const match = /^(\d{13,15})\.([\w-]{43})$/.exec(token);
  if (!match) return false;
  const expiresAt = Number(match[1]);
  if (!Number.isSafeInteger(expiresAt) || expiresAt < now) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match[2]!), digest(sign(key, expiresAt, subject)));
}
