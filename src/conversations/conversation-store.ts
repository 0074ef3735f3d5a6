import { NotFoundError } from '../errors.js';
import { SqlState, StorageQueryError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import { hashConversationToken, looksLikeConversationToken } from './conversation-tokens.js';

/**
 * Conversations over the storage interface (SQL functions chat_* in
 * supabase/migrations/20261201222000_conv_core_chat_messages.sql). Visitor tokens are
 * hashed here, before anything leaves the process. SQLSTATEs become domain errors:
 * LR401 -> ConversationTokenError, LR404 -> NotFoundError. Nothing here knows HTTP.
 */

/** A message as the widget sees it: agents by name only. */
export interface VisitorMessage {
  id: string;
  role: 'visitor' | 'bot' | 'agent';
  text: string;
  /** The agent's name for agent replies; null otherwise. */
  senderName: string | null;
  /** The widget's own time for a transcript item; null otherwise. */
  at: string | null;
  createdAt: string;
}

/** A message as the dashboard sees it. */
export interface AdminMessage extends VisitorMessage {
  conversationId: string;
  /** The replying member's id (null for the owner key and non-agent messages). */
  senderId: string | null;
  /** Visitor messages: when an agent marked it read; null while unread (always null for others). */
  readAt: string | null;
}

export interface MessagePage<M> {
  items: M[];
  /** Pass as `after` to get what follows (the last item's id, or the given cursor when empty). */
  cursor: string | null;
  /** More messages follow this page right now. */
  hasMore: boolean;
}

export interface AdminMessagePage extends MessagePage<AdminMessage> {
  /** Pass as `before` for the page of older messages; null when there are none. */
  olderCursor: string | null;
}

/** The token is unknown, expired or not a conversation token at all (a 401 that says nothing more). */
export class ConversationTokenError extends Error {
  constructor() {
    super('A valid conversation token is required');
    this.name = 'ConversationTokenError';
  }
}

async function callChat<T>(storage: Storage, fn: string, args: Record<string, unknown>, what: string) {
  try {
    return await storage.call<T>(fn, args);
  } catch (error) {
    if (error instanceof StorageQueryError) {
      if (error.code === 'LR401') throw new ConversationTokenError();
      if (error.code === SqlState.notFound) throw new NotFoundError(what);
    }
    throw error;
  }
}

function tokenHash(token: string): string {
  if (!looksLikeConversationToken(token)) throw new ConversationTokenError();
  return hashConversationToken(token);
}

export function visitorStore(storage: Storage) {
  return {
    /** Checks a token for a conversation; answers its view (the stream token carries it). */
    authenticate(
      conversationId: string,
      token: string,
    ): Promise<{ visibleAfter: string; expiresAt: string }> {
      return callChat(
        storage,
        'chat_visitor_authenticate',
        { p_conversation_id: conversationId, p_token_hash: tokenHash(token) },
        'Conversation',
      );
    },
    list(
      conversationId: string,
      token: string,
      after: string | undefined,
    ): Promise<MessagePage<VisitorMessage>> {
      return callChat(
        storage,
        'chat_visitor_messages',
        { p_conversation_id: conversationId, p_token_hash: tokenHash(token), p_after: after, p_limit: 200 },
        'Conversation',
      );
    },
    post(
      conversationId: string,
      token: string,
      text: string,
      cooldownSeconds: number,
    ): Promise<{ id: string; createdAt: string; eventId: number | null; alertDueAt: string | null }> {
      return callChat(
        storage,
        'chat_visitor_post',
        {
          p_conversation_id: conversationId,
          p_token_hash: tokenHash(token),
          p_text: text,
          p_cooldown_seconds: cooldownSeconds,
        },
        'Conversation',
      );
    },
    /** Messages after `after` that the stream pushes (agent replies), for an already checked view. */
    agentRepliesAfter(
      conversationId: string,
      visibleAfter: string,
      after: string,
    ): Promise<MessagePage<VisitorMessage>> {
      return callChat(
        storage,
        'chat_list_visible',
        {
          p_conversation_id: conversationId,
          p_visible_after: visibleAfter,
          p_after: after,
          p_limit: 200,
          p_roles: ['agent'],
        },
        'Conversation',
      );
    },
  };
}

export function adminConversationStore(storage: Storage) {
  return {
    list(
      leadId: string,
      page: { after?: string | undefined; before?: string | undefined; limit: number },
    ): Promise<AdminMessagePage> {
      return callChat(
        storage,
        'chat_admin_messages',
        { p_conversation_id: leadId, p_after: page.after, p_before: page.before, p_limit: page.limit },
        `Lead ${leadId}`,
      );
    },
    reply(
      leadId: string,
      text: string,
      sender: { memberId: string | null; name: string },
    ): Promise<{
      message: AdminMessage;
      firstContact: boolean;
      firstResponseAt: string | null;
      secondsToFirstResponse: number | null;
    }> {
      return callChat(
        storage,
        'chat_admin_reply',
        { p_conversation_id: leadId, p_text: text, p_member_id: sender.memberId, p_sender_name: sender.name },
        `Lead ${leadId}`,
      );
    },
    markRead(leadId: string, upTo: string, actor: string): Promise<{ marked: number; unreadCount: number }> {
      return callChat(
        storage,
        'chat_admin_mark_read',
        { p_conversation_id: leadId, p_up_to: upTo, p_actor: actor },
        `Lead ${leadId}`,
      );
    },
    /** Unread visitor messages per lead id (leads without any are left out). */
    unreadCounts(leadIds: readonly string[]): Promise<Record<string, number>> {
      if (leadIds.length === 0) return Promise.resolve({});
      return callChat(storage, 'chat_unread_counts', { p_ids: { ids: leadIds } }, 'leads');
    },
  };
}

/**
 * Wakes dashboards (message.created) and, for an alert due now, workers, after the
 * message committed. Not awaited by callers: a missed wake-up is caught by polling.
 */
export function announceMessage(
  storage: Storage,
  message: { conversationId: string; id: string; role: 'visitor' | 'agent'; eventId?: number | null },
  onError: (error: unknown) => void,
): void {
  storage
    .call('chat_announce_message', {
      p_conversation_id: message.conversationId,
      p_message_id: message.id,
      p_role: message.role,
      p_event_id: message.eventId ?? undefined,
    })
    .catch(onError);
}

/** The conversation's newest message id ('0' when it has none): where a stream without a cursor starts. */
export function latestMessageId(storage: Storage, conversationId: string): Promise<string> {
  return storage.call<string>('chat_latest_message_id', { p_conversation_id: conversationId });
}

/** What the worker sends for a message.received event (chat_alert_collapse; see message-alerts.ts). */
export interface CollapsedAlert {
  conversationId: string;
  /** Visitor messages the alert covers; 0: nothing to send (they went out with another alert). */
  messageCount: number;
  /** The latest covered texts (at most five, each cut to 1,000 characters), oldest first. */
  messages?: string[];
  [field: string]: unknown;
}

/**
 * Fixes what a message.received event covers and starts the cooldown; idempotent per
 * event (a retry gets the same answer).
 */
export function collapseMessageAlert(storage: Storage, eventId: number): Promise<CollapsedAlert> {
  return storage.call<CollapsedAlert>('chat_alert_collapse', { p_event_id: eventId });
}
