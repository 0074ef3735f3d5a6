import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_HONEYPOT_FIELD } from '../../src/leads/lead-input.js';
import { buildTestApp, TEST_ADMIN_KEY } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';

/**
 * /health/ready, /metrics and /docs on the API app (through inject). The dist/ build
 * and the separate metrics port are covered in dist-start.test.ts.
 */
const lead = {
  customerName: 'Metrics Person',
  customerPhone: '+971501234567',
  customerEmail: 'metrics@example.com',
  intent: 'buy',
};

const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((pair) => line.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describeEachDatabase('ops over HTTP', (kind) => {
  let db: TestDatabase;
  let app: FastifyInstance;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // The worker is not running here: the lead's event stays in the outbox, so the
    // depth and age gauges have something to show.
    ({ app } = await buildTestApp(db.storage));
  });
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  it('/health stays a cheap liveness check and /health/ready reports the migrations', async () => {
    const live = await app.inject({ url: '/health' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toMatchObject({ status: 'ok', database: 'up' });
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', database: 'up', storage: kind, pendingMigrations: [] });
  });

  it('/health/ready fails while a migration of this build is not applied', async () => {
    await db.storage.query(
      `delete from leadrelay_schema_migrations where version = (select max(version) from leadrelay_schema_migrations)`,
    );
    try {
      const ready = await app.inject({ url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'not_ready', database: 'up' });
      expect(ready.json().pendingMigrations).toHaveLength(1);
      expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    } finally {
      // Put the row back (the schema itself never changed).
      const { shippedMigrations } = await import('../../src/ops/migration-status.js');
      const last = shippedMigrations().at(-1)!;
      await db.storage.query(
        'insert into leadrelay_schema_migrations (version, name, checksum) values ($1, $2, $3) on conflict do nothing',
        [last.version, last.name, last.checksum],
      );
    }
  });

  it('/metrics needs the admin key', async () => {
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect(
      (await app.inject({ url: '/metrics', headers: { authorization: 'Bearer nope' } })).statusCode,
    ).toBe(401);
    const ok = await app.inject({ url: '/metrics', headers: { 'x-api-key': TEST_ADMIN_KEY } });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toContain('text/plain');
  });

  it('/metrics exposes intake, latency, outbox and SLA series after a lead is captured', async () => {
    const before = (await app.inject({ url: '/metrics', headers: auth })).body;
    const accepted =
      sample(before, 'leadrelay_leads_accepted_total', { source: 'chatbot', kind: 'new' }) ?? 0;
    const rejected = sample(before, 'leadrelay_leads_rejected_total', { reason: 'validation_failed' }) ?? 0;

    const created = await app.inject({ method: 'POST', url: '/api/chatbot/leads', payload: lead });
    expect(created.statusCode).toBe(201);
    const refused = await app.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      payload: { customerName: '' },
    });
    expect(refused.statusCode).toBe(400);
    const bot = await app.inject({
      method: 'POST',
      url: '/api/contact',
      payload: { name: 'B', email: 'b@example.com', message: 'x', [DEFAULT_HONEYPOT_FIELD]: 'http://spam' },
    });
    expect(bot.statusCode).toBe(201);

    const text = (await app.inject({ url: '/metrics', headers: auth })).body;
    expect(sample(text, 'leadrelay_leads_accepted_total', { source: 'chatbot', kind: 'new' })).toBe(
      accepted + 1,
    );
    expect(sample(text, 'leadrelay_leads_rejected_total', { reason: 'validation_failed' })).toBe(
      rejected + 1,
    );
    expect(
      sample(text, 'leadrelay_leads_rejected_total', { source: 'contact_form', reason: 'honeypot' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'leadrelay_http_request_duration_seconds_count', {
        route: '/api/chatbot/leads',
        method: 'POST',
        status_code: '201',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'leadrelay_outbox_depth')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'leadrelay_outbox_oldest_unprocessed_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'leadrelay_sla_open_breaches')).toBe(0);
    expect(sample(text, 'leadrelay_ops_snapshot_up')).toBe(1);
    expect(sample(text, 'leadrelay_workers', { state: 'live' })).toBeDefined();
    for (const series of [
      'leadrelay_notifications_total',
      'leadrelay_notification_send_duration_seconds',
      'leadrelay_worker_batch_duration_seconds',
      'leadrelay_sla_breaches_total',
    ]) {
      expect(text).toContain(`# TYPE ${series} `);
    }
  });

  it('/docs serves an OpenAPI document listing every route, each with a summary', async () => {
    const ui = await app.inject({ url: '/docs' });
    expect([200, 302]).toContain(ui.statusCode);
    const res = await app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      paths: Record<string, Record<string, { summary?: string; responses?: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const [path, method] of [
      ['/api/chatbot/leads', 'post'],
      ['/api/contact', 'post'],
      ['/health', 'get'],
      ['/health/ready', 'get'],
      ['/metrics', 'get'],
    ] as const) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op?.summary).toBeTruthy();
      expect(
        Object.keys(op?.responses ?? {}).some((code) => /^[45]/.test(code)),
        `${path} error responses`,
      ).toBe(true);
    }
    // Every operation has a summary; every API operation documents its error answers.
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.summary, `${method} ${path} summary`).toBeTruthy();
        if (path.startsWith('/api/')) {
          expect(Object.keys(op.responses ?? {}), `${method} ${path} error responses`).toEqual(
            expect.arrayContaining(
              path.startsWith('/api/admin/') ? ['401', '429', '503'] : ['400', '429', '503'],
            ),
          );
        }
      }
    }
    // Every route the app serves (apart from the docs UI itself) is in the document.
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    const missing = routes(app).filter((route) => !documented.has(route));
    expect(missing).toEqual([]);
  });
});

/**
 * Every method+path the app serves, in OpenAPI notation ({id} for :id), minus HEAD,
 * OPTIONS and the docs UI's own routes. Fastify has no route list, so read its
 * printRoutes() tree: each level is indented by four characters.
 */
function routes(app: FastifyInstance): string[] {
  const found: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│├└─\s]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const path = (stack[depth - 1] ?? '') + match[2]!;
    stack[depth] = path;
    stack.length = depth + 1;
    if (path === '*' || path.startsWith('/docs')) continue;
    for (const method of match[3]!.split(', ')) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      found.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return found;
}
