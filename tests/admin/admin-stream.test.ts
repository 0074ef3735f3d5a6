import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openSupabaseStorage } from '../../src/storage/supabase-storage.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { startPostgrestStandIn } from '../helpers/postgrest-stand-in.js';
import { TEST_SECRETS, TEST_SUPABASE_PROJECT } from '../helpers/secrets.js';
import { waitFor } from '../helpers/wait.js';
import { auth, createLead, generousLimits, makeOverdue } from './fixtures.js';

interface SseClient {
  messages: Record<string, unknown>[];
  raw: () => string;
  status: number;
  contentType: string | null;
  close(): void;
}

/** Reads an SSE response with fetch (as a browser's EventSource would, over real HTTP). */
async function openStream(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const messages: Record<string, unknown>[] = [];
  let text = '';
  if (response.ok && response.body) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += decoder.decode(value, { stream: true });
          // Re-parse every complete frame (small streams in tests; simplicity over speed).
          messages.length = 0;
          for (const frame of text.split('\n\n').slice(0, -1)) {
            const data = frame
              .split('\n')
              .filter((line) => line.startsWith('data: '))
              .map((line) => line.slice(6))
              .join('\n');
            if (data) messages.push(JSON.parse(data));
          }
        }
      } catch {
        // aborted
      }
    })();
  }
  return {
    messages,
    raw: () => text,
    status: response.status,
    contentType: response.headers.get('content-type'),
    close: () => abort.abort(),
  };
}

describeEachDatabase('GET /api/admin/stream (SSE over real HTTP)', (kind) => {
  let db: TestDatabase;
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await buildTestApp(db.storage, { env: generousLimits });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  it('delivers a new lead, its changes and its SLA breach to a connected client', async () => {
    const stream = await openStream(`${base}/api/admin/stream`, auth);
    try {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toContain('text/event-stream');
      await waitFor(() => stream.messages.some((m) => m.kind === 'ready'), { message: 'ready' });

      const posted = await fetch(`${base}/api/chatbot/leads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customerName: 'Live Lena', customerPhone: '+971501234567', intent: 'buy' }),
      });
      expect(posted.status).toBe(201);
      const { id } = (await posted.json()) as { id: string };
      await waitFor(() => stream.messages.some((m) => m.kind === 'lead.created' && m.id === id), {
        message: 'lead.created on the stream',
      });

      const patched = await fetch(`${base}/api/admin/leads/${id}`, {
        method: 'PATCH',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ version: 1, status: 'contacted' }),
      });
      expect(patched.status).toBe(200);
      await waitFor(
        () => stream.messages.some((m) => m.kind === 'lead.updated' && m.id === id && m.version === 2),
        {
          message: 'lead.updated on the stream',
        },
      );

      const other = await createLead(db.storage);
      await makeOverdue(db.storage, other.id);
      await db.storage.call('sweep_sla_breaches', {});
      await waitFor(() => stream.messages.some((m) => m.kind === 'lead.sla_breached' && m.id === other.id), {
        message: 'lead.sla_breached on the stream',
      });

      // What the worker announces after recording a batch (tests/outbox covers the worker side).
      await db.storage.call('announce_admin_feed', {
        p_messages: {
          messages: [
            {
              kind: 'notification',
              eventId: other.eventId,
              conversationId: other.id,
              channel: 'slack',
              status: 'sent',
            },
          ],
        },
      });
      await waitFor(
        () =>
          stream.messages.some(
            (m) => m.kind === 'notification' && m.conversationId === other.id && m.channel === 'slack',
          ),
        { message: 'notification result on the stream' },
      );
      // Payloads are pointers, not personal data.
      expect(stream.raw()).not.toContain('Live Lena');
    } finally {
      stream.close();
    }
  });

  it('accepts a short-lived token in the query string, and refuses no or bad credentials', async () => {
    const refused = await fetch(`${base}/api/admin/stream`);
    expect(refused.status).toBe(401);
    const forged = await fetch(`${base}/api/admin/stream?token=123.abc`);
    expect(forged.status).toBe(401);

    const issued = await fetch(`${base}/api/admin/stream-token`, { method: 'POST', headers: auth });
    const { token, expiresAt } = (await issued.json()) as { token: string; expiresAt: string };
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    const stream = await openStream(`${base}/api/admin/stream?token=${encodeURIComponent(token)}`);
    try {
      expect(stream.status).toBe(200);
      await waitFor(() => stream.messages.some((m) => m.kind === 'ready'), { message: 'ready via token' });
    } finally {
      stream.close();
    }
    // The token is redacted from request logs.
    expect(t.logs.text()).not.toContain(token);
  });

  it('ends open streams when the app closes', async () => {
    const extra = await buildTestApp(db.storage, { env: generousLimits });
    await extra.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (extra.app.server.address() as AddressInfo).port;
    const stream = await openStream(`http://127.0.0.1:${port}/api/admin/stream`, auth);
    await waitFor(() => stream.messages.some((m) => m.kind === 'ready'), { message: 'ready' });
    await extra.app.close();
    stream.close();
  });
});

it('answers 503 in Supabase rpc mode (it cannot LISTEN), so the dashboard polls', async () => {
  const db = await createTestDatabase('pglite');
  const standIn = await startPostgrestStandIn(db.storage, TEST_SUPABASE_PROJECT);
  const rpc = openSupabaseStorage({
    url: standIn.url,
    serviceRoleKey: TEST_SECRETS.supabaseServiceRoleKey,
    requestTimeoutMs: 5000,
  });
  const t = await buildTestApp(rpc, { env: generousLimits });
  try {
    const response = await t.app.inject({ method: 'GET', url: '/api/admin/stream', headers: auth });
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toBe('stream_unavailable');
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/leads', headers: auth })).statusCode).toBe(
      200,
    );
  } finally {
    await t.app.close();
    await rpc.close();
    await standIn.close();
    await db.close();
  }
});

it('sends a heartbeat event on its interval and unsubscribes when the client leaves', async () => {
  const Fastify = (await import('fastify')).default;
  const { adminStreamRoutes } = await import('../../src/http/routes/admin-stream.js');
  const { testConfig } = await import('../helpers/app.js');
  let subscribers = 0;
  const feed = {
    async subscribe() {
      subscribers++;
      return () => {
        subscribers--;
      };
    },
    async close() {},
  };
  const { serializerCompiler, validatorCompiler } = await import('fastify-type-provider-zod');
  const app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(adminStreamRoutes, { config: testConfig(), feed, heartbeatMs: 30 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const port = (app.server.address() as AddressInfo).port;
    const stream = await openStream(`http://127.0.0.1:${port}/api/admin/stream`);
    await waitFor(() => (stream.raw().match(/event: heartbeat\ndata: \{"at":/g) ?? []).length >= 2, {
      message: 'two heartbeats',
    });
    expect(subscribers).toBe(1);
    stream.close();
    await waitFor(() => subscribers === 0, { message: 'unsubscribe on disconnect' });
  } finally {
    await app.close();
  }
});
