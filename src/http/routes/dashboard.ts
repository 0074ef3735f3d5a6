import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { packageRoot } from '../../package-root.js';

/**
 * The admin dashboard at /admin: three static files (HTML, CSS, JS; no build step)
 * read once at start and served by the API itself. Scripts and styles are separate
 * files so Helmet's default Content-Security-Policy (script-src 'self') applies
 * unchanged. The page holds no secret: the admin key is typed in and kept in
 * sessionStorage, and every API call sends it.
 */
function dashboardDir(): string {
  return join(packageRoot(), 'src', 'dashboard');
}

const FILES = {
  '/admin': { file: 'index.html', type: 'text/html; charset=utf-8', summary: 'Admin dashboard page' },
  '/admin/app.js': {
    file: 'app.js',
    type: 'text/javascript; charset=utf-8',
    summary: 'Admin dashboard script',
  },
  '/admin/app.css': { file: 'app.css', type: 'text/css; charset=utf-8', summary: 'Admin dashboard styles' },
} as const;

export async function dashboardRoutes(app: FastifyInstance) {
  const dir = dashboardDir();
  for (const [url, { file, type, summary }] of Object.entries(FILES)) {
    const body = readFileSync(join(dir, file));
    app.get(url, { schema: { summary, tags: ['dashboard'] } }, (_request, reply) =>
      reply.header('content-type', type).header('cache-control', 'no-cache').send(body),
    );
  }
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
