import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auth, createLead, generousLimits } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { addMember } from './fixtures.js';

/**
 * Every route in Fastify's route table (printRoutes without common prefixes: one
 * segment per line, indented four characters per level, methods in parentheses).
 */
function routeTable(printed: string): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const parents: string[] = [];
  for (const line of printed.split('\n')) {
    const match = /^([│ ]*)[├└]── (.+?) \(([A-Z, ]+)\)$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const url = (depth > 0 ? parents[depth - 1]! : '') + match[2]!;
    parents[depth] = url;
    for (const method of match[3]!.split(',').map((m) => m.trim())) routes.push({ method, url });
  }
  return routes;
}

const MUTATING = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
/** POSTs that change nothing. */
const NOT_MUTATIONS = new Set(['POST /api/admin/stream-token']);

describeEachDatabase('audit log', (kind) => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await buildTestApp(db.storage, { env: generousLimits });
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  const auditCount = async () =>
    (await db.storage.query<{ n: number }>('select count(*)::int as n from audit_logs'))[0]!.n;

  it('every mutating admin route in the route table writes an audit row, refused requests included', async () => {
    const routes = routeTable(t.app.printRoutes({ commonPrefix: false })).filter(
      (route) =>
        route.url.startsWith('/api/admin/') &&
        MUTATING.has(route.method) &&
        !NOT_MUTATIONS.has(`${route.method} ${route.url}`),
    );
    // The table really was read (the routes this issue and earlier ones added).
    expect(routes.map((route) => `${route.method} ${route.url}`)).toEqual(
      expect.arrayContaining([
        'PATCH /api/admin/leads/:id',
        'POST /api/admin/leads/:id/notes',
        'POST /api/admin/leads/:id/merge',
        'DELETE /api/admin/leads/:id',
        'POST /api/admin/tasks/:taskId/complete',
        'POST /api/admin/events/:id/replay',
        'POST /api/admin/team',
        'PATCH /api/admin/team/:id',
        'POST /api/admin/team/:id/token',
        'POST /api/admin/leads/:id/messages',
        'POST /api/admin/leads/:id/messages/read',
        'POST /api/admin/bulk-actions',
        'POST /api/admin/bulk-actions/:id/undo',
      ]),
    );
    const agent = await addMember(t.app, { name: 'Audited Agent' });
    for (const route of routes) {
      // Unknown ids and an invalid body: each is refused somewhere (400, 403, 404) and must still be audited.
      const url = route.url.replace(/:taskId/g, '999999').replace(/:id/g, crypto.randomUUID());
      const before = await auditCount();
      const response = await t.app.inject({
        method: route.method as 'POST',
        url,
        headers: agent.auth,
        payload: { unexpected: 'field' },
      });
      expect(response.statusCode, `${route.method} ${route.url}`).toBeGreaterThanOrEqual(400);
      expect(await auditCount(), `${route.method} ${route.url} wrote no audit row`).toBe(before + 1);
      const [row] = await db.storage.query<Record<string, unknown>>(
        'select actor_id, actor_role, status, http_status, action from audit_logs order by id desc limit 1',
      );
      expect(row).toMatchObject({
        actor_id: agent.id,
        actor_role: 'agent',
        status: 'failure',
        http_status: response.statusCode,
      });
    }
  });

  it('records successes, 409 and 422 with the signed-in actor and no contact data', async () => {
    const admin = await addMember(t.app, { name: 'Audit Admin', role: 'admin' });
    const { id } = await createLead(db.storage, { customerEmail: 'private.person@example.com' });
    const patch = (payload: object) =>
      t.app.inject({ method: 'PATCH', url: `/api/admin/leads/${id}`, headers: admin.auth, payload });
    expect(
      (await patch({ version: 1, status: 'contacted', note: 'mailed private.person@example.com' }))
        .statusCode,
    ).toBe(200);
    expect((await patch({ version: 1, status: 'won' })).statusCode).toBe(409);
    expect((await patch({ version: 2, assignedTo: crypto.randomUUID() })).statusCode).toBe(422);
    const rows = await db.storage.query<Record<string, unknown>>(
      `select action, resource_type, resource_id, status, http_status, actor_name, details::text as details
         from audit_logs where actor_id = $1 order by id`,
      [admin.id],
    );
    expect(rows.map((row) => [row.action, row.status, row.http_status])).toEqual([
      ['lead.update', 'success', 200],
      ['lead.update', 'failure', 409],
      ['lead.update', 'failure', 422],
    ]);
    expect(rows.every((row) => row.resource_type === 'lead' && row.resource_id === id)).toBe(true);
    expect(rows.every((row) => row.actor_name === 'Audit Admin')).toBe(true);
    expect(JSON.parse(rows[0]!.details as string)).toEqual({
      fields: ['version', 'status', 'note'],
      version: 1,
      status: 'contacted',
    });
    expect(rows.map((row) => row.details).join(' ')).not.toContain('private.person');
  });

  it('GET /api/admin/audit filters by actor, action and time, in keyset pages', async () => {
    const admin = await addMember(t.app, { name: 'Pager', role: 'admin' });
    for (let i = 0; i < 5; i++) {
      await t.app.inject({
        method: 'PATCH',
        url: `/api/admin/team/${admin.id}`,
        headers: admin.auth,
        payload: { capacity: i + 1 },
      });
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `actor=${admin.id}&action=team.&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await t.app.inject({ method: 'GET', url: `/api/admin/audit?${query}`, headers: auth });
      expect(page.statusCode).toBe(200);
      const body: { items: { id: number; action: string }[]; nextCursor: string | null } = page.json();
      seen.push(...body.items.map((item: { id: number }) => item.id));
      expect(body.items.every((item: { action: string }) => item.action === 'team.update')).toBe(true);
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    const future = await t.app.inject({
      method: 'GET',
      url: `/api/admin/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
      headers: auth,
    });
    expect(future.json().items).toEqual([]);
    const bad = await t.app.inject({ method: 'GET', url: '/api/admin/audit?cursor=nonsense', headers: auth });
    expect(bad.statusCode).toBe(400);
  });

  it("runs seed 001's audit queries from docs/operations.md", async () => {
    const doc = readFileSync('docs/operations.md', 'utf8');
    const section = doc.slice(doc.indexOf('## Audit log'));
    const block = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBeDefined();
    const statements = block!
      .split(';')
      .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
      .filter(Boolean);
    expect(statements).toHaveLength(3);
    const [byAction, failures, errorRate] = await Promise.all(statements.map((sql) => db.storage.query(sql)));
    expect(byAction!.length).toBeGreaterThan(0);
    expect(failures!.length).toBeGreaterThan(0);
    expect(errorRate!.some((row) => row.action === 'lead.update' && Number(row.error_rate_percent) > 0)).toBe(
      true,
    );
  });
});
