import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { DEFAULT_HONEYPOT_FIELD } from '../../src/leads/lead-input.js';
import { buildTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

const lead = { customerName: 'Honey Pot', customerEmail: 'honey@example.com' };

describe('honeypot', () => {
  let db: TestDatabase;
  const apps: TestApp[] = [];
  const app = async (env: Record<string, string> = {}) => {
    const t = await buildTestApp(db.storage, { env: { RATE_LIMIT_LEADS_PER_MINUTE: '1000', ...env } });
    apps.push(t);
    return t.app;
  };
  const stored = async () =>
    (await db.storage.query<{ n: number }>('select count(*)::int as n from conversations'))[0]!.n;

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
  });
  afterAll(async () => {
    for (const t of apps) await t.app.close();
    await db?.close();
  });

  it('has a default name no real form uses: a widget sending `website` is told, not silently dropped', async () => {
    const api = await app();
    const before = await stored();
    const response = await api.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      payload: { ...lead, website: 'https://customer.example' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().fields).toEqual([{ field: 'website', message: 'is not a known field' }]);
    expect(await stored()).toBe(before);
  });

  it('counts only a non-empty string; other types are a 400 naming the field', async () => {
    const api = await app();
    const post = (value: unknown) =>
      api.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        payload: { ...lead, [DEFAULT_HONEYPOT_FIELD]: value },
      });
    for (const value of [false, 0, {}, [], 1]) {
      const response = await post(value);
      expect({ value, status: response.statusCode }).toEqual({ value, status: 400 });
      expect(response.json().fields).toEqual([
        { field: DEFAULT_HONEYPOT_FIELD, message: 'must be a string' },
      ]);
    }
    for (const value of ['', '   ']) {
      const before = await stored();
      expect((await post(value)).statusCode).toBe(201);
      expect(await stored()).toBe(before + 1);
    }
    const before = await stored();
    const bot = await post('http://spam.example');
    expect(bot.statusCode).toBe(201);
    expect(await stored()).toBe(before);
  });

  it('takes its name from HONEYPOT_FIELD, on both intake routes', async () => {
    const api = await app({ HONEYPOT_FIELD: 'fax_number' });
    const before = await stored();
    const chatbot = await api.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      payload: { ...lead, fax_number: 'x' },
    });
    const contact = await api.inject({
      method: 'POST',
      url: '/api/contact',
      payload: { name: 'A', email: 'a@example.com', message: 'hi', fax_number: 'x' },
    });
    expect([chatbot.statusCode, contact.statusCode]).toEqual([201, 201]);
    expect(await stored()).toBe(before);
    const old = await api.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      payload: { ...lead, [DEFAULT_HONEYPOT_FIELD]: 'x' },
    });
    expect(old.statusCode).toBe(400);
  });

  it('refuses a HONEYPOT_FIELD that is not a field name or shadows a real field', () => {
    for (const value of ['customerEmail', 'has space', 'x'.repeat(65)]) {
      expect(() => loadConfig({ ADMIN_API_KEY: TEST_ADMIN_KEY, HONEYPOT_FIELD: value })).toThrow(
        /HONEYPOT_FIELD/,
      );
    }
  });
});

describe('proxy trust', () => {
  let db: TestDatabase;
  let t: TestApp | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
  });
  afterEach(async () => {
    await t?.app.close();
    t = undefined;
  });
  afterAll(async () => {
    await db?.close();
  });

  const forged = (n: number) => ({ 'x-forwarded-for': `203.0.113.${n}` });

  it('by default ignores X-Forwarded-For: a direct client cannot buy a fresh rate-limit bucket with it', async () => {
    t = await buildTestApp(db.storage, { env: { RATE_LIMIT_LEADS_PER_MINUTE: '2' } });
    const statuses: number[] = [];
    for (let n = 1; n <= 3; n++) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        headers: forged(n),
        remoteAddress: '198.51.100.7',
        payload: lead,
      });
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([201, 201, 429]);
  });

  it('honours X-Forwarded-For from a listed proxy address only', async () => {
    t = await buildTestApp(db.storage, {
      env: { RATE_LIMIT_LEADS_PER_MINUTE: '1', TRUST_PROXY: '10.0.0.0/8' },
    });
    const send = (remoteAddress: string, n: number) =>
      t!.app.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        headers: forged(n),
        remoteAddress,
        payload: lead,
      });
    // Through the proxy: each forwarded client has its own bucket.
    expect((await send('10.1.2.3', 1)).statusCode).toBe(201);
    expect((await send('10.1.2.3', 2)).statusCode).toBe(201);
    // Straight from the internet: the header is ignored, the peer's bucket counts.
    expect((await send('198.51.100.9', 3)).statusCode).toBe(201);
    expect((await send('198.51.100.9', 4)).statusCode).toBe(429);
  });

  it('accepts what Fastify accepts and refuses a hop count, naming TRUST_PROXY', () => {
    const parse = (TRUST_PROXY: string) =>
      loadConfig({ ADMIN_API_KEY: TEST_ADMIN_KEY, TRUST_PROXY }).http.trustProxy;
    expect(parse('true')).toBe(true);
    expect(parse('false')).toBe(false);
    expect(parse('127.0.0.1, 10.0.0.0/8,uniquelocal, ::1, 2400:cb00::/32, 192.168.0.0/255.255.0.0')).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      'uniquelocal',
      '::1',
      '2400:cb00::/32',
      '192.168.0.0/255.255.0.0',
    ]);
    for (const bad of ['1', '2', '10.0.0.0/33', 'proxy.example.com']) {
      let error: unknown;
      try {
        parse(bad);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.join()).toMatch(/^TRUST_PROXY /);
    }
  });
});
