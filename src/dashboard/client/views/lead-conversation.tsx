import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatMessage } from '../api/conversation.js';
import type { DashboardModel } from '../dashboard.js';
import { useStore } from '../state/store.js';
import { formatTime } from './format.js';

/**
 * The lead's conversation: the chat transcript, the visitor's follow-ups and the
 * agents' replies, live (message.created on the admin stream, or the poll), with a
 * reply box. Visitor messages shown while the tab is visible are marked read, which
 * clears the list's unread badge. Every text is rendered as text, never as HTML.
 */
export function LeadConversation({ model, leadId }: { model: DashboardModel; leadId: string }) {
  const conversation = model.conversation;
  const state = useStore(conversation.store);
  const log = useRef<HTMLOListElement>(null);
  const [text, setText] = useState('');

  useEffect(() => {
    void conversation.open(leadId);
    setText('');
  }, [leadId]);

  // While shown: follow live changes, and let go of the lead when closed.
  useEffect(() => {
    const unregister = model.refreshers.register(
      (messages) => {
        const open = conversation.store.get().leadId;
        if (!open) return undefined;
        const concerned =
          messages === null ||
          messages.some((m) => m.kind === 'resync' || (m.kind === 'message.created' && m.id === open));
        return concerned ? conversation.refresh() : undefined;
      },
      { first: true },
    );
    return () => {
      unregister();
      void conversation.open(null);
    };
  }, []);

  // Shown means read: when messages arrive while the tab is visible, or when it becomes visible.
  useEffect(() => {
    const mark = () => {
      if (document.visibilityState === 'visible') void conversation.markShown();
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [state.messages]);

  // Newest at the bottom, kept in view as messages arrive.
  const newest = state.messages.at(-1)?.id;
  useEffect(() => {
    const element = log.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [newest]);

  if (state.disabled) {
    return (
      <p class="help chat-disabled" role="status">
        Chat temporarily unavailable (switched off on the server).
      </p>
    );
  }

  const send = async (event: Event) => {
    event.preventDefault();
    const reply = text.trim();
    if (!reply) return;
    if (await conversation.reply(reply)) setText('');
  };

  return (
    <div class="conversation">
      {state.error && (
        <p class="error" role="alert">
          {state.error}
        </p>
      )}
      {state.olderCursor && (
        <button
          type="button"
          class="secondary small"
          disabled={state.loadingOlder}
          onClick={() => void conversation.loadOlder()}
        >
          {state.loadingOlder ? 'Loading…' : 'Earlier messages'}
        </button>
      )}
      {state.loading ? (
        <p class="help">Loading the conversation…</p>
      ) : state.messages.length === 0 ? (
        <p class="help">No messages yet.</p>
      ) : (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard.
        <ol class="chat-log" ref={log} aria-label="Messages, oldest first" aria-live="polite" tabIndex={0}>
          {state.messages.map((message) => (
            <MessageItem key={message.id} message={message} />
          ))}
        </ol>
      )}
      <form class="reply-form" onSubmit={send}>
        <label for="conversation-reply">Reply to the visitor</label>
        <textarea
          id="conversation-reply"
          rows={2}
          maxLength={10_000}
          value={text}
          onInput={(event) => setText(event.currentTarget.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void send(event);
          }}
        />
        <div class="action-row">
          <button type="submit" disabled={state.sending || !text.trim()}>
            {state.sending ? 'Sending…' : 'Send reply'}
          </button>
          <p class="action-message" role="status">
            {state.sendError ?? ''}
          </p>
        </div>
      </form>
    </div>
  );
}

const ROLE_LABEL: Record<ChatMessage['role'], string> = { visitor: 'Visitor', bot: 'Bot', agent: 'Agent' };

function MessageItem({ message }: { message: ChatMessage }) {
  const unread = message.role === 'visitor' && message.readAt === null;
  const who = message.role === 'agent' && message.senderName ? message.senderName : ROLE_LABEL[message.role];
  return (
    <li class={`chat-message chat-${message.role}${unread ? ' chat-unread' : ''}`} data-id={message.id}>
      <span class="chat-meta">
        <strong>{who}</strong>
        {message.role === 'agent' && message.senderName ? ' (agent)' : ''}{' '}
        <time dateTime={message.at ?? message.createdAt}>{formatTime(message.at ?? message.createdAt)}</time>
        {unread && <span class="badge badge-unread">New</span>}
      </span>
      <p class="chat-text">{message.text}</p>
    </li>
  );
}
