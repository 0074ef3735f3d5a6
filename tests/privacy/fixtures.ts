import { captureLead } from '../../src/leads/capture-lead.js';
import type { NormalizedLead } from '../../src/leads/lead-input.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import { createLead, killEvent } from '../admin/fixtures.js';

/**
 * Every row of every table in `public` that still mentions one of `needles` (case
 * insensitive), as "table: n rows". Reads each row as text, so a table another
 * feature adds later is covered without naming it here.
 */
export async function tablesMentioning(storage: SqlStorage, needles: string[]): Promise<string[]> {
  const tables = await storage.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`,
  );
  const found: string[] = [];
  for (const { name } of tables) {
    const [row] = await storage.query<{ n: number }>(
      `select count(*)::int as n from "${name}" t where ${needles
        .map((_, i) => `strpos(lower(t::text), lower($${i + 1})) > 0`)
        .join(' or ')}`,
      needles,
    );
    if (row && row.n > 0) found.push(`${name}: ${row.n} rows`);
  }
  return found;
}

/** A row count per table for the given tables: what a dry run must leave as it was. */
export async function rowCounts(storage: SqlStorage, tables: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [row] = await storage.query<{ n: number }>(`select count(*)::int as n from "${table}"`);
    counts[table] = row?.n ?? 0;
  }
  return counts;
}

/** The whole content of the tables that hold lead data, as text: equal before and after a dry run. */
export async function leadDataSnapshot(storage: SqlStorage): Promise<string> {
  const parts: string[] = [];
  for (const table of [
    'conversations',
    'lead_inquiries',
    'conversation_timeline',
    'follow_up_tasks',
    'lead_events',
    'notification_logs',
    'crm_contacts',
    'audit_logs',
  ]) {
    const rows = await storage.query<{ t: string }>(
      `select coalesce(string_agg(x::text, E'\\n' order by x::text), '') as t from "${table}" x`,
    );
    parts.push(`${table}\n${rows[0]?.t ?? ''}`);
  }
  return parts.join('\n');
}

/** A lead with everything leadrelay can hold about a person: inquiry, note, failed alert, CRM id, audit row. */
export async function seedPersonEverywhere(storage: SqlStorage, tag: string) {
  const email = `erase.${tag}@example.com`;
  const phone = `+97150${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  const lead = await createLead(storage, {
    customerName: `Erin ${tag} Eraseme`,
    customerEmail: email,
    customerPhone: phone,
    message: `Call me on ${phone}`,
  });
  // A returning visit: an inquiry and a lead.returned event on the same lead.
  await captureLead(
    storage,
    {
      customerName: `Erin ${tag} Eraseme`,
      customerEmail: email,
      intent: 'rent',
      source: 'contact_form',
      message: `Second note from ${email}`,
      metadata: { pageUrl: `https://example.com/?email=${email}` },
    } as NormalizedLead,
    { slaMinutes: 5, idempotencyKey: `key-${email}`, duplicateWindowDays: 30 },
  );
  await storage.call('admin_add_note', { p_id: lead.id, p_note: `spoke to ${email}`, p_actor: 'Ann' });
  await killEvent(storage, lead.eventId, ['email']);
  await storage.query(`update notification_logs set error = $2 where event_id = $1`, [
    lead.eventId,
    `550 mailbox ${email} unavailable`,
  ]);
  await storage.query(`update lead_events set last_error = $2 where id = $1`, [
    lead.eventId,
    `email: 550 ${email}`,
  ]);
  await storage.call('crm_record_contact', {
    p_conversation_id: lead.id,
    p_provider: 'hubspot',
    p_contact_id: '90210',
  });
  await storage.call('audit_record', {
    p_entry: {
      actorName: 'Ann',
      actorRole: 'owner',
      action: 'lead.update',
      resourceType: 'lead',
      resourceId: lead.id,
      status: 'success',
      httpStatus: 200,
      details: { fields: ['note'], note: `legacy row quoting ${email}` },
    },
  });
  // A webhook endpoint's answer quoting the address, in the "webhook failing" alert.
  await storage.query(
    `insert into lead_events (event_type, payload)
     values ('webhook.failing', jsonb_build_object('endpointId', gen_random_uuid(), 'url', 'https://hooks.example.com/x',
             'eventId', $1::bigint, 'error', 'HTTP 422: unknown contact ' || $2::text, 'providerStatus', 422))`,
    [lead.eventId, email],
  );
  // A bulk action that searched for the person and tagged the lead (its undo values).
  const [action] = await storage.query<{ id: string }>(
    `insert into bulk_actions (kind, action, params, target, actor_name, actor_role)
     values ('add_tag', 'add_tag', '{"tag": "vip"}', jsonb_build_object('filter', jsonb_build_object('q', $1::text)),
             'Ann', 'owner') returning id`,
    [email],
  );
  await storage.query(
    `insert into bulk_action_items (action_id, seq, conversation_id, snapshot_version, state, before)
     values ($1, 1, $2, 1, 'changed', jsonb_build_object('tags', jsonb_build_array('call ' || $3::text)))`,
    [action!.id, lead.id, phone],
  );
  // The chat: a transcript line quoting the phone, a widget token, an alert batch.
  await storage.query(
    `insert into chat_messages (conversation_id, role, body) values ($1, 'visitor', $2), ($1, 'agent', 'Noted')`,
    [lead.id, `my number is ${phone}`],
  );
  await storage.query(
    `insert into conversation_tokens (token_hash, conversation_id, expires_at)
     values (md5(random()::text), $1, now() + interval '1 day')`,
    [lead.id],
  );
  await storage.query(
    `insert into chat_alert_batches (event_id, conversation_id, from_id, to_id, message_count, payload)
     values ($1, $2, 1, 1, 1, jsonb_build_object('customerEmail', $3::text))`,
    [lead.eventId, lead.id, email],
  );
  return { ...lead, email, phone, name: `Erin ${tag} Eraseme` };
}
