import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/dashboard/client/api/conversation.js';
import { compareIds, mergeMessages, unreadUpTo } from '../../src/dashboard/client/state/conversation.js';

/** The conversation pane's pure parts: id order, merging live reads, and what a read mark covers. */
const message = (
  id: string,
  role: ChatMessage['role'] = 'visitor',
  readAt: string | null = null,
): ChatMessage => ({
  id,
  conversationId: 'c',
  role,
  text: `message ${id}`,
  senderName: role === 'agent' ? 'Mia' : null,
  senderId: null,
  at: null,
  createdAt: '2026-12-01T22:00:00.000Z',
  readAt,
});

describe('conversation state', () => {
  it('orders bigint ids as numbers, not as text', () => {
    expect(compareIds('9', '10')).toBeLessThan(0);
    expect(compareIds('10', '9')).toBeGreaterThan(0);
    expect(compareIds('123456789012345678', '123456789012345679')).toBeLessThan(0);
    expect(compareIds('42', '42')).toBe(0);
  });

  it('merges pages by id: no duplicates, newer copies win, id order kept', () => {
    const held = [message('8'), message('9')];
    const merged = mergeMessages(held, [message('10', 'agent'), message('9', 'visitor', 'now')]);
    expect(merged.map((m) => m.id)).toEqual(['8', '9', '10']);
    expect(merged[1]!.readAt).toBe('now');
    expect(mergeMessages(held, [])).toBe(held);
    // An older page prepends.
    expect(mergeMessages(merged, [message('7', 'bot')]).map((m) => m.id)).toEqual(['7', '8', '9', '10']);
  });

  it('marks read up to the newest unread visitor message, ignoring replies and bot lines', () => {
    expect(unreadUpTo([])).toBeNull();
    expect(unreadUpTo([message('1', 'bot'), message('2', 'agent')])).toBeNull();
    expect(
      unreadUpTo([message('1'), message('2', 'visitor', 'x'), message('3'), message('4', 'agent')]),
    ).toBe('3');
    expect(unreadUpTo([message('1'), message('2', 'visitor', 'x')])).toBe('1');
  });
});
