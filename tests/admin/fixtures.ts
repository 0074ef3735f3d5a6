import { captureLead } from '../../src/leads/capture-lead.js';
import type { NormalizedLead } from '../../src/leads/lead-input.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import { TEST_ADMIN_KEY } from '../helpers/app.js';

export const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

/** Admin tests do not exercise rate limits (one test file does, with its own app). */
export const generousLimits = {
  RATE_LIMIT_ADMIN_PER_MINUTE: '100000',
  RATE_LIMIT_EXPORT_PER_MINUTE: '100000',
  RATE_LIMIT_LEADS_PER_MINUTE: '100000',
};

export interface LeadFixture {
  customerName?: string;
  customerEmail?: string;
  customerPhone?: string;
  intent?: string;
  source?: string;
  message?: string;
}

let counter = 0;

/** Stores a lead the way intake does (capture, then wake-up); returns its id and lead.created event id. */
export async function createLead(
  storage: SqlStorage,
  lead: LeadFixture = {},
  slaMinutes = 5,
): Promise<{ id: string; eventId: number }> {
  counter += 1;
  const result = await captureLead(
    storage,
    {
      customerName: `Lead ${counter}`,
      customerEmail: `lead${counter}@example.com`,
      customerPhone: `+9715000${String(counter).padStart(5, '0')}`,
      intent: 'buy',
      source: 'chatbot',
      metadata: {},
      ...lead,
    } as NormalizedLead,
    { slaMinutes },
  );
  return { id: result.id, eventId: Number(result.eventId) };
}

/** Moves a lead's SLA deadline into the past (as if it arrived `minutes` ago). */
export async function makeOverdue(storage: SqlStorage, id: string, minutes = 10): Promise<void> {
  await storage.query(
    `update conversations set created_at = now() - make_interval(mins => $2),
            sla_due_at = now() - make_interval(mins => $2 - 5) where id = $1`,
    [id, minutes],
  );
}

/** Marks an event dead after failed attempts, with one failed log row per channel given. */
export async function killEvent(storage: SqlStorage, eventId: number, channels = ['slack']): Promise<void> {
  await storage.query(
    `update lead_events set processed = true, outcome = 'dead', attempts = 8, processed_at = now(),
            last_error = 'slack: 500' where id = $1`,
    [eventId],
  );
  for (const channel of channels) {
    await storage.query(
      `insert into notification_logs (event_id, channel, status, attempt, error, duration_ms)
       values ($1, $2, 'failed', 8, 'HTTP 500', 120)`,
      [eventId, channel],
    );
  }
}
