import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cutCodePoints, providerText } from '../../src/notifications/provider-text.js';
import { SendError } from '../../src/notifications/sender.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

/**
 * The one sanitiser for provider text (issue 10): whatever a provider answers, what we
 * store and log is well-formed, NUL-free, bounded in code points and free of secrets.
 */
describe('providerText', () => {
  it('cuts by code points, never inside an emoji', () => {
    const body = `${'x'.repeat(199)}😀`;
    expect(providerText(body)).toBe(body);
    expect(providerText(`${body}tail`)).toBe(`${'x'.repeat(199)}…`);
    expect(cutCodePoints('😀😀😀', 2)).toBe('😀…');
    expect(providerText(`${'x'.repeat(199)}😀`).isWellFormed()).toBe(true);
  });

  it('replaces lone surrogates, NUL and control characters', () => {
    expect(providerText('a\uD83Db')).toBe('a\uFFFDb');
    expect(providerText('a\uDE00b')).toBe('a\uFFFDb');
    expect(providerText('nul\u0000here\u0007')).toBe('nul\uFFFDhere\uFFFD');
    expect(providerText('keeps\ttabs\nand lines\r\n')).toBe('keeps\ttabs\nand lines\r\n');
  });

  it('scrubs secrets before cutting, so a cut never leaves part of one', () => {
    const secret = 'hunter2-very-long-password';
    const text = providerText(`${'x'.repeat(190)}${secret}`, [secret]);
    expect(text).not.toContain('hunter2');
    expect(providerText('GET /bot123:ABC-def/sendMessage via /services/T1/B2/xyz')).toBe(
      'GET /bot[REDACTED]/sendMessage via /services/[REDACTED]',
    );
  });

  it('holds for any string: well-formed, no NUL, at most the limit', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 600 }),
        fc.integer({ min: 1, max: 300 }),
        (s, max) => {
          const out = providerText(s, [], max);
          return out.isWellFormed() && !out.includes('\u0000') && Array.from(out).length <= max;
        },
      ),
    );
  });

  it('SendError messages are sanitised whatever a sender passes', () => {
    const error = new SendError(`boom \u0000 ${'y'.repeat(1000)}\uD83D`, 'transient');
    expect(error.message.isWellFormed()).toBe(true);
    expect(error.message).not.toContain('\u0000');
    expect(Array.from(error.message).length).toBeLessThanOrEqual(400);
  });
});

describe('sanitised text is accepted by the database [pglite]', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('pglite');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('round-trips through jsonb, where the raw text is refused', async () => {
    for (const raw of [`${'x'.repeat(199)}😀`.slice(0, 200), 'a\u0000b']) {
      await expect(db.storage.query('select $1::jsonb as v', [JSON.stringify({ e: raw })])).rejects.toThrow();
      const clean = providerText(raw);
      const [row] = await db.storage.query<{ v: { e: string } }>('select $1::jsonb as v', [
        JSON.stringify({ e: clean }),
      ]);
      expect(row!.v.e).toBe(clean);
    }
  });
});
