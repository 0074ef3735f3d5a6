import { streamToken } from '../api/admin.js';
import { type ApiClient, errorText } from '../api/client.js';
import { createStore } from '../state/store.js';

/**
 * The live connection: how the dashboard hears about changes, and what the header
 * may honestly say about it.
 *
 * Transport: the SSE stream (/api/admin/stream, with a short-lived token) when it
 * opens; otherwise polling every POLL_MS (Supabase rpc mode cannot LISTEN, or the
 * stream dropped), trying the stream again every STREAM_RETRY_MS.
 *
 * Mode, shown in the header, follows the last refresh, not just the transport:
 *   connecting    signed in, nothing loaded yet
 *   live          the stream is open and the last refresh succeeded
 *   polling       no stream; the last poll succeeded
 *   reconnecting  the stream dropped and no poll has succeeded since, or the last
 *                 refresh failed (the error is kept; lastUpdateAt says how old the
 *                 screen is)
 *   off           signed out
 *
 * Stream messages are pointers ({kind, id, ...}); they are batched (REFRESH_DELAY_MS;
 * message.created, a chat message someone is waiting for, at once) and handed to `refresh`, which re-reads what they name. One refresh runs at a time;
 * messages arriving meanwhile wait for the next one. `refresh(null)` means "re-read
 * everything" (poll tick, stream (re)opened, resync).
 */
export type LiveMode = 'off' | 'connecting' | 'live' | 'polling' | 'reconnecting';

export interface LiveStatus {
  mode: LiveMode;
  /** When a refresh last succeeded (ms since the epoch). */
  lastUpdateAt: number | null;
  error: string | null;
}

export interface FeedMessage {
  kind: string;
  id?: string | number;
  conversationId?: string | null;
  [key: string]: unknown;
}

export type Refresh = (messages: FeedMessage[] | null) => Promise<void>;

const POLL_MS = 1000;
const STREAM_RETRY_MS = 30_000;
const REFRESH_DELAY_MS = 150;
const FAILED_REFRESH_RETRY_MS = 2000;
/**
 * The server sends `event: heartbeat` every 15 s. A half-open connection (a proxy or
 * NAT dropped it without a FIN) raises no error in EventSource: it just goes quiet.
 * Three missed beats and the stream is treated as dropped.
 */
const STREAM_SILENCE_MS = 45_000;
const WATCHDOG_MS = 5000;

export function createLiveConnection(api: ApiClient, refresh: Refresh) {
  const status = createStore<LiveStatus>({ mode: 'off', lastUpdateAt: null, error: null });
  let transport: 'none' | 'stream' | 'poll' = 'none';
  let source: EventSource | null = null;
  let pending: FeedMessage[] | null = [];
  let running = false;
  let rerun = false;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let refreshDueAt = 0;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let streamRetryTimer: ReturnType<typeof setTimeout> | undefined;
  let watchdogTimer: ReturnType<typeof setInterval> | undefined;
  let lastStreamActivityAt = 0;
  let started = false;

  const setMode = (mode: LiveMode, error: string | null = status.get().error) =>
    status.set((s) => (s.mode === mode && s.error === error ? s : { ...s, mode, error }));

  async function runRefresh(): Promise<void> {
    if (running) {
      rerun = true;
      return;
    }
    running = true;
    const batch = pending;
    pending = [];
    try {
      await refresh(batch);
      if (!started) return;
      status.set({
        mode: transport === 'stream' ? 'live' : 'polling',
        lastUpdateAt: Date.now(),
        error: null,
      });
    } catch (error) {
      if (!started) return;
      // What was asked for is not done: ask for everything next time.
      pending = null;
      setMode('reconnecting', `Could not refresh: ${errorText(error)}`);
      if (transport === 'stream') schedule(FAILED_REFRESH_RETRY_MS);
    } finally {
      running = false;
      if (rerun && started) {
        rerun = false;
        schedule(REFRESH_DELAY_MS);
      }
    }
  }

  function request(messages: FeedMessage[] | null, delay = REFRESH_DELAY_MS) {
    if (messages === null || pending === null) pending = null;
    else pending.push(...messages);
    schedule(delay);
  }

  function schedule(delay: number) {
    const due = Date.now() + delay;
    if (refreshTimer !== undefined) {
      if (due >= refreshDueAt) return;
      clearTimeout(refreshTimer);
    }
    refreshDueAt = due;
    refreshTimer = setTimeout(() => {
      refreshTimer = undefined;
      void runRefresh();
    }, delay);
  }

  function startPolling() {
    transport = 'poll';
    if (pollTimer !== undefined) return;
    // Ticks start every POLL_MS (start to start, never overlapping), so a slow refresh
    // does not stretch "every second" into every second plus the refresh.
    const tick = async () => {
      const began = Date.now();
      pending = null;
      await runRefresh();
      if (transport === 'poll' && started) {
        pollTimer = setTimeout(tick, Math.max(0, POLL_MS - (Date.now() - began)));
      } else pollTimer = undefined;
    };
    pollTimer = setTimeout(tick, 0);
  }

  function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = undefined;
  }

  function closeStream() {
    source?.close();
    source = null;
    clearInterval(watchdogTimer);
    watchdogTimer = undefined;
  }

  function watchStream(stream: EventSource) {
    lastStreamActivityAt = Date.now();
    stream.addEventListener('heartbeat', () => {
      lastStreamActivityAt = Date.now();
    });
    clearInterval(watchdogTimer);
    watchdogTimer = setInterval(() => {
      if (source === stream && Date.now() - lastStreamActivityAt > STREAM_SILENCE_MS) streamFailed();
    }, WATCHDOG_MS);
  }

  function streamFailed() {
    closeStream();
    if (!started) return;
    // No update path until the first poll succeeds.
    setMode('reconnecting');
    startPolling();
    clearTimeout(streamRetryTimer);
    streamRetryTimer = setTimeout(() => void openStream(), STREAM_RETRY_MS);
  }

  async function openStream(): Promise<void> {
    if (!started) return;
    if (typeof EventSource === 'undefined') return startPolling();
    let token: string;
    try {
      ({ token } = await streamToken(api));
    } catch {
      return streamFailed();
    }
    if (!started) return;
    closeStream();
    const stream = new EventSource(`/api/admin/stream?token=${encodeURIComponent(token)}`);
    source = stream;
    watchStream(stream);
    stream.onmessage = (event: MessageEvent<string>) => {
      lastStreamActivityAt = Date.now();
      let message: FeedMessage;
      try {
        message = JSON.parse(event.data) as FeedMessage;
      } catch {
        return;
      }
      if (message.kind === 'ready' || message.kind === 'resync') {
        transport = 'stream';
        stopPolling();
        request(null, 0);
        return;
      }
      // A chat message has a person waiting for it: no batching delay.
      request([message], message.kind === 'message.created' ? 0 : REFRESH_DELAY_MS);
    };
    // The token in the URL is short-lived, so EventSource's own reconnect would be
    // refused: poll instead and open a fresh stream later.
    stream.onerror = () => {
      if (source === stream) streamFailed();
    };
  }

  return {
    status,
    start() {
      if (started) return;
      started = true;
      transport = 'none';
      pending = null;
      status.set({ mode: 'connecting', lastUpdateAt: null, error: null });
      void openStream();
    },
    stop() {
      started = false;
      transport = 'none';
      closeStream();
      stopPolling();
      clearTimeout(refreshTimer);
      clearTimeout(streamRetryTimer);
      refreshTimer = undefined;
      status.set({ mode: 'off', lastUpdateAt: null, error: null });
    },
    /** Asks for a full refresh soon (after an action, or a filter change). */
    refreshSoon() {
      if (started) request(null, 0);
    },
  };
}

export type LiveConnection = ReturnType<typeof createLiveConnection>;
