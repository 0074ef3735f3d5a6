import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The widget's conversation tokens: `lrc_` + 32 random bytes (base64url), answered once
 * in the capture's 201 and stored only as their SHA-256 (256 random bits leave nothing
 * to brute-force from the hash, so no slow hash is needed). The API hashes what a
 * visitor sends and the database compares hashes: neither the token nor a timing
 * difference reaches it.
 *
 * EventSource cannot send headers, so the stream also takes a short-lived stream token
 * in `?token=`: an HMAC (keyed with the server's admin key, under its own label) of
 * the conversation, the token's view (visible_after) and an expiry a minute ahead. It
 * is useless for any other conversation or route and for anything after that minute,
 * which is what a URL that may end up in a proxy log can afford.
 */
export const CONVERSATION_TOKEN_PREFIX = 'lrc_';
const CONVERSATION_TOKEN = /^lrc_[\w-]{43}$/;
export const CONVERSATION_STREAM_TOKEN_TTL_MS = 60_000;

export function hashConversationToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function issueConversationToken(): { token: string; hash: string } {
  const token = `${CONVERSATION_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashConversationToken(token) };
}

export function looksLikeConversationToken(value: string): boolean {
  return CONVERSATION_TOKEN.test(value);
}

function sign(key: string, conversationId: string, visibleAfter: string, expiresAt: number): string {
  return createHmac('sha256', key)
    .update(`leadrelay-conversation-stream:${conversationId}:${visibleAfter}:${expiresAt}`)
    .digest('base64url');
}

export function createConversationStreamToken(
  key: string,
  conversationId: string,
  visibleAfter: string,
  now = Date.now(),
): { token: string; expiresAt: string } {
  const expiresAt = now + CONVERSATION_STREAM_TOKEN_TTL_MS;
  return {
    token: `${expiresAt}.${visibleAfter}.${sign(key, conversationId, visibleAfter, expiresAt)}`,
    expiresAt: new Date(expiresAt).toISOString(),
  };
}

/** The token's view (visible_after) when it is valid for this conversation now; null otherwise. */
export function verifyConversationStreamToken(
  key: string,
  conversationId: string,
  token: string,
  now = Date.now(),
): { visibleAfter: string } | null {
  const match = /^(\d{13,15})\.(\d{1,19})\.([\w-]{43})$/.exec(token);
  if (!match) return null;
  const expiresAt = Number(match[1]);
  if (!Number.isSafeInteger(expiresAt) || expiresAt < now) return null;
  const expected = Buffer.from(sign(key, conversationId, match[2]!, expiresAt));
  const given = Buffer.from(match[3]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  return { visibleAfter: match[2]! };
}
