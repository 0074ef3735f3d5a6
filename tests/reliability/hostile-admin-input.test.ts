import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auth, createLead, generousLimits } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';

/**
 * Every admin input follows the intake's text rules (src/validation/text-fields.ts):
 * NUL and lone surrogates are refused with a 400 naming the field, and whatever
 * arrives on an admin route, the answer is never a 5xx (as hostile-input.test.ts
 * checks for the public endpoints). Most generated requests are valid but for one
 * field, so they reach the database.
 */
const RUNS = process.env.LEADRELAY_SOAK === '1' ? 10_000 : 600;

const nasty = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\uD800',
    'x\uDFFFy',
    '\uFEFF',
    '%',
    "'; drop table x; --",
    '𝕏'.repeat(300),
  ),
  fc.string({ minLength: 4990, maxLength: 5100 }),
  fc.integer(),
  fc.constantFrom(2 ** 31, 2 ** 53, 2 ** 63, 1e308, -1, 0, 1.5),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);
/** Raw query-string pieces, some of them not valid percent-encoding or UTF-8. */
const rawQueryValue = fc.oneof(
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.constantFrom(
    '%00',
    'a%00',
    '%ED%A0%80',
    '%F0%9D',
    '%FF',
    '%',
    '%zz',
    '1e400',
    '-0',
    '99999999999999999999',
  ),
);
const queryKey = fc.constantFrom(
  'status',
  'intent',
  'source',
  'sla_breached',
  'q',
  'created_from',
  'created_to',
  'cursor',
  'limit',
  'channel',
  'before',
  'days',
  'token',
  'actor',
  'action',
  'from',
  'to',
  'x',
);
const query = fc
  .array(fc.tuple(queryKey, rawQueryValue), { maxLength: 4 })
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));

function withOneHostile(valid: Record<string, unknown>, fields: string[]) {
  return fc
    .tuple(fc.constantFrom(...fields, 'none'), nasty)
    .map(([field, junk]) => (field === 'none' ? valid : { ...valid, [field]: junk }));
}

describeEachDatabase('hostile input on the admin routes', (kind) => {
  let db: TestDatabase;
  let t: TestApp;
  let leadIds: string[];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await buildTestApp(db.storage, { env: generousLimits });
    leadIds = [];
    for (let i = 0; i < 3; i++) leadIds.push((await createLead(db.storage)).id);
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  it('refuses NUL and lone surrogates in every admin text field with a 400 naming it', async () => {
    const id = leadIds[0]!;
    const cases: { method: 'GET' | 'PATCH' | 'POST'; url: string; payload?: object; field: string }[] = [];
    for (const junk of ['bad\u0000text', 'bad\uD800text']) {
      for (const field of ['note', 'assignedTo', 'actor']) {
        cases.push({
          method: 'PATCH',
          url: `/api/admin/leads/${id}`,
          payload: { version: 1, note: 'ok', [field]: junk },
          field,
        });
      }
      cases.push({
        method: 'POST',
        url: `/api/admin/leads/${id}/notes`,
        payload: { note: junk },
        field: 'note',
      });
      cases.push({
        method: 'POST',
        url: `/api/admin/leads/${id}/notes`,
        payload: { note: 'ok', actor: junk },
        field: 'actor',
      });
      cases.push({
        method: 'POST',
        url: '/api/admin/tasks/1/complete',
        payload: { actor: junk },
        field: 'actor',
      });
      cases.push({
        method: 'POST',
        url: '/api/admin/events/1/replay',
        payload: { actor: junk },
        field: 'actor',
      });
    }
    for (const field of ['q', 'intent', 'source', 'cursor']) {
      cases.push({ method: 'GET', url: `/api/admin/leads?${field}=a%00b`, field });
      if (field !== 'cursor')
        cases.push({ method: 'GET', url: `/api/admin/leads/export.csv?${field}=a%00b`, field });
    }
    cases.push({ method: 'GET', url: '/api/admin/notifications?channel=%00', field: 'channel' });
    for (const c of cases) {
      const response = await t.app.inject({
        method: c.method,
        url: c.url,
        headers: auth,
        ...(c.payload ? { payload: c.payload } : {}),
      });
      expect({ url: c.url, field: c.field, status: response.statusCode }).toEqual({
        url: c.url,
        field: c.field,
        status: 400,
      });
      expect(response.json().fields.map((f: { field: string }) => f.field)).toContain(c.field);
    }
  });

  it(`never answers 5xx, whatever arrives (${RUNS} requests)`, async () => {
    const statuses = new Map<number, number>();
    const leadId = fc.oneof(
      fc.constantFrom(...leadIds),
      fc.constantFrom(...leadIds),
      fc.uuid(),
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
    );
    const numericId = fc.oneof(
      fc.integer({ min: 1, max: 50 }),
      fc.constantFrom('0', '-1', '1e400', '9223372036854775808', '99999999999999999999', 'x'),
    );
    const request = fc.oneof(
      query.map((q) => ({ method: 'GET' as const, url: `/api/admin/leads${q}` })),
      query.map((q) => ({ method: 'GET' as const, url: `/api/admin/leads/export.csv${q}` })),
      query.map((q) => ({ method: 'GET' as const, url: `/api/admin/notifications${q}` })),
      query.map((q) => ({ method: 'GET' as const, url: `/api/admin/overview${q}` })),
      query.map((q) => ({ method: 'GET' as const, url: `/api/admin/stats${q}` })),
      query.map((q) => ({ method: 'GET' as const, url: `/api/admin/audit${q}` })),
      query.map((q) => ({ method: 'GET' as const, url: `/api/admin/team${q}` })),
      query.map((q) => ({ method: 'GET' as const, url: `/api/admin/assignees${q}` })),
      withOneHostile({ name: 'Sam Agent', email: 'sam@example.com', role: 'agent', phone: '+971501112233' }, [
        'name',
        'email',
        'role',
        'phone',
        'capacity',
        'slackUserId',
        'telegramChatId',
      ]).map((payload) => ({ method: 'POST' as const, url: '/api/admin/team', payload })),
      fc
        .tuple(leadId, leadId, withOneHostile({ dryRun: true }, ['dryRun', 'from']))
        .map(([id, from, payload]) => ({
          method: 'POST' as const,
          url: `/api/admin/leads/${id}/merge`,
          payload: { from, ...payload },
        })),
      leadId.map((id) => ({ method: 'GET' as const, url: `/api/admin/leads/${id}` })),
      fc
        .tuple(
          leadId,
          withOneHostile(
            { version: 1, status: 'contacted', assignedTo: 'Sam', note: 'called', actor: 'ana' },
            ['version', 'status', 'assignedTo', 'note', 'actor'],
          ),
        )
        .map(([id, payload]) => ({ method: 'PATCH' as const, url: `/api/admin/leads/${id}`, payload })),
      fc
        .tuple(leadId, withOneHostile({ note: 'a note', actor: 'ana' }, ['note', 'actor']))
        .map(([id, payload]) => ({ method: 'POST' as const, url: `/api/admin/leads/${id}/notes`, payload })),
      fc.tuple(numericId, withOneHostile({ actor: 'ana' }, ['actor'])).map(([id, payload]) => ({
        method: 'POST' as const,
        url: `/api/admin/tasks/${id}/complete`,
        payload,
      })),
      fc.tuple(numericId, withOneHostile({ actor: 'ana' }, ['actor'])).map(([id, payload]) => ({
        method: 'POST' as const,
        url: `/api/admin/events/${id}/replay`,
        payload,
      })),
    );

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const response = await t.app.inject({
          method: r.method,
          url: r.url,
          headers: auth,
          ...('payload' in r ? { payload: r.payload } : {}),
        });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        expect(response.statusCode, `${r.method} ${r.url} ${response.body.slice(0, 200)}`).toBeLessThan(500);
        if (response.statusCode >= 400) {
          const json = response.json();
          expect(typeof json.error).toBe('string');
          if (json.error === 'validation_failed') expect(json.fields.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: RUNS },
    );
    console.info(
      `hostile admin input [${kind}]: ${RUNS} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  });
});
