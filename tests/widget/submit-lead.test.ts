import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY, submitLead } from '../../src/widget/submit-lead.js';
import { WidgetError } from '../../src/widget/widget-http.js';

/**
 * The widget's retry logic against a real HTTP server on loopback that answers from a
 * script: each request takes the next step (drop the connection, hang, answer with a
 * status and headers). What is checked is what the server saw: how many attempts,
 * with which Idempotency-Key and body, and how far apart.
 */
type Step =
  | { drop: true }
  | { hang: true }
  | { status: number; headers?: Record<string, string>; body?: unknown };

interface Seen {
  at: number;
  key: string | undefined;
  body: Record<string, unknown>;
}

const created = { id: '6f1c1c55-4b41-4f7b-9d3e-1b8f9b9a3c11', createdAt: '2026-12-01T22:00:00.000Z' };
const lead = { customerName: 'Rita Retry', customerEmail: 'rita@example.com' };
const fast = { baseDelayMs: 20, maxDelayMs: 80, timeoutMs: 2000 };

describe('submitLead retries (widget client)', () => {
  let server: Server;
  let baseUrl: string;
  let script: Step[] = [];
  let seen: Seen[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (chunk) => {
        raw += chunk;
      });
      req.on('end', () => {
        seen.push({
          at: performance.now(),
          key: req.headers['idempotency-key'] as string | undefined,
          body: JSON.parse(raw || '{}'),
        });
        const step = script.shift() ?? { status: 201 };
        if ('drop' in step) return req.socket.destroy();
        if ('hang' in step) return;
        res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
        res.end(
          JSON.stringify(
            step.body ?? (step.status < 300 ? { ...created, duplicate: false, returning: false } : {}),
          ),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    script = [];
    seen = [];
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends its own Idempotency-Key, the honeypot empty, and no key in the body', async () => {
    const result = await submitLead({ ...lead, idempotencyKey: undefined }, { baseUrl });
    expect(result).toMatchObject({ id: created.id, attempts: 1 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.key).toMatch(/^lrw-[0-9a-f-]{36}$/);
    expect(result.idempotencyKey).toBe(seen[0]!.key);
    expect(seen[0]!.body).toEqual({ ...lead, leadrelay_hp: '' });
    // A second submission is a different one: a new key.
    await submitLead(lead, { baseUrl });
    expect(seen[1]!.key).not.toBe(seen[0]!.key);
  });

  it('passes a honeypot the page filled in (a bot) through untouched', async () => {
    await submitLead({ ...lead, leadrelay_hp: 'http://spam.example' }, { baseUrl });
    expect(seen[0]!.body.leadrelay_hp).toBe('http://spam.example');
  });

  it('repeats a request whose answer was lost, with the same key', async () => {
    script = [
      { drop: true },
      { drop: true },
      { status: 200, body: { ...created, duplicate: true, returning: false } },
    ];
    const retries: string[] = [];
    const result = await submitLead(lead, { baseUrl, retry: fast, onRetry: (r) => retries.push(r.reason) });
    expect(result).toMatchObject({ id: created.id, duplicate: true, attempts: 3 });
    expect(seen).toHaveLength(3);
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
    expect(seen.map((s) => JSON.stringify(s.body))).toEqual(Array(3).fill(JSON.stringify(seen[0]!.body)));
    expect(retries).toEqual(['network error', 'network error']);
  });

  it('abandons an attempt that gets no answer within timeoutMs and repeats it', async () => {
    script = [{ hang: true }];
    const result = await submitLead(lead, { baseUrl, retry: { ...fast, timeoutMs: 300 } });
    expect(result.attempts).toBe(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(300);
    expect(seen[1]!.key).toBe(seen[0]!.key);
  });

  it('waits for Retry-After on 429, then repeats with the same key', async () => {
    script = [
      { status: 429, headers: { 'retry-after': '1' }, body: { error: 'rate_limited', message: 'slow down' } },
    ];
    const result = await submitLead(lead, { baseUrl, retry: fast });
    expect(result.attempts).toBe(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(990);
    expect(seen[1]!.key).toBe(seen[0]!.key);
  });

  it('backs off on 503 (growing waits) and on 502/504, honouring a Retry-After', async () => {
    script = [
      { status: 503 },
      { status: 503 },
      { status: 502 },
      { status: 504, headers: { 'retry-after': '0.3' } },
    ];
    const policy = { baseDelayMs: 100, maxDelayMs: 1000, timeoutMs: 2000 };
    const result = await submitLead(lead, { baseUrl, retry: policy });
    expect(result.attempts).toBe(5);
    const gaps = seen.slice(1).map((s, i) => s.at - seen[i]!.at);
    // Equal jitter: retry n waits between half and all of 100·2^(n-1) ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(50 - 5);
    expect(gaps[1]).toBeGreaterThanOrEqual(100 - 5);
    expect(gaps[2]).toBeGreaterThanOrEqual(200 - 5);
    expect(gaps[3]).toBeGreaterThanOrEqual(300 - 5);
    expect(new Set(seen.map((s) => s.key)).size).toBe(1);
  });

  it('does not repeat a refusal: 400 names the fields, 500 and 403 are final', async () => {
    const fields = [{ field: 'customerEmail', message: 'must be a valid email' }];
    script = [
      { status: 400, body: { error: 'validation_error', message: 'customerEmail must be…', fields } },
    ];
    const refused = await submitLead(lead, { baseUrl, retry: fast }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WidgetError);
    expect(refused).toMatchObject({ status: 400, code: 'validation_error', fields });
    for (const status of [500, 403, 422]) {
      script = [{ status }];
      const error = await submitLead(lead, { baseUrl, retry: fast }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status });
    }
    expect(seen).toHaveLength(4);
  });

  it('gives up after the last attempt, and at once on a Retry-After longer than it waits', async () => {
    script = [{ drop: true }, { drop: true }, { drop: true }];
    const error = await submitLead(lead, { baseUrl, retry: { ...fast, attempts: 3 } }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ status: 0, code: 'network' });
    expect(seen).toHaveLength(3);

    seen = [];
    script = [{ status: 429, headers: { 'retry-after': '3600' } }];
    const started = performance.now();
    const limited = await submitLead(lead, { baseUrl, retry: fast }).catch((e: unknown) => e);
    expect(limited).toMatchObject({ status: 429 });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(seen).toHaveLength(1);
  });

  it('stops when its signal is aborted, between attempts too', async () => {
    script = [{ status: 503, headers: { 'retry-after': '5' } }];
    const controller = new AbortController();
    const pending = submitLead(lead, { baseUrl, signal: controller.signal }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    expect(await pending).toMatchObject({ code: 'aborted' });
    expect(seen).toHaveLength(1);
  });

  it('keeps the backoff between half and all of base·2^(n-1), capped', () => {
    for (let retry = 1; retry <= 8; retry++) {
      const ceiling = Math.min(DEFAULT_RETRY.maxDelayMs, DEFAULT_RETRY.baseDelayMs * 2 ** (retry - 1));
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelay(retry, DEFAULT_RETRY);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});
