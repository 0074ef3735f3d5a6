import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_HONEYPOT_FIELD } from '../../src/leads/lead-input.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';

/**
 * Property-based fuzzing of every public endpoint: whatever arrives, the answer is
 * never a 5xx, every rejection is a JSON 4xx naming the problem, and nothing is
 * stored for a rejected request.
 */
const RUNS = process.env.LEADRELAY_SOAK === '1' ? 20_000 : 1_500;

const nasty = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\uFEFF',
    '\u202E',
    '<script>alert(1)</script>',
    '=cmd|/c calc',
    '\uD800',
    '𝕏'.repeat(200),
  ),
  fc.string({ minLength: 5000, maxLength: 7000 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);
const plausible = {
  customerName: fc.oneof(fc.constantFrom('Ana', 'Ümit Øre', '李雷', "O'Brien <b>"), nasty),
  customerPhone: fc.oneof(fc.constantFrom('+971501234567', '+44 20 7946 0958', '+1 202-555-0143'), nasty),
  customerEmail: fc.oneof(fc.constantFrom('a@example.com', 'UPPER@Example.COM'), nasty),
  intent: fc.oneof(fc.constantFrom('buy', 'rent'), nasty),
  message: nasty,
  pageUrl: fc.oneof(fc.webUrl(), nasty),
  metadata: fc.oneof(fc.jsonValue({ maxDepth: 4 }), nasty),
  [DEFAULT_HONEYPOT_FIELD]: fc.oneof(fc.constant(''), nasty),
  website: fc.oneof(fc.webUrl(), nasty),
  name: nasty,
  email: fc.oneof(fc.constantFrom('c@example.com'), nasty),
  phone: nasty,
};
const leadLike = fc.record(plausible, { requiredKeys: [] });
/** A valid lead with at most one field replaced by something hostile: reaches the database path. */
const mostlyValid = fc
  .tuple(
    fc.constantFrom(
      'customerName',
      'customerPhone',
      'customerEmail',
      'intent',
      'message',
      'metadata',
      DEFAULT_HONEYPOT_FIELD,
      'none',
    ),
    nasty,
    fc.string({ unit: 'grapheme', maxLength: 40 }),
  )
  .map(([field, junk, text]) => {
    const lead: Record<string, unknown> = {
      customerName: text.trim() ? text : 'Valid Name',
      customerPhone: '+971501234567',
      customerEmail: 'valid@example.com',
      intent: 'buy',
      message: text,
    };
    if (field !== 'none') lead[field] = junk;
    return lead;
  });
const deepJson = fc.integer({ min: 50, max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth));
const protoBodies = fc.constantFrom(
  '{"__proto__":{"polluted":true},"customerName":"x","customerEmail":"a@b.co"}',
  '{"constructor":{"prototype":{"polluted":true}},"customerName":"x","customerEmail":"a@b.co"}',
  '{"customerName":"x","customerEmail":"a@b.co","metadata":{"__proto__":{"polluted":true}}}',
);

type Body = { kind: 'json'; value: unknown } | { kind: 'raw'; value: string | Buffer };
const body: fc.Arbitrary<Body> = fc.oneof(
  leadLike.map((value) => ({ kind: 'json' as const, value })),
  mostlyValid.map((value) => ({ kind: 'json' as const, value })),
  mostlyValid.map((value) => ({ kind: 'json' as const, value })),
  fc.jsonValue({ maxDepth: 6 }).map((value) => ({ kind: 'json' as const, value })),
  deepJson.map((value) => ({ kind: 'raw' as const, value })),
  protoBodies.map((value) => ({ kind: 'raw' as const, value })),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'raw' as const, value: Buffer.from(bytes) })),
  fc.string({ maxLength: 300 }).map((value) => ({ kind: 'raw' as const, value })),
);
const contentType = fc.oneof(
  fc.constant('application/json'),
  fc.constant('application/json'),
  fc.constant('application/json'),
  fc.constant('application/json; charset=utf-8'),
  fc.constantFrom(
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    '',
  ),
  fc.string({ maxLength: 40 }),
);
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 300,
});
const request = fc.record({
  method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH'),
  path: fc.constantFrom(
    '/api/chatbot/leads',
    '/api/chatbot/leads',
    '/api/chatbot/leads',
    '/api/contact',
    '/health',
    '/api/chatbot/leads/x',
    '/%00',
    '/api/contact?x=1',
  ),
  query: fc.option(fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), { maxKeys: 3 })),
  contentType,
  idempotencyKey: fc.option(headerValue, { nil: null, freq: 1 }),
  body,
});

describeEachDatabase('hostile input on the public endpoints', (kind) => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await buildTestApp(db.storage, {
      env: { RATE_LIMIT_LEADS_PER_MINUTE: '1000000', RATE_LIMIT_CONTACT_PER_MINUTE: '1000000' },
    });
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  it(`never answers 5xx, rejects with JSON naming the problem, stores nothing rejected (${RUNS} requests)`, async () => {
    const countRows = async () =>
      (await db.storage.query<{ n: number }>('select count(*)::int as n from conversations'))[0]!.n;
    const before = await countRows();
    const created = new Set<string>();
    const statuses = new Map<number, number>();

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const query = r.query ? `?${new URLSearchParams(r.query).toString()}` : '';
        const headers: Record<string, string> = {};
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.idempotencyKey !== null) headers['idempotency-key'] = r.idempotencyKey;
        const payload = r.body.kind === 'json' ? JSON.stringify(r.body.value) : r.body.value;
        const response = await t.app.inject({
          method: r.method as 'POST',
          url: `${r.path}${query}`,
          headers,
          ...(r.method === 'GET' ? {} : { payload }),
        });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        expect(response.statusCode).toBeLessThan(500);
        if (response.statusCode >= 400) {
          expect(response.headers['content-type']).toMatch(/^application\/json/);
          const json = response.json();
          expect(typeof json.error).toBe('string');
          expect(typeof json.message).toBe('string');
          if (json.error === 'validation_failed') expect(json.fields.length).toBeGreaterThan(0);
        }
        if (response.statusCode === 201) {
          const value = r.body.kind === 'json' ? (r.body.value as Record<string, unknown> | null) : null;
          const honeypot =
            value &&
            typeof value === 'object' &&
            DEFAULT_HONEYPOT_FIELD in value &&
            typeof value[DEFAULT_HONEYPOT_FIELD] === 'string' &&
            (value[DEFAULT_HONEYPOT_FIELD] as string).trim() !== '';
          if (!honeypot) created.add(response.json().id);
        }
      }),
      { numRuns: RUNS },
    );

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await countRows()).toBe(before + created.size);
    console.info(
      `hostile input [${kind}]: ${RUNS} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  });
});
