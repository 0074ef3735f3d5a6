import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { BulkRunner } from '../../src/bulk/bulk-runner.js';
import { bulkStore } from '../../src/bulk/bulk-store.js';
import { createConfirmToken } from '../../src/bulk/confirm-token.js';
import { auth, generousLimits } from '../admin/fixtures.js';
import { buildTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import { addMember } from '../team/fixtures.js';
import { getAction, postBulk, seedLeads, startRunner, waitForStatus } from './fixtures.js';

/**
 * Bulk actions end to end: the API takes the snapshot, a real runner (the worker's
 * engine, in this process) applies it in batches against the real database.
 */
describeEachDatabase('bulk actions', (kind) => {
  let db: TestDatabase;
  let t: TestApp;
  let runner: BulkRunner | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await buildTestApp(db.storage, { env: generousLimits });
  });
  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  const q = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    db.storage.query<R>(sql, params);
  const n = async (sql: string, params: unknown[] = []) =>
    Number((await q<{ n: string }>(sql, params))[0]!.n);
  /** Everything a bulk action could touch, summed up, to prove a dry run changed nothing. */
  const fingerprint = async () =>
    (
      await q<{ f: string }>(
        `select (select md5(coalesce(string_agg(id::text || status || version || coalesce(archived_at::text, '')
                   || array_to_string(tags, ','), '|' order by id), '')) from conversations)
             || (select count(*) from conversation_timeline) || '/' || (select count(*) from lead_events)
             || '/' || (select count(*) from bulk_actions) as f`,
      )
    )[0]!.f;

  it('dry runs change nothing and answer count, a sample of 20, warnings and undoability', async () => {
    const ids = await seedLeads(db.storage, 30, { source: 'dry-run' });
    await q(`update conversations set status = 'contacted', version = version + 1 where id = any($1)`, [
      ids.slice(0, 4),
    ]);
    const before = await fingerprint();
    const response = await postBulk(t.app, {
      action: 'set_status',
      target: { filter: { source: 'dry-run' } },
      params: { status: 'contacted' },
      dryRun: true,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ dryRun: true, count: 30, changes: 26, undoable: true, confirmToken: null });
    expect(body.sample).toHaveLength(20);
    expect(body.sample[0].id).toBe(ids[0]);
    expect(body.warnings).toEqual([
      expect.objectContaining({ code: 'unchanged', count: 4, message: expect.stringContaining('contacted') }),
    ]);
    // dryRun defaults to true; erase says it cannot be undone and needs confirming.
    const erase = await postBulk(t.app, { action: 'erase', target: { ids: ids.slice(0, 2) } });
    expect(erase.statusCode).toBe(200);
    expect(erase.json()).toMatchObject({ dryRun: true, count: 2, undoable: false, destructive: true });
    expect(erase.json().confirmToken).toMatch(/^\d+\.[\w-]{43}$/);
    expect(erase.json().warnings.map((w: { code: string }) => w.code)).toContain('not_undoable');
    expect(await fingerprint()).toBe(before);
  });

  it('refuses bad requests naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ action: 'set_status', target: { ids: [crypto.randomUUID()] }, params: {} }, 'params.status'],
      [{ action: 'explode', target: { ids: [crypto.randomUUID()] } }, 'action'],
      [{ action: 'archive', target: { ids: [], filter: {} } }, 'target.ids'],
      [{ action: 'archive', target: {} }, 'target'],
      [
        { action: 'add_tag', target: { filter: { status: 'nope' } }, params: { tag: 'x' } },
        'target.filter.status',
      ],
      [{ action: 'archive', target: { filter: {} }, params: { status: 'won' } }, 'params.status'],
      [{ action: 'add_tag', target: { filter: {} }, params: { tag: 'a\u0000b' } }, 'params.tag'],
    ];
    for (const [payload, field] of cases) {
      const response = await postBulk(t.app, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().fields.map((f: { field: string }) => f.field)).toContain(field);
    }
    const unknownMember = await postBulk(t.app, {
      action: 'assign',
      target: { filter: {} },
      params: { assignedTo: crypto.randomUUID() },
    });
    expect(unknownMember.statusCode).toBe(422);
    const agent = await addMember(t.app, { name: 'Bulk Agent' });
    expect(
      (await postBulk(t.app, { action: 'archive', target: { filter: {} } }, agent.auth)).statusCode,
    ).toBe(403);
  });

  it('428 for a destructive run without its matching, unexpired confirmToken', async () => {
    const ids = await seedLeads(db.storage, 3, { source: 'confirm' });
    const target = { ids };
    const before = await n('select count(*) as n from bulk_actions');
    const run = (extra: Record<string, unknown>) =>
      postBulk(t.app, { action: 'archive', target, dryRun: false, ...extra });
    const missing = await run({});
    expect(missing.statusCode).toBe(428);
    expect(missing.json().error).toBe('confirmation_required');
    const other = (await postBulk(t.app, { action: 'archive', target: { ids: ids.slice(0, 1) } })).json();
    expect((await run({ confirmToken: other.confirmToken })).statusCode).toBe(428);
    const subject = { principalId: null, action: 'archive', target: { ids }, params: {} };
    const expired = createConfirmToken(TEST_ADMIN_KEY, subject, Date.now() - 11 * 60_000).token;
    expect((await run({ confirmToken: expired })).statusCode).toBe(428);
    expect((await run({ confirmToken: 'garbage' })).statusCode).toBe(428);
    expect(await n('select count(*) as n from bulk_actions')).toBe(before);
    const preview = (await postBulk(t.app, { action: 'archive', target })).json();
    const accepted = await run({ confirmToken: preview.confirmToken });
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json()).toMatchObject({ status: 'queued', total: 3 });
    // Non-destructive actions need no token.
    const status = await postBulk(t.app, {
      action: 'set_status',
      target,
      params: { status: 'won' },
      dryRun: false,
    });
    expect(status.statusCode).toBe(202);
    const audit = await q<{ action: string; http_status: number; details: Record<string, unknown> }>(
      `select action, http_status, details from audit_logs where action = 'bulk_action.create' order by id`,
    );
    expect(audit.map((row) => row.http_status)).toEqual(expect.arrayContaining([200, 428, 202]));
    expect(audit.find((row) => row.http_status === 428)?.details).toMatchObject({
      error: 'confirmation_required',
    });
  });

  it('runs set_status in batches: timeline, bulk-marked events, progress, audit with counts', async () => {
    const ids = await seedLeads(db.storage, 23, { source: 'run' });
    await q(`update conversations set status = 'contacted', version = version + 1 where id = $1`, [ids[5]]);
    const task = await q<{ id: string }>(
      `insert into follow_up_tasks (conversation_id, title, due_at) values ($1, 'Call', now()) returning id`,
      [ids[0]],
    );
    const created = await postBulk(t.app, {
      action: 'set_status',
      target: { filter: { source: 'run' } },
      params: { status: 'contacted' },
      dryRun: false,
    });
    expect(created.statusCode).toBe(202);
    const { id } = created.json();
    runner = await startRunner(db.storage, { BULK_BATCH_SIZE: '5' });
    const done = await waitForStatus(t.app, id);
    expect(done).toMatchObject({
      total: 23,
      processed: 22,
      skipped: 1,
      skipReasons: { unchanged: 1 },
      failed: 0,
      undoable: true,
    });
    expect(Date.parse(done.undoExpiresAt!) - Date.parse(done.finishedAt!)).toBeCloseTo(7 * 86_400_000, -4);
    expect(
      await n(`select count(*) as n from conversations where source = 'run' and status = 'contacted'`),
    ).toBe(23);
    expect(
      await n(
        `select count(*) as n from conversation_timeline where details->>'bulkActionId' = $1 and entry_type = 'status_changed'`,
        [id],
      ),
    ).toBe(22);
    const events = await q<{ payload: Record<string, unknown> }>(
      `select payload from lead_events where payload->>'bulkActionId' = $1`,
      [id],
    );
    expect(events).toHaveLength(22);
    expect(events.every((e) => e.payload.bulk === true && e.payload.to === 'contacted')).toBe(true);
    // Moving out of 'new' is a first response, as with PATCH.
    expect(
      (await q<{ status: string }>('select status from follow_up_tasks where id = $1', [task[0]!.id]))[0],
    ).toEqual({ status: 'done' });
    const audit = await q<{ actor_name: string; status: string; details: Record<string, unknown> }>(
      `select actor_name, status, details from audit_logs where action = 'bulk_action.completed' and resource_id = $1`,
      [id],
    );
    expect(audit).toEqual([
      {
        actor_name: 'owner',
        status: 'success',
        details: expect.objectContaining({ action: 'set_status', total: 23, processed: 22, skipped: 1 }),
      },
    ]);
    const list = (
      await t.app.inject({ method: 'GET', url: '/api/admin/bulk-actions?limit=1', headers: auth })
    ).json();
    expect(list.items.map((item: { id: string }) => item.id)).toEqual([id]);
    if (list.nextCursor) {
      const next = await t.app.inject({
        method: 'GET',
        url: `/api/admin/bulk-actions?limit=1&cursor=${list.nextCursor}`,
        headers: auth,
      });
      expect(next.json().items[0].id).not.toBe(id);
    }
  });

  it('archive hides leads from the list and export unless asked; undo brings them back', async () => {
    const ids = await seedLeads(db.storage, 6, { source: 'archive' });
    const target = { filter: { source: 'archive' } };
    const preview = (await postBulk(t.app, { action: 'archive', target })).json();
    const created = await postBulk(t.app, {
      action: 'archive',
      target,
      dryRun: false,
      confirmToken: preview.confirmToken,
    });
    runner = await startRunner(db.storage);
    const done = await waitForStatus(t.app, created.json().id);
    expect(done.processed).toBe(6);
    const list = (query: string) =>
      t.app.inject({ method: 'GET', url: `/api/admin/leads?source=archive${query}`, headers: auth });
    expect((await list('')).json().items).toEqual([]);
    expect((await list('&archived=true')).json().items.map((l: { id: string }) => l.id)).toEqual(ids);
    expect((await list('&archived=include')).json().items).toHaveLength(6);
    expect((await list('&archived=maybe')).statusCode).toBe(400);
    const csv = await t.app.inject({
      method: 'GET',
      url: '/api/admin/leads/export.csv?source=archive',
      headers: auth,
    });
    expect(csv.body.trim().split('\n')).toHaveLength(1);
    const csvArchived = await t.app.inject({
      method: 'GET',
      url: '/api/admin/leads/export.csv?source=archive&archived=true',
      headers: auth,
    });
    expect(csvArchived.body.trim().split('\n')).toHaveLength(7);
    // An archived lead is not matched by a filter target either, unless asked.
    expect((await postBulk(t.app, { action: 'archive', target })).json().count).toBe(0);

    const undo = await t.app.inject({
      method: 'POST',
      url: `/api/admin/bulk-actions/${done.id}/undo`,
      headers: auth,
    });
    expect(undo.statusCode).toBe(202);
    const undone = await waitForStatus(t.app, undo.json().id);
    expect(undone).toMatchObject({ kind: 'undo', undoOf: done.id, processed: 6, undoable: false });
    expect((await getAction(t.app, done.id)).status).toBe('undone');
    expect((await list('')).json().items).toHaveLength(6);
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/admin/bulk-actions/${done.id}/undo`,
      headers: auth,
    });
    expect(again.statusCode).toBe(409);
    expect(
      await n(
        `select count(*) as n from audit_logs where action = 'bulk_action.undo_completed' and resource_id = $1`,
        [undone.id],
      ),
    ).toBe(1);
  });

  it('erase: confirmed, each lead through erase_lead in its batch, never undoable', async () => {
    const ids = await seedLeads(db.storage, 5, { source: 'erase-bulk' });
    const target = { filter: { source: 'erase-bulk' } };
    const preview = (await postBulk(t.app, { action: 'erase', target })).json();
    expect(preview).toMatchObject({ count: 5, undoable: false });
    runner = await startRunner(db.storage, { BULK_BATCH_SIZE: '2' });
    const created = await postBulk(t.app, {
      action: 'erase',
      target,
      dryRun: false,
      confirmToken: preview.confirmToken,
    });
    expect(created.statusCode).toBe(202);
    const done = await waitForStatus(t.app, created.json().id);
    expect(done).toMatchObject({ processed: 5, skipped: 0, undoable: false, undoExpiresAt: null });
    const rows = await q<{ erased: boolean; email: string | null }>(
      `select erased_at is not null as erased, customer_email as email from conversations where id = any($1)`,
      [ids],
    );
    expect(rows).toEqual(Array(5).fill({ erased: true, email: null }));
    expect(
      await n(
        `select count(*) as n from lead_events where event_type = 'lead.erased' and conversation_id = any($1)`,
        [ids],
      ),
    ).toBe(5);
    const undo = await t.app.inject({
      method: 'POST',
      url: `/api/admin/bulk-actions/${done.id}/undo`,
      headers: auth,
    });
    expect(undo.statusCode).toBe(409);
    // Erased tombstones are no target any more.
    expect((await postBulk(t.app, { action: 'erase', target: { ids } })).json().count).toBe(0);
  });

  it('tags and assignment, each undone to exactly the previous values', async () => {
    const ids = await seedLeads(db.storage, 8, { source: 'tags' });
    await q(`update conversations set tags = '{vip}', version = version + 1 where id = $1`, [ids[0]]);
    const member = await addMember(t.app, { name: 'Bulk Owner', role: 'admin' });
    const other = await addMember(t.app, { name: 'Earlier Owner' });
    await q(
      `update conversations set assignee_id = $2, assigned_to = 'Earlier Owner', version = version + 1 where id = $1`,
      [ids[1], other.id],
    );
    runner = await startRunner(db.storage, { BULK_BATCH_SIZE: '3' });
    const run = async (action: string, params: Record<string, unknown>) => {
      const created = await postBulk(t.app, {
        action,
        target: { filter: { source: 'tags' } },
        params,
        dryRun: false,
      });
      expect(created.statusCode, created.body).toBe(202);
      return waitForStatus(t.app, created.json().id);
    };
    const tagged = await run('add_tag', { tag: 'vip' });
    expect(tagged).toMatchObject({ processed: 7, skipped: 1 });
    const assigned = await run('assign', { assignedTo: member.id });
    expect(assigned.processed).toBe(8);
    const rows = await q<{ tags: string[]; assignee_id: string }>(
      `select tags, assignee_id from conversations where source = 'tags'`,
    );
    expect(rows.every((r) => r.tags.includes('vip') && r.assignee_id === member.id)).toBe(true);
    const assignedEvents = await n(
      `select count(*) as n from lead_events where event_type = 'lead.assigned' and payload->>'bulkActionId' = $1`,
      [assigned.id],
    );
    expect(assignedEvents).toBe(8);

    for (const action of [assigned, tagged]) {
      const undo = await t.app.inject({
        method: 'POST',
        url: `/api/admin/bulk-actions/${action.id}/undo`,
        headers: auth,
      });
      expect(undo.statusCode).toBe(202);
      await waitForStatus(t.app, undo.json().id);
    }
    const restored = await q<{ id: string; tags: string[]; assignee_id: string | null }>(
      `select id, tags, assignee_id from conversations where source = 'tags'`,
    );
    for (const row of restored) {
      expect(row.tags).toEqual(row.id === ids[0] ? ['vip'] : []);
      expect(row.assignee_id).toBe(row.id === ids[1] ? other.id : null);
    }
  });

  it('undo leaves leads changed since alone and reports them as conflicts', async () => {
    const ids = await seedLeads(db.storage, 10, { source: 'conflict' });
    runner = await startRunner(db.storage);
    const created = await postBulk(t.app, {
      action: 'set_status',
      target: { ids },
      params: { status: 'qualified' },
      dryRun: false,
    });
    const done = await waitForStatus(t.app, created.json().id);
    // Three leads are worked by hand after the bulk change.
    for (const id of ids.slice(0, 3)) {
      const patch = await t.app.inject({
        method: 'PATCH',
        url: `/api/admin/leads/${id}`,
        headers: auth,
        payload: { version: 2, status: 'won' },
      });
      expect(patch.statusCode).toBe(200);
    }
    const undo = await t.app.inject({
      method: 'POST',
      url: `/api/admin/bulk-actions/${done.id}/undo`,
      headers: auth,
    });
    const undone = await waitForStatus(t.app, undo.json().id);
    expect(undone).toMatchObject({ total: 10, processed: 7, skipped: 3, skipReasons: { conflict: 3 } });
    const statuses = await q<{ id: string; status: string }>(
      `select id, status from conversations where id = any($1)`,
      [ids],
    );
    for (const row of statuses) expect(row.status).toBe(ids.slice(0, 3).includes(row.id) ? 'won' : 'new');
  });

  it('a batch that fails half-way is rolled back whole, retried, and fails the action with its report', async () => {
    const ids = await seedLeads(db.storage, 12, { source: 'rollback' });
    // A real failure inside the batch's transaction: a trigger that raises on one marked lead.
    await q(`update conversations set customer_name = 'FAIL ME' where id = $1`, [ids[7]]);
    await q(`create or replace function test_fail_marked() returns trigger language plpgsql as $$
             begin
               if new.customer_name = 'FAIL ME' and new.status is distinct from old.status then
                 raise exception 'injected failure on a marked lead';
               end if;
               return new;
             end $$`);
    await q(`create trigger test_fail_marked before update on conversations
             for each row execute function test_fail_marked()`);
    try {
      runner = await startRunner(db.storage, { BULK_BATCH_SIZE: '5', BULK_BATCH_ATTEMPTS: '3' });
      const created = await postBulk(t.app, {
        action: 'set_status',
        target: { filter: { source: 'rollback' } },
        params: { status: 'lost' },
        dryRun: false,
      });
      const failed = await waitForStatus(t.app, created.json().id, ['failed']);
      // Batch 1 (seq 1-5) committed; batch 2 (seq 6-10, the marked lead is seq 8) failed 3 times.
      expect(failed).toMatchObject({
        processed: 5,
        failed: 5,
        attempts: 3,
        error: expect.stringContaining('injected'),
      });
      const rows = await q<{ id: string; status: string; version: number }>(
        `select id, status, version from conversations where id = any($1)`,
        [ids],
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const [index, id] of ids.entries()) {
        expect(byId.get(id)?.status, `lead ${index + 1}`).toBe(index < 5 ? 'lost' : 'new');
      }
      expect(
        await n(`select count(*) as n from conversation_timeline where details->>'bulkActionId' = $1`, [
          failed.id,
        ]),
      ).toBe(5);
      expect(
        await n(`select count(*) as n from lead_events where payload->>'bulkActionId' = $1`, [failed.id]),
      ).toBe(5);
      const audit = await q<{ status: string; details: Record<string, unknown> }>(
        `select status, details from audit_logs where action = 'bulk_action.failed' and resource_id = $1`,
        [failed.id],
      );
      expect(audit).toEqual([
        { status: 'failure', details: expect.objectContaining({ processed: 5, failed: 5 }) },
      ]);
      // What did commit can still be undone.
      expect(failed.undoable).toBe(true);
    } finally {
      await q('drop trigger if exists test_fail_marked on conversations');
    }
  });

  it('resumes where a worker that died stopped, applying no batch twice', async () => {
    const ids = await seedLeads(db.storage, 40, { source: 'resume' });
    const created = await postBulk(t.app, {
      action: 'set_status',
      target: { filter: { source: 'resume' } },
      params: { status: 'contacted' },
      dryRun: false,
    });
    const { id } = created.json();
    // A worker claims the action, commits three batches of 7 and dies (its lease runs out).
    const store = bulkStore(db.storage);
    expect((await store.claim('doomed-worker', 1))?.id).toBe(id);
    for (let i = 0; i < 3; i++)
      expect((await store.runBatch(id, 'doomed-worker', 7, 1)).state).toBe('continue');
    expect((await getAction(t.app, id)).processed).toBe(21);
    runner = await startRunner(db.storage, { BULK_BATCH_SIZE: '7', WORKER_LEASE_SECONDS: '1' });
    const done = await waitForStatus(t.app, id);
    expect(done).toMatchObject({ processed: 40, skipped: 0, failed: 0 });
    // The dead worker cannot commit anything late: its lease is gone.
    expect((await store.runBatch(id, 'doomed-worker', 7, 1)).state).toBe('lost');
    const perLead = await q<{ n: string }>(
      `select count(t.id) as n from conversations c
         left join conversation_timeline t on t.conversation_id = c.id and t.details->>'bulkActionId' = $2
        where c.id = any($1) group by c.id`,
      [ids, id],
    );
    expect(perLead.map((row) => Number(row.n))).toEqual(Array(40).fill(1));
  });

  it('a single-lead PATCH racing a bulk action is never lost', async () => {
    const ids = await seedLeads(db.storage, 150, { source: 'race' });
    runner = await startRunner(db.storage, { BULK_BATCH_SIZE: '10' });
    const created = await postBulk(t.app, {
      action: 'set_status',
      target: { filter: { source: 'race' } },
      params: { status: 'lost' },
      dryRun: false,
    });
    const { id } = created.json();
    const won = new Set<string>();
    let conflicts = 0;
    // Work leads by hand while the batches run: read the version, PATCH it to won.
    await Promise.all(
      [0, 1, 2].map(async (lane) => {
        for (let i = lane; i < ids.length; i += 10) {
          const lead = ids[i]!;
          const detail = (
            await t.app.inject({ method: 'GET', url: `/api/admin/leads/${lead}`, headers: auth })
          ).json();
          const patch = await t.app.inject({
            method: 'PATCH',
            url: `/api/admin/leads/${lead}`,
            headers: auth,
            payload: { version: detail.lead.version, status: 'won' },
          });
          if (patch.statusCode === 200) won.add(lead);
          else if (patch.statusCode === 409) conflicts += 1;
          else throw new Error(`PATCH answered ${patch.statusCode}`);
        }
      }),
    );
    const done = await waitForStatus(t.app, id);
    expect(won.size).toBeGreaterThan(0);
    const rows = await q<{ id: string; status: string }>(
      `select id, status from conversations where id = any($1)`,
      [ids],
    );
    for (const row of rows) {
      if (won.has(row.id)) expect(row.status, `PATCHed lead ${row.id}`).toBe('won');
      else expect(row.status).toBe('lost');
    }
    // Every PATCH that won before its batch made that lead a conflict, never an overwrite.
    expect(done.processed + (done.skipReasons.conflict ?? 0)).toBe(150);
    expect(done.skipReasons.conflict ?? 0).toBeLessThanOrEqual(won.size);
    expect(conflicts + won.size).toBe(45);
  }, 90_000);

  it('leadrelay cleanup data: expired undo data is purged (dry run counts first), health sees stalls', async () => {
    const ids = await seedLeads(db.storage, 4, { source: 'purge' });
    runner = await startRunner(db.storage);
    const created = await postBulk(t.app, {
      action: 'add_tag',
      target: { ids },
      params: { tag: 'old' },
      dryRun: false,
    });
    const done = await waitForStatus(t.app, created.json().id);
    const store = bulkStore(db.storage);
    const later = new Date(Date.now() + 8 * 86_400_000);
    const counted = await store.purgeUndoData({ dryRun: true, now: later });
    expect(counted.actions).toBeGreaterThanOrEqual(1);
    expect(await n('select count(*) as n from bulk_action_items where action_id = $1', [done.id])).toBe(4);
    const purged = await store.purgeUndoData({ dryRun: false, now: later });
    expect(purged).toMatchObject({ actions: counted.actions, items: counted.items });
    expect(await n('select count(*) as n from bulk_action_items where action_id = $1', [done.id])).toBe(0);
    const after = await getAction(t.app, done.id);
    expect(after).toMatchObject({ undoable: false, processed: 4 });
    const undo = await t.app.inject({
      method: 'POST',
      url: `/api/admin/bulk-actions/${done.id}/undo`,
      headers: auth,
    });
    expect(undo.statusCode).toBe(409);

    await runner.stop();
    runner = undefined;
    const stuck = (
      await postBulk(t.app, { action: 'add_tag', target: { ids }, params: { tag: 'x' }, dryRun: false })
    ).json();
    await q(`update bulk_actions set created_at = now() - interval '6 minutes' where id = $1`, [stuck.id]);
    const stalled = await store.stalled(300);
    expect(stalled.stalled.map((s) => s.id)).toEqual([stuck.id]);
    runner = await startRunner(db.storage);
    await waitFor(async () => (await store.stalled(300)).stalled.length === 0, { message: 'no stall' });
  });
});
