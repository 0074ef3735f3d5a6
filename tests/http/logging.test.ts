import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskEmail, maskPhone, redactUrl } from '../../src/logger.js';
import { buildTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

describe('logs', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    t = await buildTestApp(db.storage);
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  it('are JSON lines with a request id, and carry no contact details or keys', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/chatbot/leads?key=${TEST_ADMIN_KEY}`,
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'x-request-id': 'req-abc-123' },
      payload: {
        customerName: 'Private Person',
        customerPhone: '+971501234567',
        customerEmail: 'private@example.com',
      },
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers['x-request-id']).toBe('req-abc-123');
    const text = t.logs.text();
    const entries = t.logs.entries();
    expect(entries.some((e) => e.reqId === 'req-abc-123')).toBe(true);
    expect(text).not.toContain(TEST_ADMIN_KEY);
    expect(text).not.toContain('private@example.com');
    expect(text).not.toContain('971501234567');
    expect(text).toContain('[REDACTED]');
  });

  it('mask phone and email when code mentions them', () => {
    expect(maskEmail('private@example.com')).toBe('p***@example.com');
    expect(maskPhone('+971501234567')).toBe('+***567');
    expect(redactUrl('/api/admin/stream?key=abc&x=1')).toBe('/api/admin/stream?key=[REDACTED]&x=1');
  });
});
