import { describe, expect, it } from 'vitest';
import {
  CONVERSATION_STREAM_TOKEN_TTL_MS,
  createConversationStreamToken,
  hashConversationToken,
  issueConversationToken,
  looksLikeConversationToken,
  verifyConversationStreamToken,
} from '../../src/conversations/conversation-tokens.js';

const KEY = 'k'.repeat(40);
const ID = '8f7b1c9e-2a3d-4e5f-9a0b-1c2d3e4f5a6b';

describe('conversation tokens', () => {
  it('are 256 random bits behind lrc_, stored as their SHA-256', () => {
    const a = issueConversationToken();
    const b = issueConversationToken();
    expect(a.token).toMatch(/^lrc_[\w-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.hash).toBe(hashConversationToken(a.token));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(looksLikeConversationToken(a.token)).toBe(true);
    expect(looksLikeConversationToken('lrm_member-token')).toBe(false);
  });

  it('stream tokens open one conversation for one minute, with the view they were issued for', () => {
    const now = Date.now();
    const { token, expiresAt } = createConversationStreamToken(KEY, ID, '42', now);
    expect(Date.parse(expiresAt) - now).toBe(CONVERSATION_STREAM_TOKEN_TTL_MS);
    expect(verifyConversationStreamToken(KEY, ID, token, now)).toEqual({ visibleAfter: '42' });
    expect(
      verifyConversationStreamToken(KEY, ID, token, now + CONVERSATION_STREAM_TOKEN_TTL_MS + 1),
    ).toBeNull();
    expect(verifyConversationStreamToken(KEY, ID.replace('8', '9'), token, now)).toBeNull();
    expect(verifyConversationStreamToken('x'.repeat(40), ID, token, now)).toBeNull();
    expect(verifyConversationStreamToken(KEY, ID, token.replace('.42.', '.0.'), now)).toBeNull();
    expect(verifyConversationStreamToken(KEY, ID, 'garbage', now)).toBeNull();
  });
});
