import type { FeedMessage, Refresh } from './connection.js';

/**
 * Who re-reads what when the live connection says something changed. Each model (or a
 * view, while it is shown) registers one function; a live refresh runs them all at
 * once and fails when any fails, so the header never says "Live" over a stale part of
 * the screen. `messages` is null for "re-read everything" (poll tick, stream opened).
 */
export type Refresher = (messages: FeedMessage[] | null) => Promise<unknown> | undefined;

export function createRefreshers() {
  const refreshers = new Set<Refresher>();
  const refreshAll: Refresh = async (messages) => {
    await Promise.all([...refreshers].map((refresher) => refresher(messages)));
  };
  return {
    refreshAll,
    /**
     * Adds a refresher; returns its removal (views call it on unmount). `first` puts it
     * ahead of the others, so its requests leave first (the open conversation: a person
     * waits for that message, and the database answers in order).
     */
    register(refresher: Refresher, options: { first?: boolean } = {}): () => void {
      if (options.first) {
        const rest = [...refreshers];
        refreshers.clear();
        refreshers.add(refresher);
        for (const other of rest) refreshers.add(other);
      } else refreshers.add(refresher);
      return () => refreshers.delete(refresher);
    },
  };
}

/**
 * Ids of leads the messages say changed (lead.created / lead.updated / lead.sla_breached,
 * and message.created: a new message changes the lead's unread count).
 */
export function changedLeadIds(messages: FeedMessage[]): string[] {
  return messages
    .filter((m) => (m.kind.startsWith('lead.') || m.kind === 'message.created') && typeof m.id === 'string')
    .map((m) => m.id as string);
}

/** True when a message concerns the given lead (its own change, or one of its deliveries). */
export function concernsLead(messages: FeedMessage[], id: string): boolean {
  return messages.some((m) => m.kind === 'resync' || m.id === id || m.conversationId === id);
}
