import { afterAll, beforeAll, expect, it } from 'vitest';
import { auth, generousLimits } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { addMember } from './fixtures.js';

describeEachDatabase('team API and member sign-in', (kind) => {
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

  const inject = (method: 'GET' | 'POST' | 'PATCH', url: string, headers: object, payload?: object) =>
    t.app.inject({
      method,
      url,
      headers: headers as Record<string, string>,
      ...(payload ? { payload } : {}),
    });

  it('adds a member and shows their access token once; only its hash is stored', async () => {
    const created = await inject('POST', '/api/admin/team', auth, {
      name: 'Alice Admin',
      email: 'Alice@Sales.test',
      role: 'admin',
      slackUserId: 'U024BE7LH',
      capacity: 10,
      workingHours: { timezone: 'Europe/Berlin', days: { mon: ['09:00', '18:00'], fri: ['09:00', '13:00'] } },
    });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { member, token } = created.json();
    expect(token).toMatch(/^lrm_[\w-]{43}$/);
    expect(member).toMatchObject({
      name: 'Alice Admin',
      email: 'alice@sales.test',
      role: 'admin',
      active: true,
    });
    expect(member.tokenHint).toBe(token.slice(0, 8));
    expect(JSON.stringify(member)).not.toContain(token);

    const listed = await inject('GET', '/api/admin/team', auth);
    expect(listed.body).not.toContain(token);
    expect(listed.body).not.toContain('tokenHash');
    // Nothing in the database holds the token itself.
    const rows = await db.storage.query<{ row: string }>(
      'select row_to_json(m)::text as row from team_members m',
    );
    expect(rows.some((row) => row.row.includes(token))).toBe(false);
    const audits = await db.storage.query<{ row: string }>(
      'select row_to_json(a)::text as row from audit_logs a',
    );
    expect(audits.some((row) => row.row.includes(token))).toBe(false);
    // Nor any log line.
    expect(t.logs.text()).not.toContain(token);

    // The token signs in wherever the admin key does.
    const leads = await inject('GET', '/api/admin/leads', { authorization: `Bearer ${token}` });
    expect(leads.statusCode).toBe(200);
    const stream = await inject('POST', '/api/admin/stream-token', { 'x-api-key': token });
    expect(stream.statusCode).toBe(200);
  });

  it('refuses bad member input naming the field, and a second member with the same email', async () => {
    const bad = await inject('POST', '/api/admin/team', auth, {
      name: 'X',
      email: 'not-an-email',
      role: 'boss',
      workingHours: { timezone: 'Mars/Base', days: { mon: ['18:00', '09:00'] } },
    });
    expect(bad.statusCode).toBe(400);
    const fields = bad.json().fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(
      expect.arrayContaining(['email', 'role', 'workingHours.timezone', 'workingHours.days.mon']),
    );
    await addMember(t.app, { email: 'dupe@sales.test' });
    const dupe = await inject('POST', '/api/admin/team', auth, {
      name: 'D',
      email: 'DUPE@sales.test',
      role: 'agent',
    });
    expect(dupe.statusCode).toBe(409);
  });

  it('gives an agent 403 on the team and audit routes, and records the refusal', async () => {
    const agent = await addMember(t.app, { name: 'Andy Agent' });
    const attempts = [
      await inject('GET', '/api/admin/team', agent.auth),
      await inject('POST', '/api/admin/team', agent.auth, {
        name: 'Mallory',
        email: 'm@x.test',
        role: 'admin',
      }),
      await inject('PATCH', `/api/admin/team/${agent.id}`, agent.auth, { role: 'admin' }),
      await inject('POST', `/api/admin/team/${agent.id}/token`, agent.auth),
      await inject('GET', '/api/admin/audit', agent.auth),
    ];
    expect(attempts.map((response) => response.statusCode)).toEqual([403, 403, 403, 403, 403]);
    expect(attempts[1]!.json().error).toBe('forbidden');
    // Agents still learn who they are and whom a lead can go to (the dashboard's reassign).
    const me = await inject('GET', '/api/admin/me', agent.auth);
    expect(me.json()).toEqual({ id: agent.id, name: 'Andy Agent', role: 'agent' });
    const assignees = (await inject('GET', '/api/admin/assignees', agent.auth)).json();
    expect(assignees.items).toContainEqual({ id: agent.id, name: 'Andy Agent', active: true });
    expect(JSON.stringify(assignees)).not.toContain('@');
    const refused = await db.storage.query(
      `select action, status, http_status, actor_name, actor_role from audit_logs
        where actor_id = $1 order by id`,
      [agent.id],
    );
    expect(refused).toEqual([
      {
        action: 'team.create',
        status: 'failure',
        http_status: 403,
        actor_name: 'Andy Agent',
        actor_role: 'agent',
      },
      {
        action: 'team.update',
        status: 'failure',
        http_status: 403,
        actor_name: 'Andy Agent',
        actor_role: 'agent',
      },
      {
        action: 'team.token_rotate',
        status: 'failure',
        http_status: 403,
        actor_name: 'Andy Agent',
        actor_role: 'agent',
      },
    ]);
    // An admin member (not only the owner) manages the team.
    const admin = await addMember(t.app, { role: 'admin' });
    expect((await inject('GET', '/api/admin/team', admin.auth)).statusCode).toBe(200);
    expect(
      (await inject('PATCH', `/api/admin/team/${agent.id}`, admin.auth, { active: false })).json(),
    ).toMatchObject({ active: false });
  });

  it('rotating a token ends the old one at once', async () => {
    const member = await addMember(t.app);
    const rotated = await inject('POST', `/api/admin/team/${member.id}/token`, auth);
    expect(rotated.statusCode).toBe(200);
    const { token } = rotated.json();
    expect(token).not.toBe(member.token);
    expect((await inject('GET', '/api/admin/stats', member.auth)).statusCode).toBe(401);
    expect((await inject('GET', '/api/admin/stats', { authorization: `Bearer ${token}` })).statusCode).toBe(
      200,
    );
    const [row] = await db.storage.query<{ action: string; actor_role: string }>(
      `select action, actor_role from audit_logs where resource_id = $1 and action = 'team.token_rotate'`,
      [member.id],
    );
    expect(row).toEqual({ action: 'team.token_rotate', actor_role: 'owner' });
    expect((await inject('POST', `/api/admin/team/${crypto.randomUUID()}/token`, auth)).statusCode).toBe(404);
  });

  it('a token shaped like a member token but unknown gets 401', async () => {
    const fake = `lrm_${'A'.repeat(43)}`;
    expect((await inject('GET', '/api/admin/leads', { authorization: `Bearer ${fake}` })).statusCode).toBe(
      401,
    );
  });
});
