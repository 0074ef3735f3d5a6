import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWidget, ensureWidgetBuilt } from '../../src/dashboard/build.js';
import { WIDGET_CACHE_CONTROL, widgetRoutes } from '../../src/http/routes/widget.js';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/databases.js';

/** GET /widget/leadrelay.js: a small ES module, loadable cross-origin, with the server's settings in it. */
describe('widget script route', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leadrelay-widget-'));
  const app = Fastify();

  beforeAll(async () => {
    await buildWidget(dir);
    await app.register(widgetRoutes, { dir, honeypotField: 'fax_number' });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a few KB of JavaScript with no dependencies, compressed, cached and revalidated', async () => {
    const response = await app.inject({
      url: '/widget/leadrelay.js',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(response.headers['content-encoding']).toBe('br');
    expect(response.headers['cache-control']).toBe(WIDGET_CACHE_CONTROL);
    expect(response.headers.vary).toBe('accept-encoding');
    const text = brotliDecompressSync(response.rawPayload).toString('utf8');
    expect(text.length).toBeLessThan(12_000);
    expect(response.rawPayload.length).toBeLessThan(4_000);
    // An ES module exporting the two entry points, importing nothing.
    expect(text).toMatch(/export\s*\{[^}]*\bsubmitLead\b/);
    expect(text).toMatch(/export\s*\{[^}]*\bopenConversation\b/);
    expect(text).not.toMatch(/\bimport\s*[{*"'\w]/);
    // The server's honeypot name is written in; the marker is gone.
    expect(text).toContain('"fax_number"');
    expect(text).not.toContain('%%LEADRELAY_HONEYPOT_FIELD%%');

    const gzip = await app.inject({ url: '/widget/leadrelay.js', headers: { 'accept-encoding': 'gzip' } });
    expect(gunzipSync(gzip.rawPayload).toString('utf8')).toBe(text);
    const plain = await app.inject({ url: '/widget/leadrelay.js' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(text);

    const etag = String(response.headers.etag);
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await app.inject({ url: '/widget/leadrelay.js', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('says how to build it when dist/widget is missing', async () => {
    const bare = Fastify();
    await bare.register(widgetRoutes, { dir: join(dir, 'missing'), honeypotField: 'leadrelay_hp' });
    const response = await bare.inject({ url: '/widget/leadrelay.js' });
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain('npm run build');
    await bare.close();
  });
});

describe('widget script in the API', () => {
  it('loads from any origin as a module script (CORS *, cross-origin resource policy), listed or not', async () => {
    await ensureWidgetBuilt();
    const db = await createTestDatabase('pglite');
    const t = await buildTestApp(db.storage, { env: { FRONTEND_URL: 'https://shop.example' } });
    try {
      for (const origin of ['https://shop.example', 'https://elsewhere.example']) {
        const response = await t.app.inject({ url: '/widget/leadrelay.js', headers: { origin } });
        expect(response.statusCode).toBe(200);
        expect(response.headers['access-control-allow-origin']).toBe('*');
        expect(response.headers['cross-origin-resource-policy']).toBe('cross-origin');
        expect(response.headers['x-content-type-options']).toBe('nosniff');
      }
      // The API itself still refuses an unlisted origin.
      const refused = await t.app.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        headers: { origin: 'https://elsewhere.example' },
        payload: { customerName: 'X', customerEmail: 'x@example.com' },
      });
      expect(refused.statusCode).toBe(403);
    } finally {
      await t.app.close();
      await db.close();
    }
  });
});
