import type { FastifyInstance } from 'fastify';
import { createLiveFeed, type LiveFeed } from '../../admin/live-feed.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../logger.js';
import type { Storage } from '../../storage/storage.js';
import { requireAdminKey } from '../admin-auth.js';
import { auditHook } from '../audit-hook.js';
import { errorResponses } from '../error-schemas.js';
import { adminAuditRoutes } from './admin-audit.js';
import { adminBulkRoutes } from './admin-bulk.js';
import { adminLeadRoutes } from './admin-leads.js';
import { adminMessageRoutes } from './admin-messages.js';
import { adminOpsRoutes } from './admin-ops.js';
import { adminOverviewRoutes } from './admin-overview.js';
import { adminPrivacyRoutes } from './admin-privacy.js';
import { adminStreamRoutes } from './admin-stream.js';
import { adminTeamRoutes } from './admin-team.js';
import { adminWebhookRoutes } from './admin-webhooks.js';
import { dashboardRoutes } from './dashboard.js';

/**
 * Everything admin: the dashboard's static files (public: they hold no data) and the
 * /api/admin/* routes, all behind the admin key (checked in preValidation, after the
 * per-route rate limit so guessing keys is throttled too).
 */
export interface AdminOptions {
  storage: Storage;
  config: Config;
  logger: Logger;
  /** SSE heartbeat interval (tests shorten it). */
  streamHeartbeatMs?: number;
  /** The process's live feed when the app shares it (conversation streams); created here otherwise. */
  feed?: LiveFeed;
}

export async function adminRoutes(app: FastifyInstance, options: AdminOptions) {
  const { storage, config, logger } = options;
  const key = config.admin.apiKey;
  if (!key) {
    // server.ts resolves (or generates) the key before building the app.
    throw new Error('admin.apiKey must be resolved before the admin routes are registered');
  }
  await app.register(dashboardRoutes);

  const shared = options.feed;
  const feed = shared ?? createLiveFeed(storage, logger);
  if (!shared) app.addHook('onClose', () => feed.close());

  await app.register(async (admin) => {
    admin.decorateRequest('principal', null);
    admin.addHook('preValidation', requireAdminKey(key, storage));
    // Every mutation (refused ones included) leaves an audit_logs row.
    admin.addHook('onSend', auditHook(storage));
    // Every admin route can answer these; the docs list them (and the key) for each.
    admin.addHook('onRoute', (route) => {
      const writes = route.method !== 'GET';
      route.schema = {
        ...route.schema,
        security: [{ adminKey: [] }],
        response: {
          ...errorResponses(400, 401, 403, 404, ...(writes ? [409, 422] : []), 429, 503),
          ...(route.schema?.response as object | undefined),
        },
      };
    });
    await admin.register(adminLeadRoutes, { storage, config });
    await admin.register(adminMessageRoutes, { storage, config });
    await admin.register(adminOpsRoutes, { storage, config });
    await admin.register(adminWebhookRoutes, { storage, config });
    await admin.register(adminOverviewRoutes, { storage, config });
    await admin.register(adminTeamRoutes, { storage, config });
    await admin.register(adminAuditRoutes, { storage, config });
    await admin.register(adminPrivacyRoutes, { storage, config });
    await admin.register(adminBulkRoutes, { storage, config });
    await admin.register(adminStreamRoutes, {
      config,
      feed,
      ...(options.streamHeartbeatMs ? { heartbeatMs: options.streamHeartbeatMs } : {}),
    });
  });
}
