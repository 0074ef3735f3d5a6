import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  DEFAULT_HONEYPOT_FIELD,
  LIMITS,
  MAX_CHATBOT_BODY_BYTES,
  MAX_LEAD_BODY_BYTES,
} from '../../src/leads/lead-input.js';
import { buildTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

/**
 * The body limit is derived from the intake's own limits, so the largest valid lead
 * is admitted: every field at its maximum, a 5,000-character CJK message and 4 KB of
 * metadata, even when the client escapes every non-ASCII character (\uXXXX).
 */
const cjk = (length: number) => '中文字'.repeat(Math.ceil(length / 3)).slice(0, length);

/** A metadata object whose JSON is exactly LIMITS.metadataBytes bytes, CJK inside. */
function metadataAtLimit(): Record<string, unknown> {
  const metadata = { note: '' };
  const overhead = Buffer.byteLength(JSON.stringify(metadata));
  const room = LIMITS.metadataBytes - overhead;
  metadata.note = `${cjk(Math.floor(room / 3))}${'x'.repeat(room % 3)}`;
  expect(Buffer.byteLength(JSON.stringify(metadata))).toBe(LIMITS.metadataBytes);
  return metadata;
}

function emailAtLimit(): string {
  const local = 'l'.repeat(64);
  const labels = ['d'.repeat(63), 'e'.repeat(63)];
  const rest = LIMITS.email - local.length - 1 - labels.join('.').length - '.com'.length - 1;
  const email = `${local}@${labels.join('.')}.${'f'.repeat(rest)}.com`;
  expect(email).toHaveLength(LIMITS.email);
  return email;
}

function largestLead(): Record<string, unknown> & { message: string } {
  const pageUrl = `https://example.com/${'p'.repeat(LIMITS.url - 'https://example.com/'.length)}`;
  return {
    customerName: cjk(LIMITS.name),
    customerPhone: '+971 50 123 4567'.padEnd(LIMITS.phoneInput, ' '),
    customerEmail: emailAtLimit(),
    intent: cjk(LIMITS.intent),
    message: cjk(LIMITS.message),
    pageUrl,
    utmSource: cjk(LIMITS.utm),
    utmMedium: cjk(LIMITS.utm),
    utmCampaign: cjk(LIMITS.utm),
    utmTerm: cjk(LIMITS.utm),
    utmContent: cjk(LIMITS.utm),
    idempotencyKey: cjk(LIMITS.idempotencyKey),
    metadata: metadataAtLimit(),
    // Whitespace only: not filled, so the lead is stored.
    [DEFAULT_HONEYPOT_FIELD]: ' '.repeat(LIMITS.honeypot),
  };
}

/** JSON with every non-ASCII UTF-16 unit escaped, as Python's json.dumps writes it. */
const asciiJson = (value: unknown) =>
  JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

describe('the largest valid lead', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    t = await buildTestApp(db.storage, { env: { RATE_LIMIT_LEADS_PER_MINUTE: '1000' } });
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  it('is admitted and stored whole, as UTF-8 JSON and as all-escaped JSON', async () => {
    expect(t.config.http.bodyLimitBytes).toBe(MAX_LEAD_BODY_BYTES);
    const encodings = [JSON.stringify, asciiJson];
    for (const [index, encode] of encodings.entries()) {
      // A key of its own per post, else the second would be an idempotent repeat.
      const lead = { ...largestLead(), idempotencyKey: `${cjk(LIMITS.idempotencyKey - 1)}${index}` };
      const body = encode(lead);
      expect(Buffer.byteLength(body)).toBeGreaterThan(16_384);
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_LEAD_BODY_BYTES);
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        headers: { 'content-type': 'application/json' },
        payload: body,
      });
      expect(response.statusCode, response.body).toBe(201);
      const [row] = await db.storage.query<{ message: string }>(
        'select message from conversations where id = $1',
        [response.json().id],
      );
      expect(row!.message).toBe(lead.message);
    }
  });

  it('still meets a 413 one KiB past the limit', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      headers: { 'content-type': 'application/json' },
      // The chatbot route's limit is the lead's plus the largest transcript's (docs/conversations.md).
      payload: JSON.stringify({ customerName: 'x', message: 'm'.repeat(MAX_CHATBOT_BODY_BYTES + 1024) }),
    });
    expect(response.statusCode).toBe(413);
    const contact = await t.app.inject({
      method: 'POST',
      url: '/api/contact',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({
        name: 'x',
        email: 'x@example.com',
        message: 'm'.repeat(MAX_LEAD_BODY_BYTES + 1024),
      }),
    });
    expect(contact.statusCode).toBe(413);
  });

  it('cannot be refused by configuration: BODY_LIMIT_BYTES below it stops the process', () => {
    expect(() => loadConfig({ ADMIN_API_KEY: TEST_ADMIN_KEY, BODY_LIMIT_BYTES: '16384' })).toThrow(
      new RegExp(`BODY_LIMIT_BYTES must be at least ${MAX_LEAD_BODY_BYTES}`),
    );
  });
});
