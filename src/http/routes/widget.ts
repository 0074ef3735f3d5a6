import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../../package-root.js';

/**
 * GET /widget/leadrelay.js: the visitor widget client (src/widget, bundled into
 * dist/widget by `npm run build`), for sites to load with
 * `<script type="module">` / `import ... from '<api>/widget/leadrelay.js'`.
 *
 * - The server's settings are written into it once at start (the honeypot's field
 *   name), then it is compressed once (Brotli, gzip) and served from memory.
 * - Cross-origin by design: module scripts are fetched in CORS mode, so it answers
 *   `Access-Control-Allow-Origin: *` to any origin (a public file, no credentials, no
 *   data) and `Cross-Origin-Resource-Policy: cross-origin` (Helmet's default,
 *   same-origin, would block it). The API calls it makes are still checked against
 *   FRONTEND_URL.
 * - The URL has no version in it, so the cache is short (5 min, a day stale while
 *   revalidating) with a strong ETag: an upgrade reaches every site within minutes
 *   and a revalidation costs a 304.
 */
export const WIDGET_CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=86400';
const HONEYPOT_MARKER = '"%%LEADRELAY_HONEYPOT_FIELD%%"';

interface Widget {
  raw: Buffer;
  br: Buffer;
  gzip: Buffer;
  etag: string;
}

function loadWidget(dir: string, honeypotField: string): Widget | null {
  const file = join(dir, 'leadrelay.js');
  if (!existsSync(file)) return null;
  const source = readFileSync(file, 'utf8');
  const raw = Buffer.from(source.replaceAll(HONEYPOT_MARKER, JSON.stringify(honeypotField)));
  return {
    raw,
    br: brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    gzip: gzipSync(raw, { level: 9 }),
    etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`,
  };
}

export async function widgetRoutes(app: FastifyInstance, options: { honeypotField: string; dir?: string }) {
  const widget = loadWidget(options.dir ?? join(packageRoot(), 'dist', 'widget'), options.honeypotField);

  app.get(
    '/widget/leadrelay.js',
    {
      // Any origin may load the file; @fastify/cors would refuse unlisted ones.
      config: { cors: false },
      schema: { summary: 'Visitor widget client (ES module)', tags: ['widget'] },
    },
    (request, reply) => {
      reply
        .header('access-control-allow-origin', '*')
        .header('cross-origin-resource-policy', 'cross-origin')
        .header('vary', 'accept-encoding');
      if (!widget) {
        return reply
          .code(503)
          .header('content-type', 'text/plain; charset=utf-8')
          .header('cache-control', 'no-store')
          .send('The widget is not built: run `npm run build` (npm start does it).');
      }
      reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('cache-control', WIDGET_CACHE_CONTROL)
        .header('etag', widget.etag);
      const match = request.headers['if-none-match'];
      if (typeof match === 'string' && match.split(',').some((tag) => tag.trim() === widget.etag)) {
        return reply.code(304).send();
      }
      const accepts = String(request.headers['accept-encoding'] ?? '');
      if (/\bbr\b/.test(accepts)) return reply.header('content-encoding', 'br').send(widget.br);
      if (/\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(widget.gzip);
      return reply.send(widget.raw);
    },
  );
}
