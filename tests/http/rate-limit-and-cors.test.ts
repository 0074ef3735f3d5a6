import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

const lead = (n: number) => ({ customerName: `Rate ${n}`, customerEmail: `rate${n}@example.com` });

describe('rate limits and CORS', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pglite');
  });
  afterAll(async () => {
    await db?.close();
  });

  /** Sends `count` requests one after another; `build` shapes request i. */
  async function postMany(
    t: TestApp,
    count: number,
    build: (i: number) => { url?: string; headers?: Record<string, string>; payload?: object } = () => ({}),
  ) {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<TestApp['app']['inject']>> | undefined;
    for (let i = 0; i < count; i++) {
      const { url = '/api/chatbot/leads', headers = {}, payload = lead(i) } = build(i);
      last = await t.app.inject({ method: 'POST', url, headers, payload });
      statuses.push(last.statusCode);
    }
    return { statuses, last: last! };
  }

  it('answers the 11th lead in a minute from one IP with 429 and Retry-After (in memory)', async () => {
    const t = await buildTestApp(db.storage);
    try {
      const { statuses, last } = await postMany(t, 11);
      expect(statuses.slice(0, 10).every((s) => s === 201)).toBe(true);
      expect(statuses[10]).toBe(429);
      expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
      expect(last.json()).toMatchObject({ error: 'rate_limited' });
    } finally {
      await t.app.close();
    }
  });

  it('limits the contact form at 5 per minute', async () => {
    const t = await buildTestApp(db.storage);
    try {
      const { statuses } = await postMany(t, 6, (i) => ({
        url: '/api/contact',
        payload: { name: 'C', email: `c${i}@example.com`, message: 'hi' },
      }));
      expect(statuses).toEqual([201, 201, 201, 201, 201, 429]);
    } finally {
      await t.app.close();
    }
  });

  it('cannot be dodged with a forged X-Forwarded-For unless TRUST_PROXY is set', async () => {
    const t = await buildTestApp(db.storage, { env: { RATE_LIMIT_LEADS_PER_MINUTE: '2' } });
    try {
      const { statuses } = await postMany(t, 3, (i) => ({ headers: { 'x-forwarded-for': `10.0.0.${i}` } }));
      expect(statuses).toEqual([201, 201, 429]);
    } finally {
      await t.app.close();
    }
    const trusted = await buildTestApp(db.storage, {
      env: { RATE_LIMIT_LEADS_PER_MINUTE: '2', TRUST_PROXY: 'true' },
    });
    try {
      const { statuses } = await postMany(trusted, 3, (i) => ({
        headers: { 'x-forwarded-for': `10.0.0.${i}` },
      }));
      expect(statuses).toEqual([201, 201, 201]);
    } finally {
      await trusted.app.close();
    }
  });

  it.skipIf(!process.env.REDIS_URL)('shares the limit between two API instances through Redis', async () => {
    const namespace = `leadrelay-test-${randomBytes(4).toString('hex')}-`;
    const redisA = new Redis(process.env.REDIS_URL!);
    const redisB = new Redis(process.env.REDIS_URL!);
    const a = await buildTestApp(db.storage, { redis: redisA, rateLimitNamespace: namespace });
    const b = await buildTestApp(db.storage, { redis: redisB, rateLimitNamespace: namespace });
    try {
      const first = await postMany(a, 6);
      const second = await postMany(b, 5);
      expect(first.statuses.every((s) => s === 201)).toBe(true);
      expect(second.statuses).toEqual([201, 201, 201, 201, 429]);
      expect(Number(second.last.headers['retry-after'])).toBeGreaterThan(0);
      const keys = await redisA.keys(`${namespace}*`);
      expect(keys.length).toBeGreaterThan(0);
      await redisA.del(...keys);
    } finally {
      await a.app.close();
      await b.app.close();
      redisA.disconnect();
      redisB.disconnect();
    }
  });

  describe('CORS', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp(db.storage, {
        env: {
          FRONTEND_URL: 'https://shop.example.com, https://www.example.com/',
          RATE_LIMIT_LEADS_PER_MINUTE: '1000',
        },
      });
    });
    afterAll(async () => {
      await t?.app.close();
    });

    it('allows the configured origins, preflight included', async () => {
      const preflight = await t.app.inject({
        method: 'OPTIONS',
        url: '/api/chatbot/leads',
        headers: {
          origin: 'https://www.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,idempotency-key',
        },
      });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://www.example.com');
      expect(String(preflight.headers['access-control-allow-headers'])).toContain('idempotency-key');

      const post = await t.app.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        headers: { origin: 'https://shop.example.com' },
        payload: lead(1),
      });
      expect(post.statusCode).toBe(201);
      expect(post.headers['access-control-allow-origin']).toBe('https://shop.example.com');
    });

    it('refuses other origins with 403 and stores nothing', async () => {
      const before = await db.storage.query<{ n: number }>('select count(*)::int as n from conversations');
      const preflight = await t.app.inject({
        method: 'OPTIONS',
        url: '/api/chatbot/leads',
        headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' },
      });
      expect(preflight.statusCode).toBe(403);
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      const post = await t.app.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        headers: { origin: 'https://evil.example.net' },
        payload: lead(2),
      });
      expect(post.statusCode).toBe(403);
      expect(post.json().error).toBe('origin_not_allowed');
      const after = await db.storage.query<{ n: number }>('select count(*)::int as n from conversations');
      expect(after[0]!.n).toBe(before[0]!.n);
    });
  });
});
