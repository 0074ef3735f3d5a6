import { afterAll, beforeAll, expect, it } from 'vitest';
import { eraseLead, findLeadsByContact } from '../../src/privacy/erasure.js';
import { createLead } from '../admin/fixtures.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { leadDataSnapshot, seedPersonEverywhere, tablesMentioning } from './fixtures.js';

/**
 * erase_lead on the database itself: every table is searched for the person's email,
 * phone and name afterwards; the append-only outbox still refuses every other change.
 */
describeEachDatabase('erase_lead', (kind) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });

  const richLead = (tag: string) => seedPersonEverywhere(db.storage, tag);

  it('the dry run counts and changes nothing; the erasure leaves no trace of the email, phone or name', async () => {
    const lead = await richLead('one');
    const bystander = await createLead(db.storage, { customerEmail: 'bystander@example.com' });
    const needles = [lead.email, lead.phone, lead.phone.slice(1), lead.name];
    expect((await tablesMentioning(db.storage, needles)).length).toBeGreaterThan(4);

    const before = await leadDataSnapshot(db.storage);
    const dry = await eraseLead(db.storage, lead.id, { actor: 'Ann', dryRun: true });
    expect(dry).toMatchObject({
      dryRun: true,
      erased: false,
      alreadyErased: false,
      leadIds: [lead.id],
      counts: {
        leads: 1,
        inquiries: 1,
        tasks: 1,
        crmContacts: 1,
        auditEntries: 1,
        chatMessages: 2,
        conversationTokens: 1,
      },
    });
    expect(dry.counts.events).toBeGreaterThanOrEqual(2);
    expect(await leadDataSnapshot(db.storage)).toBe(before);

    const done = await eraseLead(db.storage, lead.id, { actor: 'Ann' });
    expect(done).toMatchObject({ erased: true, counts: dry.counts, leadIds: [lead.id] });
    expect(done.tombstone).toMatchObject({ id: lead.id, source: 'chatbot', erasedAt: done.erasedAt });
    expect(await tablesMentioning(db.storage, needles)).toEqual([]);

    // The tombstone keeps id, source, status and times; the rest is gone.
    const [row] = await db.storage.query(
      `select customer_name, customer_email, customer_phone, message, intent, metadata, idempotency_key,
              erased_at is not null as erased from conversations where id = $1`,
      [lead.id],
    );
    expect(row).toEqual({
      customer_name: null,
      customer_email: null,
      customer_phone: null,
      message: null,
      intent: null,
      metadata: {},
      idempotency_key: null,
      erased: true,
    });
    // The bystander is untouched.
    expect(await tablesMentioning(db.storage, ['bystander@example.com'])).toContain('conversations: 1 rows');
    expect(
      (await db.storage.query('select customer_email from conversations where id = $1', [bystander.id]))[0],
    ).toEqual({ customer_email: 'bystander@example.com' });

    // The event history stays (redacted), pending events are closed as erased, and
    // lead.erased (no personal data) waits for the integrations.
    const events = await db.storage.query<{ event_type: string; outcome: string | null; payload: unknown }>(
      'select event_type, outcome, payload from lead_events where conversation_id = $1 order by id',
      [lead.id],
    );
    expect(events.map((e) => [e.event_type, e.outcome])).toEqual([
      ['lead.created', 'dead'],
      ['lead.returned', 'erased'],
      ['lead.erased', null],
    ]);
    expect(events[0]!.payload).toMatchObject({ conversationId: lead.id, redacted: true });
    expect(events[2]!.payload).toEqual({
      conversationId: lead.id,
      erasedAt: done.erasedAt,
      reason: 'request',
      actor: 'Ann',
      crm: { hubspot: '90210' },
    });
  });

  it('answers alreadyErased the second time, LR404 for an unknown id, and the email is not found again', async () => {
    const lead = await richLead('two');
    expect(await findLeadsByContact(db.storage, { email: lead.email })).toEqual([
      expect.objectContaining({ id: lead.id, matched: 'email' }),
    ]);
    expect(await findLeadsByContact(db.storage, { phone: lead.phone })).toEqual([
      expect.objectContaining({ id: lead.id, matched: 'phone' }),
    ]);
    await eraseLead(db.storage, lead.id, { actor: 'Ann' });
    const again = await eraseLead(db.storage, lead.id, { actor: 'Ann' });
    expect(again).toMatchObject({ erased: false, alreadyErased: true, counts: { leads: 0 } });
    expect(await findLeadsByContact(db.storage, { email: lead.email })).toEqual([]);
    await expect(eraseLead(db.storage, crypto.randomUUID(), { actor: 'Ann' })).rejects.toThrow(/not found/);
    // Only one lead.erased for the lead.
    const [{ n }] = (await db.storage.query(
      `select count(*)::int as n from lead_events where conversation_id = $1 and event_type = 'lead.erased'`,
      [lead.id],
    )) as [{ n: number }];
    expect(n).toBe(1);
  });

  it('erases the whole merge group, whichever member is named', async () => {
    const keep = await createLead(db.storage, { customerEmail: 'group.keep@example.com' });
    const other = await createLead(db.storage, { customerPhone: '+971501112233', customerEmail: undefined });
    await db.storage.call('admin_merge_leads', { p_id: keep.id, p_from: other.id, p_dry_run: false });
    const result = await eraseLead(db.storage, other.id, { actor: 'Ann' });
    expect(result.leadIds.sort()).toEqual([keep.id, other.id].sort());
    expect(result.counts.leads).toBe(2);
    expect(
      await tablesMentioning(db.storage, ['group.keep@example.com', '+971501112233', '971501112233']),
    ).toEqual([]);
  });

  it('keeps the outbox append-only: plain updates of payload, type or time still fail; even erasure cannot rewrite', async () => {
    const lead = await createLead(db.storage);
    const refused = (sql: string) =>
      expect(db.storage.query(sql, [lead.eventId])).rejects.toMatchObject({ code: 'LR002' });
    await refused(`update lead_events set payload = '{"redacted": true}' where id = $1`);
    await refused(`update lead_events set payload = payload - 'customerEmail' where id = $1`);
    await refused(`update lead_events set event_type = 'lead.erased' where id = $1`);
    await refused(`update lead_events set created_at = now() - interval '1 day' where id = $1`);
    await refused(`delete from lead_events where id = $1`);
    // The erasure flag allows removing keys only, never adding or changing values.
    await expect(
      db.storage.transaction(async (tx) => {
        await tx.query(`select set_config('leadrelay.erasure', 'on', true)`);
        await tx.query(
          `update lead_events set payload = payload || '{"redacted": true, "customerName": "Someone else"}' where id = $1`,
          [lead.eventId],
        );
      }),
    ).rejects.toMatchObject({ code: 'LR002' });
    // erase_lead leaves the flag off for the rest of its caller's transaction.
    await expect(
      db.storage.transaction(async (tx) => {
        await tx.query(`select erase_lead(p_lead_id => $1, p_actor => 'Ann')`, [lead.id]);
        await tx.query(`update lead_events set payload = '{"redacted": true}' where id = $1`, [lead.eventId]);
      }),
    ).rejects.toMatchObject({ code: 'LR002' });
  });

  it('closes events a producer writes for an erased lead afterwards, and refuses admin changes and chat messages', async () => {
    const lead = await createLead(db.storage);
    await eraseLead(db.storage, lead.id, { actor: 'Ann' });
    await db.storage.query(
      `insert into lead_events (event_type, conversation_id, payload)
       values ('lead.sla_breached', $1, '{"customerEmail": "late@example.com"}')`,
      [lead.id],
    );
    const [late] = await db.storage.query(
      `select processed, outcome, payload from lead_events
        where conversation_id = $1 and event_type = 'lead.sla_breached'`,
      [lead.id],
    );
    expect(late).toMatchObject({ processed: true, outcome: 'erased', payload: { redacted: true } });
    await expect(
      db.storage.call('admin_update_lead', { p_id: lead.id, p_expected_version: null, p_status: 'won' }),
    ).rejects.toMatchObject({ code: 'LR404' });
    await expect(
      db.storage.query(`insert into chat_messages (conversation_id, role, body) values ($1, 'agent', 'hi')`, [
        lead.id,
      ]),
    ).rejects.toMatchObject({ code: 'LR404' });
    await expect(db.storage.call('admin_add_note', { p_id: lead.id, p_note: 'hello' })).rejects.toMatchObject(
      {
        code: 'LR404',
      },
    );
  });
});
