import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  addNote,
  completeTask,
  getLead,
  iterateLeads,
  LEAD_STATUSES,
  type LeadFilters,
  listLeads,
  mergeLeads,
  updateLead,
} from '../../admin/admin-store.js';
import { leadsCsv } from '../../admin/csv.js';
import { decodeCursor } from '../../admin/cursor.js';
import type { Config } from '../../config.js';
import { integrationStore } from '../../integrations/integration-store.js';
import type { Storage } from '../../storage/storage.js';
import type { Principal } from '../../team/principal.js';
import { assignWaitingLeads } from '../../team/team-store.js';
import { optionalText, requiredText } from '../../validation/text-fields.js';
import { principalOf } from '../admin-auth.js';
import { HttpError } from '../errors.js';
import { perMinute } from '../rate-limit.js';

/** Admin lead routes: list (keyset pages), CSV export, detail, update, notes, tasks. */
const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });

/** The lead list's filters; bulk actions target leads with the same ones (admin-bulk.ts). */
export const filterQuery = z.object({
  status: z.enum(LEAD_STATUSES).optional(),
  intent: optionalText(100),
  source: optionalText(100),
  sla_breached: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .transform((value) => value === 'true')
    .optional(),
  q: optionalText(200),
  created_from: isoDate.optional(),
  created_to: isoDate.optional(),
  assignedTo: z
    .union([z.uuid(), z.literal('me'), z.literal('unassigned')], {
      error: 'must be a team member id, me or unassigned',
    })
    .optional(),
  // Archived leads are hidden unless asked for: true lists only them, include both.
  archived: z.enum(['true', 'false', 'include'], { error: 'must be true, false or include' }).optional(),
});

const listQuery = filterQuery.extend({
  cursor: optionalText(200),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const leadParams = z.object({ id: z.uuid({ error: 'must be a UUID' }) });
/** Database integers: a larger number would overflow there (22003) instead of being refused here. */
const MAX_INT4 = 2_147_483_647;

// No `actor` field anywhere: the actor is the signed-in principal.
const patchBody = z
  .strictObject({
    version: z.number().int().min(1).max(MAX_INT4),
    status: z.enum(LEAD_STATUSES).optional(),
    assignedTo: z.uuid({ error: 'must be a team member id' }).nullable().optional(),
    note: optionalText(5000),
  })
  .refine((body) => body.status !== undefined || body.assignedTo !== undefined || body.note !== undefined, {
    error: 'must change at least one of status, assignedTo, note',
  });

function assigneeFilter(value: string | undefined, principal: Principal): Partial<LeadFilters> {
  if (value === undefined) return {};
  if (value === 'unassigned') return { unassigned: true };
  if (value === 'me') {
    if (!principal.id) {
      throw new HttpError(
        400,
        'validation_failed',
        'assignedTo=me needs a team member token, not the owner key',
      );
    }
    return { assigneeId: principal.id };
  }
  return { assigneeId: value };
}

export function filtersOf(query: z.infer<typeof filterQuery>, principal: Principal): LeadFilters {
  return {
    ...assigneeFilter(query.assignedTo, principal),
    status: query.status,
    intent: query.intent,
    source: query.source,
    slaBreached: query.sla_breached,
    q: query.q || undefined,
    createdFrom: query.created_from,
    createdTo: query.created_to,
    archived: query.archived === 'true' ? 'only' : query.archived === 'include' ? 'include' : undefined,
  };
}

export async function adminLeadRoutes(
  app: FastifyInstance,
  { storage, config }: { storage: Storage; config: Config },
) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const limit = perMinute(config.http.rateLimits.adminPerMinute);

  typed.get(
    '/api/admin/leads',
    { config: limit, schema: { summary: 'List leads, newest first (keyset pages)', querystring: listQuery } },
    async (request) => {
      const { cursor, limit: pageSize, ...filters } = request.query;
      const after = cursor ? decodeCursor(cursor) : undefined;
      if (after === null) throw new HttpError(400, 'invalid_cursor', 'cursor is not one this API issued');
      return listLeads(storage, filtersOf(filters, principalOf(request)), { after, limit: pageSize });
    },
  );

  typed.get(
    '/api/admin/leads/export.csv',
    {
      config: perMinute(config.http.rateLimits.exportPerMinute),
      schema: { summary: 'Export the filtered leads as CSV (streamed)', querystring: filterQuery },
    },
    async (request, reply) => {
      // Pulled page by page as the client reads: memory stays flat however many leads match.
      const filters = filtersOf(request.query, principalOf(request));
      const body = Readable.from(leadsCsv(iterateLeads(storage, filters)));
      body.on('error', (error) => request.log.error({ err: error }, 'Lead export failed mid-stream'));
      const stamp = new Date().toISOString().slice(0, 10);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="leads-${stamp}.csv"`)
        .header('cache-control', 'no-store')
        .send(body);
    },
  );

  typed.get(
    '/api/admin/leads/:id',
    {
      config: limit,
      schema: { summary: 'A lead with its timeline, tasks and notifications', params: leadParams },
    },
    async (request) => {
      const detail = await getLead(storage, request.params.id);
      // CRM ids (HubSpot contact) live with the integrations; shown beside the lead.
      return { ...detail, integrations: await integrationStore(storage).crmLinks(request.params.id) };
    },
  );

  typed.patch(
    '/api/admin/leads/:id',
    {
      config: { ...limit, audit: { action: 'lead.update', resource: 'lead' } },
      schema: {
        summary: 'Change status, assignee (a team member id) or add a note',
        params: leadParams,
        body: patchBody,
      },
    },
    async (request) => {
      const result = await updateLead(storage, request.params.id, {
        expectedVersion: request.body.version,
        status: request.body.status,
        assignedTo: request.body.assignedTo,
        note: request.body.note,
        actor: principalOf(request).name,
      });
      // A closed or handed-over lead may free someone's capacity for a waiting lead.
      if (result.changed && (request.body.status !== undefined || request.body.assignedTo !== undefined)) {
        await assignWaitingLeads(storage, config.team.assignmentStrategy).catch((error: unknown) =>
          request.log.warn({ err: error }, 'Waiting leads not assigned now; the next sweep will'),
        );
      }
      return result;
    },
  );

  typed.post(
    '/api/admin/leads/:id/merge',
    {
      config: { ...limit, audit: { action: 'lead.merge', resource: 'lead' } },
      schema: {
        summary: 'Merge another lead into this one (dryRun: only say what would move)',
        params: leadParams,
        body: z.strictObject({
          from: z.uuid({ error: 'must be a lead id' }),
          dryRun: z.boolean().default(true),
        }),
      },
    },
    (request) =>
      mergeLeads(storage, request.params.id, request.body.from, {
        dryRun: request.body.dryRun,
        actor: principalOf(request).name,
      }),
  );

  typed.post(
    '/api/admin/leads/:id/notes',
    {
      config: { ...limit, audit: { action: 'lead.note', resource: 'lead' } },
      schema: {
        summary: 'Add a note to a lead',
        params: leadParams,
        body: z.strictObject({ note: requiredText(5000) }),
      },
    },
    async (request, reply) => {
      const entry = await addNote(storage, request.params.id, request.body.note, principalOf(request).name);
      return reply.code(201).send(entry);
    },
  );

  typed.post(
    '/api/admin/tasks/:taskId/complete',
    {
      config: { ...limit, audit: { action: 'task.complete', resource: 'task' } },
      schema: {
        summary: 'Complete a follow-up task',
        params: z.object({ taskId: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }),
        body: z.strictObject({}).nullish(),
      },
    },
    (request) => completeTask(storage, request.params.taskId, principalOf(request).name),
  );
}
