import * as crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createStreamToken,
  STREAM_TOKEN_TTL_MS,
  secretsEqual,
  verifyStreamToken,
} from '../../src/http/admin-auth.js';
import { buildTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

describe('admin key comparison', () => {
  it('compares equal-length SHA-256 digests with crypto.timingSafeEqual', () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    expect(secretsEqual(TEST_ADMIN_KEY, TEST_ADMIN_KEY)).toBe(true);
    expect(secretsEqual('short', TEST_ADMIN_KEY)).toBe(false);
    expect(secretsEqual(`${TEST_ADMIN_KEY}-longer`, TEST_ADMIN_KEY)).toBe(false);
    expect(spy).toHaveBeenCalledTimes(3);
    for (const [a, b] of spy.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });

  it('issues stream tokens that expire and cannot be forged', () => {
    const now = Date.now();
    const { token } = createStreamToken(TEST_ADMIN_KEY, now);
    expect(verifyStreamToken(TEST_ADMIN_KEY, token, now)).toBe(true);
    expect(verifyStreamToken(TEST_ADMIN_KEY, token, now + STREAM_TOKEN_TTL_MS + 1)).toBe(false);
    expect(verifyStreamToken('another-key-0123456789abcdef0123456789', token, now)).toBe(false);
    const [expiry, signature] = token.split('.');
    expect(verifyStreamToken(TEST_ADMIN_KEY, `${Number(expiry) + 60_000}.${signature}`, now)).toBe(false);
    expect(verifyStreamToken(TEST_ADMIN_KEY, 'garbage', now)).toBe(false);
  });
});

describe('admin rate limits [pglite]', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    t = await buildTestApp(db.storage, {
      env: { RATE_LIMIT_ADMIN_PER_MINUTE: '3', RATE_LIMIT_EXPORT_PER_MINUTE: '2' },
    });
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  it('limits the admin API per minute, counting refused keys too', async () => {
    const headers = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
    const codes = [];
    codes.push(
      (await t.app.inject({ method: 'GET', url: '/api/admin/stats', headers: { 'x-api-key': 'guess' } }))
        .statusCode,
    );
    for (let i = 0; i < 3; i++) {
      codes.push((await t.app.inject({ method: 'GET', url: '/api/admin/stats', headers })).statusCode);
    }
    expect(codes).toEqual([401, 200, 200, 429]);
  });

  it('limits the export separately', async () => {
    const headers = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
    const codes = [];
    for (let i = 0; i < 3; i++) {
      codes.push(
        (await t.app.inject({ method: 'GET', url: '/api/admin/leads/export.csv', headers })).statusCode,
      );
    }
    expect(codes).toEqual([200, 200, 429]);
  });
});

describe('dashboard requests from the API’s own origin [pglite]', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    t = await buildTestApp(db.storage, { env: { FRONTEND_URL: 'https://www.example.com' } });
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  it('are not subject to the CORS allow-list; other origins still are', async () => {
    const headers = { authorization: `Bearer ${TEST_ADMIN_KEY}`, host: 'admin.leadrelay.test' };
    const own = await t.app.inject({
      method: 'POST',
      url: '/api/admin/stream-token',
      headers: { ...headers, origin: 'http://admin.leadrelay.test' },
    });
    expect(own.statusCode).toBe(200);
    const ownWithPort = await t.app.inject({
      method: 'POST',
      url: '/api/admin/stream-token',
      headers: { ...headers, origin: 'http://admin.leadrelay.test:80' },
    });
    expect(ownWithPort.statusCode).toBe(200);
    const evil = await t.app.inject({
      method: 'POST',
      url: '/api/admin/stream-token',
      headers: { ...headers, origin: 'https://evil.example' },
    });
    expect(evil.statusCode).toBe(403);
    const allowed = await t.app.inject({
      method: 'POST',
      url: '/api/admin/stream-token',
      headers: { ...headers, origin: 'https://www.example.com' },
    });
    expect(allowed.statusCode).toBe(200);
  });
});
