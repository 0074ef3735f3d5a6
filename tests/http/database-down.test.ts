import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import { buildTestApp } from '../helpers/app.js';

const lead = { customerName: 'Down', customerEmail: 'down@example.com' };

describe('database unreachable', () => {
  // A server that accepts connections and never answers: the worst case, a hang.
  let silent: Server;
  const sockets = new Set<Socket>();
  let silentPort = 0;
  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it.each([
    ['refuses connections', () => 'postgres://postgres@127.0.0.1:9/test'],
    ['accepts but never answers', () => `postgres://postgres@127.0.0.1:${silentPort}/test`],
  ])('answers 503 JSON within seconds when the database %s', async (_label, url) => {
    const storage = openPostgresStorage({
      connectionString: url(),
      poolMax: 2,
      connectTimeoutMs: 1000,
      queryTimeoutMs: 1000,
    });
    const t = await buildTestApp(storage);
    try {
      const started = Date.now();
      const response = await t.app.inject({ method: 'POST', url: '/api/chatbot/leads', payload: lead });
      const elapsed = Date.now() - started;
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({
        error: 'service_unavailable',
        message: 'The service is temporarily unavailable; please retry shortly.',
      });
      expect(elapsed).toBeLessThan(3000);
      const health = await t.app.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({ database: 'down' });
      expect(t.logs.text()).toContain('Database unavailable');
    } finally {
      await t.app.close();
      await storage.close();
    }
  });
});
