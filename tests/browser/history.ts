import type { SqlStorage } from '../../src/storage/storage.js';
import { createLead } from '../admin/fixtures.js';

/**
 * Two weeks of answered leads and a day of deliveries, so the overview's pictures and
 * the screenshots show something like a working week. Every lead here is answered
 * (none is breached or overdue) and older than the leads a test creates itself.
 */
const SOURCES = ['chatbot', 'chatbot', 'chatbot', 'contact_form', 'contact_form', 'google_ads', 'facebook'];
const INTENTS = ['buy', 'buy', 'rent', 'sell', 'invest', 'buy', 'rent', 'valuation'];
const NAMES = [
  'Maya Chen',
  'Omar Haddad',
  'Lena Vogel',
  'Ravi Patel',
  'Sofia Rossi',
  'Jonas Berg',
  'Aisha Khan',
];
const STATUSES = ['contacted', 'qualified', 'won', 'lost', 'contacted'];

export async function seedHistory(storage: SqlStorage): Promise<void> {
  let n = 0;
  for (let day = 13; day >= 1; day--) {
    const perDay = 2 + ((day * 7) % 5);
    for (let i = 0; i < perDay; i++, n++) {
      const { id, eventId } = await createLead(storage, {
        customerName: NAMES[n % NAMES.length]!,
        source: SOURCES[n % SOURCES.length]!,
        intent: INTENTS[n % INTENTS.length]!,
      });
      // Answered after 1 to 11 minutes against a 5-minute SLA: some in time, some late.
      const answeredAfter = 1 + ((n * 3) % 11);
      await storage.query(
        `with t as (select now() - make_interval(days => $2, hours => $3) as created)
         update conversations
            set created_at = t.created, updated_at = t.created,
                sla_due_at = t.created + interval '5 minutes',
                first_response_at = t.created + make_interval(mins => $4),
                status = $5
           from t where id = $1`,
        [id, day, 2 + i, answeredAfter, STATUSES[n % STATUSES.length]],
      );
      await storage.query(
        `update follow_up_tasks set status = 'done', completed_at = now() where conversation_id = $1`,
        [id],
      );
      await storage.query(`update lead_events set processed = true, outcome = 'delivered' where id = $1`, [
        eventId,
      ]);
      // The last day's deliveries: Slack and email mostly fine, Telegram rate-limited now and then.
      for (const [channel, ms, failEvery] of [
        ['slack', 180, 0],
        ['email', 650, 9],
        ['telegram', 320, 4],
      ] as const) {
        const failed = failEvery > 0 && n % failEvery === 0;
        await storage.query(
          `insert into notification_logs (event_id, channel, status, attempt, error, provider_status, duration_ms, created_at)
           values ($1, $2, $3, 1, $4, $5, $6, now() - make_interval(mins => $7))`,
          [
            eventId,
            channel,
            failed ? 'failed' : 'sent',
            failed
              ? channel === 'telegram'
                ? 'Too Many Requests: retry after 3'
                : 'SMTP 421 try later'
              : null,
            failed ? (channel === 'telegram' ? 429 : 421) : channel === 'email' ? 250 : 200,
            ms + ((n * 37) % ms),
            (n * 17) % 1400,
          ],
        );
      }
    }
  }
}
