import { type ApiClient, ApiError, errorText } from '../api/client.js';
import { type ChatMessage, listMessages, markRead, sendReply } from '../api/conversation.js';
import { createStore } from './store.js';

/**
 * The open lead's conversation: its messages (oldest first), the reply being sent, and
 * what has been marked read. open() loads the latest page; refresh() (live or polling)
 * reads only what follows the newest message held, so a poll every second costs one
 * small query; loadOlder() prepends the page before the oldest. Chat switched off on
 * the server (CHAT_DISABLED, 503 chat_disabled) is a state, not an error: refresh()
 * does not fail for it, so the header keeps telling the truth about the rest.
 */
export interface ConversationState {
  leadId: string | null;
  messages: ChatMessage[];
  /** `after` for the next refresh; null before the first load. */
  cursor: string | null;
  /** `before` for older messages; null when all are loaded. */
  olderCursor: string | null;
  loading: boolean;
  loadingOlder: boolean;
  error: string | null;
  disabled: boolean;
  sending: boolean;
  sendError: string | null;
}

const EMPTY: ConversationState = {
  leadId: null,
  messages: [],
  cursor: null,
  olderCursor: null,
  loading: false,
  loadingOlder: false,
  error: null,
  disabled: false,
  sending: false,
  sendError: null,
};

/** Message ids are decimal strings of a bigint: compare as numbers without losing digits. */
export function compareIds(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/** Adds messages by id (new ones win), keeping the list in id order. Pure. */
export function mergeMessages(held: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) return held;
  const byId = new Map(held.map((m) => [m.id, m]));
  for (const message of incoming) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => compareIds(a.id, b.id));
}

/** The newest visitor message not yet read, which a read mark up to it covers; null when none. */
export function unreadUpTo(messages: ChatMessage[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === 'visitor' && message.readAt === null) return message.id;
  }
  return null;
}

const isDisabled = (error: unknown) =>
  error instanceof ApiError && error.status === 503 && error.code === 'chat_disabled';

export function createConversationState(
  api: ApiClient,
  onChanged: (leadId: string, change: 'reply' | 'read') => void,
) {
  const store = createStore<ConversationState>(EMPTY);
  let markedUpTo: string | null = null;
  let refreshing: Promise<void> | null = null;
  let again = false;

  const current = (id: string) => store.get().leadId === id;

  async function loadLatest(id: string): Promise<void> {
    try {
      const page = await listMessages(api, id);
      if (!current(id)) return;
      store.set((s) => ({
        ...s,
        messages: mergeMessages([], page.items),
        cursor: page.cursor ?? '0',
        olderCursor: page.olderCursor,
        loading: false,
        error: null,
        disabled: false,
      }));
    } catch (error) {
      if (!current(id)) return;
      if (isDisabled(error)) {
        store.set((s) => ({ ...s, loading: false, disabled: true, error: null }));
        return;
      }
      store.set((s) => ({
        ...s,
        loading: false,
        error: `Could not load the conversation: ${errorText(error)}`,
      }));
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }

  function open(id: string | null): Promise<void> {
    if (id === store.get().leadId) return Promise.resolve();
    markedUpTo = null;
    store.set({ ...EMPTY, leadId: id, loading: id !== null });
    return id ? loadLatest(id).catch(() => {}) : Promise.resolve();
  }

  async function readNewer(id: string): Promise<void> {
    for (;;) {
      const { cursor } = store.get();
      if (!current(id) || cursor === null) return;
      const page = await listMessages(api, id, { after: cursor });
      if (!current(id)) return;
      store.set((s) => ({
        ...s,
        messages: mergeMessages(s.messages, page.items),
        cursor: page.cursor ?? s.cursor,
        error: null,
        disabled: false,
      }));
      if (!page.hasMore || page.items.length === 0) return;
    }
  }

  /** Reads what is new for the open lead; throws when the API fails (the live loop reports it). */
  function refresh(): Promise<void> {
    const { leadId, cursor } = store.get();
    if (!leadId) return Promise.resolve();
    // One read at a time; news arriving meanwhile asks for one more read after it.
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      try {
        again = false;
        if (cursor === null) await loadLatest(leadId);
        else await readNewer(leadId);
        while (again && current(leadId)) {
          again = false;
          await readNewer(leadId);
        }
      } catch (error) {
        if (isDisabled(error)) {
          if (current(leadId)) store.set((s) => ({ ...s, disabled: true }));
          return;
        }
        throw error;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  async function loadOlder(): Promise<void> {
    const { leadId, olderCursor, loadingOlder } = store.get();
    if (!leadId || !olderCursor || loadingOlder) return;
    store.set((s) => ({ ...s, loadingOlder: true }));
    try {
      const page = await listMessages(api, leadId, { before: olderCursor });
      if (!current(leadId)) return;
      store.set((s) => ({
        ...s,
        messages: mergeMessages(s.messages, page.items),
        olderCursor: page.olderCursor,
        loadingOlder: false,
      }));
    } catch (error) {
      if (!current(leadId)) return;
      store.set((s) => ({
        ...s,
        loadingOlder: false,
        error: `Could not load older messages: ${errorText(error)}`,
      }));
    }
  }

  /** Sends a reply as the signed-in member; true when it was stored. */
  async function reply(text: string): Promise<boolean> {
    const { leadId, sending } = store.get();
    if (!leadId || sending) return false;
    store.set((s) => ({ ...s, sending: true, sendError: null }));
    try {
      const { message } = await sendReply(api, leadId, text);
      if (current(leadId)) {
        store.set((s) => ({ ...s, sending: false, messages: mergeMessages(s.messages, [message]) }));
      }
      // The first reply is the first contact: the lead and the list change too.
      onChanged(leadId, 'reply');
      return true;
    } catch (error) {
      if (current(leadId)) {
        store.set((s) => ({
          ...s,
          sending: false,
          disabled: isDisabled(error) || s.disabled,
          sendError: `Not sent: ${errorText(error)}`,
        }));
      }
      return false;
    }
  }

  /**
   * Marks the visitor's messages read up to the newest one shown (the view calls it
   * when the pane is on screen and the tab visible). One request per new message at
   * most; a failure is left for the next call.
   */
  async function markShown(): Promise<void> {
    const { leadId, messages, disabled } = store.get();
    const upTo = unreadUpTo(messages);
    if (!leadId || disabled || upTo === null) return;
    if (markedUpTo !== null && compareIds(upTo, markedUpTo) <= 0) return;
    markedUpTo = upTo;
    try {
      await markRead(api, leadId, upTo);
    } catch {
      markedUpTo = null;
      return;
    }
    if (!current(leadId)) return;
    const now = new Date().toISOString();
    store.set((s) => ({
      ...s,
      messages: s.messages.map((m) =>
        m.role === 'visitor' && m.readAt === null && compareIds(m.id, upTo) <= 0 ? { ...m, readAt: now } : m,
      ),
    }));
    onChanged(leadId, 'read');
  }

  return { store, open, refresh, loadOlder, reply, markShown };
}

export type ConversationModel = ReturnType<typeof createConversationState>;
