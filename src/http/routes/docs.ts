import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { MIGRATIONS_DIR } from '../../storage/migrator.js';

/**
 * API docs: the OpenAPI 3 document is generated from the very zod schemas that
 * validate requests and serialise responses (fastify-type-provider-zod's
 * jsonSchemaTransform), so the docs cannot drift from the code. Served as
 *   GET /docs        Swagger UI (static files bundled with @fastify/swagger-ui; no CDN)
 *   GET /docs/json   the OpenAPI document   (/docs/yaml: the same in YAML)
 * Must be registered before any route: @fastify/swagger collects routes as they are
 * added. Public (API_DOCS_ENABLED=false turns it off): it describes the API, it holds
 * no data, and the admin routes it lists still need the key.
 */
export const DOCS_PREFIX = '/docs';

/** The package's version, from package.json at the package root (two levels above the migrations). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(MIGRATIONS_DIR, '..', '..', 'package.json'), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? '0.0.0';
}

export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'leadrelay API',
        description:
          'Event-driven lead capture: public intake (chatbot widget, contact form), health, ' +
          'metrics and the admin API. Admin routes need `Authorization: Bearer <ADMIN_API_KEY>`.',
        version: packageVersion(),
      },
      components: {
        securitySchemes: {
          adminKey: { type: 'http', scheme: 'bearer', description: 'ADMIN_API_KEY' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: true,
    uiConfig: { docExpansion: 'list', deepLinking: true },
  });
}
