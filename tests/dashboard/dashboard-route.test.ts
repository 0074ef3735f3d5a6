import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/dashboard/build.js';
import { dashboardRoutes } from '../../src/http/routes/dashboard.js';

/** /admin serves the bundle `npm run build` writes: hashed assets, pre-compressed, no CDN. */
describe('dashboard bundle and its route', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-dashboard-'));
  const app = Fastify();

  beforeAll(async () => {
    await buildDashboard(dir);
    await app.register(dashboardRoutes, { dir });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page, which loads only same-origin hashed assets', async () => {
    const page = await app.inject({ url: '/admin' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-cache');
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets).toEqual([
      expect.stringMatching(/^data:/),
      expect.stringMatching(/^\/admin\/main-\w+\.css$/),
      expect.stringMatching(/^\/admin\/main-\w+\.js$/),
    ]);
    for (const asset of assets.slice(1)) {
      const response = await app.inject({ url: asset!, headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-encoding']).toBe('br');
      expect(response.headers['cache-control']).toContain('immutable');
      const text = brotliDecompressSync(response.rawPayload).toString('utf8');
      expect(text).not.toMatch(/https?:\/\/(?!www\.w3\.org)[\w.-]+\//);
      const plain = await app.inject({ url: asset! });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body).toBe(text);
    }
  });

  it('answers 404 for files it does not have', async () => {
    expect((await app.inject({ url: '/admin/nope.js' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/admin/..%2Fpackage.json' })).statusCode).toBe(404);
  });

  it('says how to build it when dist/dashboard is missing', async () => {
    const bare = Fastify();
    await bare.register(dashboardRoutes, { dir: join(dir, 'missing') });
    const response = await bare.inject({ url: '/admin' });
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain('npm run build');
    await bare.close();
  });
});
