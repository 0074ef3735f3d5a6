import type { Storage } from '../storage/storage.js';

/**
 * Lead retention (LEAD_RETENTION_DAYS, docs/privacy.md): leads closed (won or lost)
 * longer ago than the window are erased exactly as an erasure request would erase them
 * (SQL in supabase/migrations/20261201225400_erasure_retention.sql). Batches of
 * BATCH leads, one transaction each, until none is due.
 */
const BATCH = 200;

export interface RetentionCounts {
  leads: number;
  mergedLeads: number;
  inquiries: number;
  timeline: number;
  events: number;
}

export function retentionCutoff(days: number, now = Date.now()): Date {
  return new Date(now - days * 86_400_000);
}

export function countRetentionDue(storage: Storage, cutoff: Date): Promise<RetentionCounts> {
  return storage.call<RetentionCounts>('retention_count_leads', { p_older_than: cutoff.toISOString() });
}

/** Erases every due lead; answers how many leads (merged ones included) were erased. */
export async function eraseRetentionDue(storage: Storage, cutoff: Date): Promise<{ leads: number }> {
  let leads = 0;
  for (;;) {
    const batch = await storage.call<{ erased: number; leads: number }>('retention_erase_leads', {
      p_older_than: cutoff.toISOString(),
      p_limit: BATCH,
    });
    leads += batch.leads;
    if (batch.erased === 0) return { leads };
  }
}
