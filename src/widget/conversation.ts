/**
 * openConversation: the visitor's side of a conversation after submitLead.
 *
 * States:
 *   loading    reading the messages so far
 *   live       the stream (SSE) is open: a pushed event triggers a read after the
 *              last message seen
 *   polling    no stream (it failed, was refused, or EventSource is missing): the
 *              messages after the last one seen are read every pollMs, and the
 *              stream is tried again every streamRetryMs
 *   closed     close() was called, or the token was refused (401/404)
 *
 * Every read is "after the last message I have", and messages are passed to onMessage
 * once each, in order, whichever path found them. Sending is send(text), with the
 * conversation token; a 429/503 is retried after its Retry-After, nothing else is
 * (a message has no idempotency key, so a lost answer is not repeated blindly).
 */
import { defaultBaseUrl, parseRetryAfter, readError, sleep, WidgetError } from './widget-http.js';

export interface ChatMessage {
  id: string;
  role: 'visitor' | 'bot' | 'agent';
  text: string;
  /** The agent's name for agent replies (never their email); null otherwise. */
  senderName: string | null;
  /** The widget's own time for a transcript item; null otherwise. */
  at: string | null;
  createdAt: string;
}

export type ConversationState = 'loading' | 'live' | 'polling' | 'closed';

export interface ConversationOptions {
  /** The conversation (the lead's id from submitLead); required when `token` is a string. */
  conversationId?: string;
  baseUrl?: string;
  /** Each message once, in order (the visitor's own included). */
  onMessage?: (message: ChatMessage) => void;
  onState?: (state: ConversationState) => void;
  /** Called once when the token is refused (expired, wrong) or chat is off. */
  onError?: (error: WidgetError) => void;
  pollMs?: number;
  streamRetryMs?: number;
  /** Stream silence (no event, no heartbeat) after which it is treated as dropped. */
  streamSilenceMs?: number;
}

export interface Conversation {
  readonly id: string;
  /** Everything seen so far, in order. */
  readonly messages: readonly ChatMessage[];
  readonly state: ConversationState;
  send(text: string): Promise<ChatMessage>;
  close(): void;
}

interface MessagePage {
  items: ChatMessage[];
  /** Pass as `after` for what follows. */
  cursor: string | null;
  hasMore: boolean;
}

const SEND_ATTEMPTS = 4;

export function openConversation(
  token: string | { id: string; conversationToken?: string },
  options: ConversationOptions = {},
): Conversation {
  const secret = typeof token === 'string' ? token : token.conversationToken;
  const id = typeof token === 'string' ? options.conversationId : token.id;
  if (!secret) throw new WidgetError('No conversation token (chat may be disabled)', 0, 'no_token');
  if (!id) throw new WidgetError('conversationId is required with a bare token', 0, 'config');
  const base = `${options.baseUrl ?? defaultBaseUrl()}/api/chatbot/conversations/${encodeURIComponent(id)}`;
  const pollMs = options.pollMs ?? 1000;
  const streamRetryMs = options.streamRetryMs ?? 30_000;
  const silenceMs = options.streamSilenceMs ?? 45_000;
  const auth = { authorization: `Bearer ${secret}` };

  const messages: ChatMessage[] = [];
  const seen = new Set<string>();
  let cursor: string | null = null;
  let state: ConversationState = 'loading';
  let source: EventSource | null = null;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let watchdog: ReturnType<typeof setInterval> | undefined;
  let lastStreamActivity = 0;
  let reading: Promise<void> | null = null;
  let readAgain = false;

  // A function, not `state === 'closed'` inline: close() may run while we await.
  const closed = () => state === 'closed';
  const setState = (next: ConversationState) => {
    if (state === next || state === 'closed') return;
    state = next;
    options.onState?.(next);
  };

  const fail = (error: WidgetError) => {
    if (state === 'closed') return;
    close();
    options.onError?.(error);
  };

  function accept(message: ChatMessage) {
    if (seen.has(String(message.id))) return;
    seen.add(String(message.id));
    messages.push(message);
    options.onMessage?.(message);
  }

  async function readOnce(): Promise<void> {
    for (;;) {
      const query = cursor ? `?after=${encodeURIComponent(cursor)}` : '';
      const response = await fetch(`${base}/messages${query}`, { headers: auth });
      if (!response.ok) throw await readError(response);
      const page = (await response.json()) as MessagePage;
      for (const message of page.items) accept(message);
      if (page.cursor) cursor = page.cursor;
      if (!page.hasMore || page.items.length === 0) return;
    }
  }

  /** Reads what is new; concurrent calls share one read and ask for one more after it. */
  function read(): Promise<void> {
    if (reading) {
      readAgain = true;
      return reading;
    }
    reading = (async () => {
      try {
        do {
          readAgain = false;
          await readOnce();
        } while (readAgain && state !== 'closed');
      } catch (error) {
        // A refused token (401 expired or wrong, 404 another conversation) or chat
        // switched off on the server: stop, and say so once.
        const final =
          error instanceof WidgetError &&
          (error.status === 401 || error.status === 404 || error.code === 'chat_disabled');
        if (final) fail(error);
        else throw error;
      } finally {
        reading = null;
      }
    })();
    return reading;
  }

  function startPolling() {
    if (state === 'closed') return;
    setState('polling');
    if (pollTimer !== undefined) return;
    const tick = async () => {
      await read().catch(() => {});
      pollTimer = state === 'polling' ? setTimeout(tick, pollMs) : undefined;
    };
    pollTimer = setTimeout(tick, 0);
  }

  function closeStream() {
    source?.close();
    source = null;
    clearInterval(watchdog);
    watchdog = undefined;
  }

  function streamFailed() {
    closeStream();
    if (state === 'closed') return;
    startPolling();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void openStream(), streamRetryMs);
  }

  async function openStream(): Promise<void> {
    if (state === 'closed') return;
    if (typeof EventSource === 'undefined') return startPolling();
    let streamToken: string;
    try {
      const response = await fetch(`${base}/stream-token`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{}',
      });
      if (!response.ok) throw await readError(response);
      ({ token: streamToken } = (await response.json()) as { token: string });
    } catch {
      return streamFailed();
    }
    if (closed()) return;
    closeStream();
    const after = cursor ? `&after=${encodeURIComponent(cursor)}` : '';
    const stream = new EventSource(`${base}/stream?token=${encodeURIComponent(streamToken)}${after}`);
    source = stream;
    lastStreamActivity = Date.now();
    watchdog = setInterval(
      () => {
        if (source === stream && Date.now() - lastStreamActivity > silenceMs) streamFailed();
      },
      Math.min(5000, silenceMs),
    );
    stream.addEventListener('heartbeat', () => {
      lastStreamActivity = Date.now();
    });
    stream.onmessage = (event: MessageEvent<string>) => {
      lastStreamActivity = Date.now();
      let data: { kind?: string; message?: ChatMessage } | null = null;
      try {
        data = JSON.parse(event.data) as { kind?: string; message?: ChatMessage };
      } catch {
        return;
      }
      if (data.kind === 'ready') {
        clearTimeout(pollTimer);
        pollTimer = undefined;
        setState('live');
        // Anything between the last read and the stream opening.
        void read().catch(() => streamFailed());
      } else if (data.kind === 'message.created' && data.message) {
        // Shown at once; the read after the cursor keeps the order and the cursor
        // (the stream pushes agent replies only).
        accept(data.message);
        void read().catch(() => streamFailed());
      }
    };
    // Short-lived token in the URL: EventSource's own reconnect would be refused.
    stream.onerror = () => {
      if (source === stream) streamFailed();
    };
  }

  function close() {
    state = 'closed';
    closeStream();
    clearTimeout(pollTimer);
    clearTimeout(retryTimer);
    pollTimer = undefined;
    options.onState?.('closed');
  }

  async function send(text: string): Promise<ChatMessage> {
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(`${base}/messages`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ text }),
        });
      } catch {
        throw new WidgetError('The message could not be sent: the server did not answer', 0, 'network');
      }
      if (response.ok) {
        const created = (await response.json()) as { id: string | number; createdAt: string };
        // Read it back in its place (after anything that came before it); the answer
        // itself stands in when that read fails.
        await read().catch(() => {});
        const stored = messages.find((m) => m.id === String(created.id));
        if (stored) return stored;
        const message: ChatMessage = {
          id: String(created.id),
          role: 'visitor',
          text: text.trim(),
          senderName: null,
          at: null,
          createdAt: created.createdAt,
        };
        accept(message);
        return message;
      }
      const error = await readError(response);
      if ((response.status !== 429 && response.status !== 503) || attempt >= SEND_ATTEMPTS) throw error;
      const wait = parseRetryAfter(response.headers.get('retry-after')) ?? 1000 * attempt;
      if (wait > 60_000) throw error;
      await sleep(wait);
    }
  }

  void read()
    .then(() => openStream())
    .catch(() => startPolling());

  return {
    id,
    get messages() {
      return messages;
    },
    get state() {
      return state;
    },
    send,
    close,
  };
}
