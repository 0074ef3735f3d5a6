import type { ApiClient } from './client.js';

/**
 * A lead's conversation (issue 14): the transcript, the visitor's follow-ups and the
 * agents' replies (GET/POST /api/admin/leads/:id/messages, .../messages/read).
 * Shapes: docs/conversations.md. With CHAT_DISABLED the API answers 503 chat_disabled.
 */
export interface ChatMessage {
  id: string;
  conversationId: string;
  role: 'visitor' | 'bot' | 'agent';
  text: string;
  /** The replying agent's name; null for visitor and bot messages. */
  senderName: string | null;
  senderId: string | null;
  /** The widget's own time for a transcript item. */
  at: string | null;
  createdAt: string;
  /** Visitor messages: when an agent marked it read; null while unread. */
  readAt: string | null;
}

export interface MessagePage {
  items: ChatMessage[];
  /** Pass as `after` for newer messages. */
  cursor: string | null;
  hasMore: boolean;
  /** Pass as `before` for the page of older ones; null when there are none. */
  olderCursor: string | null;
}

export const MESSAGE_PAGE = 50;

const path = (leadId: string) => `/api/admin/leads/${encodeURIComponent(leadId)}/messages`;

/** The latest page (no cursor), what follows `after`, or the page before `before`. */
export const listMessages = (
  api: ApiClient,
  leadId: string,
  page: { after?: string | null; before?: string | null } = {},
) =>
  api.request<MessagePage>(path(leadId), {
    query: { after: page.after ?? undefined, before: page.before ?? undefined, limit: MESSAGE_PAGE },
  });

export const sendReply = (api: ApiClient, leadId: string, text: string) =>
  api.request<{ message: ChatMessage; firstContact: boolean }>(path(leadId), {
    method: 'POST',
    body: { text },
  });

export const markRead = (api: ApiClient, leadId: string, upTo: string) =>
  api.request<{ marked: number; unreadCount: number }>(`${path(leadId)}/read`, {
    method: 'POST',
    body: { upTo },
  });
