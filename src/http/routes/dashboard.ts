import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { packageRoot } from '../../package-root.js';

/**
 * The admin dashboard at /admin: the bundle `npm run build` writes to dist/dashboard
 * (src/dashboard/build.ts), read once at start and served by the API itself. Script
 * and stylesheet are files of their own, so Helmet's default Content-Security-Policy
 * (script-src 'self') applies unchanged; nothing comes from a CDN. Each file is sent
 * pre-compressed (Brotli, else gzip) when the browser accepts it. Hashed asset names
 * may be cached for ever; the page itself is revalidated on every load. The page holds
 * no secret: the admin key is typed in, kept in sessionStorage and sent with every call.
 */
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
};

interface Asset {
  type: string;
  raw: Buffer;
  br?: Buffer;
  gzip?: Buffer;
  immutable: boolean;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(join(dir, 'index.html'))) return assets;
  for (const file of readdirSync(dir)) {
    const type = TYPES[file.split('.').pop() ?? ''];
    if (!type) continue;
    const optional = (path: string) => (existsSync(path) ? readFileSync(path) : undefined);
    const asset: Asset = {
      type,
      raw: readFileSync(join(dir, file)),
      immutable: file !== 'index.html',
    };
    const br = optional(join(dir, `${file}.br`));
    const gzip = optional(join(dir, `${file}.gz`));
    if (br) asset.br = br;
    if (gzip) asset.gzip = gzip;
    assets.set(file, asset);
  }
  return assets;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset) {
  const accepts = String(request.headers['accept-encoding'] ?? '');
  reply
    .header('content-type', asset.type)
    .header('vary', 'accept-encoding')
    .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (asset.br && /\bbr\b/.test(accepts)) return reply.header('content-encoding', 'br').send(asset.br);
  if (asset.gzip && /\bgzip\b/.test(accepts))
    return reply.header('content-encoding', 'gzip').send(asset.gzip);
  return reply.send(asset.raw);
}

export async function dashboardRoutes(app: FastifyInstance, options: { dir?: string } = {}) {
  const assets = loadAssets(options.dir ?? join(packageRoot(), 'dist', 'dashboard'));
  const page = assets.get('index.html');

  app.get(
    '/admin',
    { schema: { summary: 'Admin dashboard page', tags: ['dashboard'] } },
    (request, reply) => {
      if (!page) {
        return reply
          .code(503)
          .header('content-type', 'text/plain; charset=utf-8')
          .send('The dashboard is not built: run `npm run build` (npm start does it).');
      }
      return send(request, reply, page);
    },
  );
  app.get<{ Params: { file: string } }>(
    '/admin/:file',
    { schema: { summary: 'Admin dashboard script, style and source map', tags: ['dashboard'] } },
    (request, reply) => {
      const asset = request.params.file === 'index.html' ? undefined : assets.get(request.params.file);
      if (!asset) return reply.code(404).send({ error: 'not_found', message: 'No such dashboard file' });
      return send(request, reply, asset);
    },
  );
  app.get('/admin/', { schema: { summary: 'Redirect to /admin', tags: ['dashboard'] } }, (_request, reply) =>
    reply.redirect('/admin'),
  );
}

/**
 * The dashboard calls the API from the API's own origin, and browsers send an Origin
 * header even on same-origin POST and PATCH. Such requests are not cross-origin, so
 * CORS (FRONTEND_URL's allow-list) does not apply to them: this onRequest hook, added
 * before @fastify/cors, drops an Origin that names this very server. A page on another
 * origin cannot forge the Host header, so it is still checked against the allow-list.
 */
export async function sameOriginIsNotCrossOrigin(request: FastifyRequest) {
  const origin = request.headers.origin;
  if (typeof origin !== 'string') return;
  try {
    // Both sides through URL, so a default port (:80, :443) compares equal to none.
    if (new URL(origin).origin === new URL(`${request.protocol}://${request.host}`).origin) {
      delete request.headers.origin;
    }
  } catch {
    // Not a URL: leave it for CORS to refuse.
  }
}
