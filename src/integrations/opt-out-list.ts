import type { IntegrationStore } from './integration-store.js';

/**
 * Numbers that unsubscribed from one channel (Twilio 21610), kept in the database so
 * every worker, restart and `leadrelay health` knows them. Read once and then every
 * REFRESH_MS (another worker may have learnt one); a number learnt here is skipped at
 * once. Without a store (bench, a unit test) the list lives in memory only.
 */
const REFRESH_MS = 60_000;

export interface OptOutList {
  /** The recipients still allowed, and the ones stopped. */
  filter(recipients: readonly string[]): Promise<{ allowed: string[]; stopped: string[] }>;
  add(phone: string, code: number): Promise<void>;
}

export function createOptOutList(channel: string, store: IntegrationStore | undefined): OptOutList {
  const known = new Set<string>();
  let loadedAt = Number.NEGATIVE_INFINITY;
  async function refresh() {
    if (!store || Date.now() - loadedAt < REFRESH_MS) return;
    for (const phone of await store.optOuts(channel)) known.add(phone);
    loadedAt = Date.now();
  }
  return {
    async filter(recipients) {
      await refresh();
      return {
        allowed: recipients.filter((phone) => !known.has(phone)),
        stopped: recipients.filter((phone) => known.has(phone)),
      };
    },
    async add(phone, code) {
      known.add(phone);
      await store?.recordOptOut(channel, phone, code);
    },
  };
}
