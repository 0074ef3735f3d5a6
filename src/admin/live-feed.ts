import type { Logger } from '../logger.js';
import type { Storage } from '../storage/storage.js';

/**
 * The admin live feed: one LISTEN on `leadrelay_admin` per process, fanned out to
 * every connected dashboard. The migration's triggers NOTIFY small JSON pointers
 * ({kind, id, ...}) after commit: lead.created, lead.updated, lead.sla_breached,
 * notification, event.delivered, event.dead. When the LISTEN connection had to be
 * re-established (it dropped, or went silent and was replaced) notifications may have
 * been missed: subscribers get {kind: 'resync'} and reload.
 */
export const ADMIN_CHANNEL = 'leadrelay_admin';

export interface FeedMessage {
  kind: string;
  [key: string]: unknown;
}

type Subscriber = (message: FeedMessage) => void;

export interface LiveFeed {
  /** Adds a subscriber; resolves to its unsubscribe function, or null where the storage cannot listen. */
  subscribe(subscriber: Subscriber): Promise<(() => void) | null>;
  close(): Promise<void>;
}

export function createLiveFeed(storage: Storage, logger: Logger): LiveFeed {
  const subscribers = new Set<Subscriber>();
  let listening: Promise<(() => Promise<void>) | null> | undefined;

  const broadcast = (message: FeedMessage) => {
    for (const subscriber of subscribers) subscriber(message);
  };
  const dispatch = (payload: string) => {
    let message: FeedMessage;
    try {
      message = JSON.parse(payload) as FeedMessage;
    } catch {
      logger.warn({ channel: ADMIN_CHANNEL }, 'Ignoring a malformed admin notification');
      return;
    }
    broadcast(message);
  };

  return {
    async subscribe(subscriber) {
      // LISTEN once, lazily: processes that never serve a dashboard hold no extra connection.
      listening ??= storage
        .listen(ADMIN_CHANNEL, dispatch, { onReconnect: () => broadcast({ kind: 'resync' }) })
        .catch((error: unknown) => {
          listening = undefined;
          throw error;
        });
      const unlisten = await listening;
      if (!unlisten) return null;
      subscribers.add(subscriber);
      return () => {
        subscribers.delete(subscriber);
      };
    },
    async close() {
      subscribers.clear();
      const unlisten = await listening?.catch(() => null);
      listening = undefined;
      await unlisten?.();
    },
  };
}
