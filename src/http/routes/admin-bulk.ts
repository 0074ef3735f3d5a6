import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LEAD_STATUSES } from '../../admin/admin-store.js';
import { decodeCursor, encodeCursor } from '../../admin/cursor.js';
import {
  BULK_ACTIONS,
  type BulkParams,
  type BulkTarget,
  bulkStore,
  DESTRUCTIVE_ACTIONS,
  targetJson,
} from '../../bulk/bulk-store.js';
import { createConfirmToken, verifyConfirmToken } from '../../bulk/confirm-token.js';
import type { Config } from '../../config.js';
import type { Storage } from '../../storage/storage.js';
import { optionalText, requiredText } from '../../validation/text-fields.js';
import { principalOf } from '../admin-auth.js';
import { HttpError } from '../errors.js';
import { perMinute } from '../rate-limit.js';
import { filterQuery, filtersOf } from './admin-leads.js';

/**
 * Bulk actions (docs/bulk-actions.md): preview (dry run), run, watch, undo. Owner and
 * admins only. The work itself is done by the worker (src/bulk/bulk-runner.ts); these
 * routes take the snapshot and answer at once.
 */
export const MAX_BULK_IDS = 1000;
const PARAMS_OF: Record<(typeof BULK_ACTIONS)[number], (keyof BulkParams)[]> = {
  set_status: ['status'],
  assign: ['assignedTo'],
  add_tag: ['tag'],
  remove_tag: ['tag'],
  archive: [],
  erase: [],
};

// JSON booleans are welcome in a body; the list's query filters take them as text.
const bodyFilter = z.preprocess(
  (value) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value).map(([key, item]) => [key, typeof item === 'boolean' ? String(item) : item]),
        )
      : value,
  z.strictObject(filterQuery.shape),
);

const bulkBody = z
  .strictObject({
    action: z.enum(BULK_ACTIONS, { error: `must be one of ${BULK_ACTIONS.join(', ')}` }),
    target: z
      .strictObject({
        ids: z
          .array(z.uuid({ error: 'must be a lead id' }))
          .min(1, { error: 'must name at least one lead' })
          .max(MAX_BULK_IDS, { error: `must name at most ${MAX_BULK_IDS} leads (use a filter)` })
          .optional(),
        filter: bodyFilter.optional(),
      })
      .refine((target) => (target.ids === undefined) !== (target.filter === undefined), {
        error: 'must have exactly one of ids or filter',
      }),
    params: z
      .strictObject({
        status: z.enum(LEAD_STATUSES, { error: `must be one of ${LEAD_STATUSES.join(', ')}` }).optional(),
        assignedTo: z.uuid({ error: 'must be a team member id' }).nullable().optional(),
        tag: requiredText(50).optional(),
      })
      .default({}),
    dryRun: z.boolean().default(true),
    confirmToken: optionalText(200),
  })
  .superRefine((body, ctx) => {
    const wanted = PARAMS_OF[body.action];
    for (const key of wanted) {
      if (body.params[key] === undefined) {
        ctx.addIssue({ code: 'custom', path: ['params', key], message: `is required for ${body.action}` });
      }
    }
    for (const key of Object.keys(body.params) as (keyof BulkParams)[]) {
      if (!wanted.includes(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['params', key],
          message: `is not a parameter of ${body.action}`,
        });
      }
    }
  });

const actionParams = z.object({ id: z.uuid({ error: 'must be a UUID' }) });

export async function adminBulkRoutes(
  app: FastifyInstance,
  { storage, config }: { storage: Storage; config: Config },
) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const limit = perMinute(config.http.rateLimits.adminPerMinute);
  const store = bulkStore(storage);
  const key = config.admin.apiKey;
  if (!key) throw new Error('admin.apiKey must be resolved before the bulk routes are registered');

  typed.post(
    '/api/admin/bulk-actions',
    {
      config: { ...limit, adminOnly: true, audit: { action: 'bulk_action.create', resource: 'bulk_action' } },
      schema: {
        summary: 'Preview (dryRun, the default) or run a bulk action on leads',
        body: bulkBody,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { action, params, dryRun, confirmToken } = request.body;
      const target: BulkTarget = request.body.target.ids
        ? { ids: request.body.target.ids }
        : { filter: filtersOf(request.body.target.filter ?? {}, principal) };
      const subject = { principalId: principal.id, action, target: targetJson(target), params };
      const destructive = DESTRUCTIVE_ACTIONS.includes(action);
      if (dryRun) {
        const preview = await store.preview(action, target, params);
        const confirm = destructive ? createConfirmToken(key, subject) : null;
        return {
          dryRun: true,
          ...preview,
          confirmToken: confirm?.token ?? null,
          confirmExpiresAt: confirm?.expiresAt ?? null,
        };
      }
      if (destructive && !(confirmToken && verifyConfirmToken(key, confirmToken, subject))) {
        throw new HttpError(
          428,
          'confirmation_required',
          `${action} is destructive: run it with dryRun first and send back its unexpired confirmToken`,
        );
      }
      const created = await store.create(action, target, params, principal, config.bulk.undoExpiryDays);
      return reply.code(202).send(created);
    },
  );

  typed.get(
    '/api/admin/bulk-actions',
    {
      config: { ...limit, adminOnly: true },
      schema: {
        summary: 'Bulk actions, newest first (keyset pages)',
        querystring: z.object({
          cursor: optionalText(200),
          limit: z.coerce.number().int().min(1).max(100).default(20),
        }),
      },
    },
    async (request) => {
      const before = request.query.cursor ? decodeCursor(request.query.cursor) : undefined;
      if (before === null) throw new HttpError(400, 'invalid_cursor', 'cursor is not one this API issued');
      const page = await store.list({ before, limit: request.query.limit });
      return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null };
    },
  );

  typed.get(
    '/api/admin/bulk-actions/count',
    {
      config: { ...limit, adminOnly: true },
      schema: {
        summary: 'How many leads the lead-list filters match (select all N)',
        querystring: filterQuery,
      },
    },
    (request) => store.count({ filter: filtersOf(request.query, principalOf(request)) }),
  );

  typed.get(
    '/api/admin/bulk-actions/:id',
    {
      config: { ...limit, adminOnly: true },
      schema: { summary: 'A bulk action: status, progress, skips and undo window', params: actionParams },
    },
    (request) => store.get(request.params.id),
  );

  typed.post(
    '/api/admin/bulk-actions/:id/undo',
    {
      config: { ...limit, adminOnly: true, audit: { action: 'bulk_action.undo', resource: 'bulk_action' } },
      schema: {
        summary: 'Undo a bulk action (until UNDO_EXPIRY_DAYS): a new tracked action',
        params: actionParams,
        body: z.strictObject({}).nullish(),
      },
    },
    async (request, reply) =>
      reply.code(202).send(await store.createUndo(request.params.id, principalOf(request))),
  );
}
