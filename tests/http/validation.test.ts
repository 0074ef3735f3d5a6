import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CHATBOT_BODY_BYTES, MAX_LEAD_BODY_BYTES } from '../../src/leads/lead-input.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

const valid = {
  customerName: 'Test User',
  customerPhone: '+971501234567',
  customerEmail: 'test@example.com',
  intent: 'buy',
};

describe('intake validation', () => {
  let db: TestDatabase;
  let t: TestApp;
  const countRows = async () =>
    (await db.storage.query<{ n: number }>('select count(*)::int as n from conversations'))[0]!.n;

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    t = await buildTestApp(db.storage, {
      env: { RATE_LIMIT_LEADS_PER_MINUTE: '100000', RATE_LIMIT_CONTACT_PER_MINUTE: '100000' },
    });
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  const post = (payload: unknown, url = '/api/chatbot/leads') =>
    t.app.inject({ method: 'POST', url, payload: payload as object });

  it.each([
    ['missing name', { ...valid, customerName: undefined }, [['customerName', 'is required']]],
    ['blank name', { ...valid, customerName: '   ' }, [['customerName', 'is required']]],
    ['name of wrong type', { ...valid, customerName: 42 }, [['customerName', 'must be a string']]],
    [
      'over-long name',
      { ...valid, customerName: 'x'.repeat(121) },
      [['customerName', 'must be at most 120 characters']],
    ],
    [
      'over-long message',
      { ...valid, message: 'x'.repeat(5001) },
      [['message', 'must be at most 5000 characters']],
    ],
    [
      'bad email beside a good phone',
      { ...valid, customerEmail: 'not-an-email' },
      [['customerEmail', 'must be a valid email address']],
    ],
    [
      'bad phone beside a good email',
      { ...valid, customerPhone: '12345' },
      [['customerPhone', 'must be a valid phone number']],
    ],
    [
      'no contact method',
      { customerName: 'A' },
      [
        ['customerPhone', 'at least one of customerPhone or customerEmail is required'],
        ['customerEmail', 'at least one of customerPhone or customerEmail is required'],
      ],
    ],
    [
      'a NUL character (Postgres cannot store it)',
      { ...valid, customerName: 'A\u0000B' },
      [['customerName', 'must not contain NUL characters']],
    ],
    [
      'a NUL character in metadata',
      { ...valid, metadata: { note: 'x\u0000' } },
      [['metadata', 'must not contain NUL characters']],
    ],
    ['unknown field', { ...valid, favouriteColour: 'blue' }, [['favouriteColour', 'is not a known field']]],
    [
      'non-http page URL',
      { ...valid, pageUrl: 'javascript:alert(1)' },
      [['pageUrl', 'must be an http(s) URL']],
    ],
    ['metadata not an object', { ...valid, metadata: [1, 2] }, [['metadata', 'must be a JSON object']]],
    [
      'oversized metadata',
      { ...valid, metadata: { blob: 'x'.repeat(5000) } },
      [['metadata', 'must be at most 4096 bytes as JSON']],
    ],
  ])('refuses %s with a 400 naming the field, storing nothing', async (_label, payload, expected) => {
    const before = await countRows();
    const response = await post(payload);
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.error).toBe('validation_failed');
    for (const [field, message] of expected as [string, string][]) {
      expect(body.fields).toContainEqual({ field, message: expect.stringContaining(message) });
    }
    expect(await countRows()).toBe(before);
  });

  it('names every bad field at once', async () => {
    const response = await post({
      customerName: '',
      customerPhone: 'abc',
      customerEmail: 'nope',
      intent: 'x'.repeat(65),
    });
    expect(response.statusCode).toBe(400);
    const fields = response
      .json()
      .fields.map((f: { field: string }) => f.field)
      .sort();
    expect(fields).toEqual(['customerEmail', 'customerName', 'customerPhone', 'intent']);
  });

  it('accepts a lead with only an email, and blank optional fields as absent', async () => {
    const response = await post({
      customerName: 'Only Email',
      customerEmail: 'e@example.com',
      customerPhone: '',
      intent: '',
    });
    expect(response.statusCode).toBe(201);
  });

  it('uses DEFAULT_PHONE_COUNTRY for national numbers', async () => {
    const local = await buildTestApp(db.storage, { env: { DEFAULT_PHONE_COUNTRY: 'AE' } });
    try {
      const response = await local.app.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        payload: { customerName: 'Local', customerPhone: '050 123 4567' },
      });
      expect(response.statusCode).toBe(201);
      const [row] = await db.storage.query('select customer_phone from conversations where id = $1', [
        response.json().id,
      ]);
      expect(row).toEqual({ customer_phone: '+971501234567' });
    } finally {
      await local.app.close();
    }
  });

  it('validates the contact form with its own field names', async () => {
    const response = await post({ name: 'X', email: 'bad', message: '' }, '/api/contact');
    expect(response.statusCode).toBe(400);
    const fields = response
      .json()
      .fields.map((f: { field: string }) => f.field)
      .sort();
    expect(fields).toEqual(['email', 'message']);
  });

  it('refuses a non-JSON content type with 415', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      headers: { 'content-type': 'text/plain' },
      payload: 'customerName=x',
    });
    expect(response.statusCode).toBe(415);
    expect(response.json().error).toBe('unsupported_media_type');
  });

  it('refuses malformed JSON with 400', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      headers: { 'content-type': 'application/json' },
      payload: '{"customerName":',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe('invalid_json');
  });

  it('refuses a prototype-pollution key with 400', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      headers: { 'content-type': 'application/json' },
      payload: `{"customerName":"A","customerEmail":"a@b.co","__proto__":{"admin":true}}`,
    });
    expect(response.statusCode).toBe(400);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('refuses an oversized body with 413 before parsing', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      headers: { 'content-type': 'application/json' },
      // The chatbot route makes room for a transcript beside the lead (docs/conversations.md).
      payload: JSON.stringify({ ...valid, message: 'x'.repeat(MAX_CHATBOT_BODY_BYTES) }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error).toBe('payload_too_large');
    const contact = await t.app.inject({
      method: 'POST',
      url: '/api/contact',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({
        name: 'x',
        email: 'x@example.com',
        message: 'x'.repeat(MAX_LEAD_BODY_BYTES),
      }),
    });
    expect(contact.statusCode).toBe(413);
  });

  it('refuses an Idempotency-Key header that is too long', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      headers: { 'idempotency-key': 'k'.repeat(256) },
      payload: valid,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().fields[0].field).toBe('idempotency-key');
  });

  it('answers unknown routes with a JSON 404 and sets security headers', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/nope' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toBe('not_found');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-request-id']).toBeTruthy();
  });
});
