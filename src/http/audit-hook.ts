import type { FastifyReply, FastifyRequest } from 'fastify';
import { recordAudit } from '../audit/audit-store.js';
import type { Storage } from '../storage/storage.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The audit action of a mutating admin route (`lead.update`) and the kind of
     * resource it changes; false for a POST that changes nothing (the stream token).
     * Routes without it are still audited, under `<method> <url>`.
     */
    audit?: { action: string; resource: string } | false;
  }
}

/** Body fields whose values are safe to keep in the audit log (no contact data, no free text). */
const SAFE_VALUES = new Set([
  'status',
  'role',
  'active',
  'assignedTo',
  'capacity',
  'dryRun',
  'from',
  'version',
  'upTo',
  'action',
]);

function auditDetails(body: unknown, errorCode: string | undefined): Record<string, unknown> {
  // A refused body was not validated: keep only its field names.
  const details: Record<string, unknown> = {};
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const fields = Object.keys(body);
    details.fields = fields;
    for (const field of fields) {
      const value = (body as Record<string, unknown>)[field];
      if (!errorCode && SAFE_VALUES.has(field) && (value === null || typeof value !== 'object')) {
        details[field] = value;
      }
    }
  }
  if (errorCode) details.error = errorCode;
  return details;
}

function parsed(payload: unknown): Record<string, unknown> | undefined {
  if (typeof payload !== 'string' || payload.length > 65_536) return undefined;
  try {
    const value = JSON.parse(payload) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * onSend hook for the admin scope: writes the audit row of every mutating request by
 * an authenticated principal before the answer leaves, whatever the outcome (403,
 * 409, 422 and validation failures included). Requests without a valid key have no
 * principal to name; they are throttled by the rate limit and logged instead.
 *
 * The row is written after the change commits, not inside it: a failure to write it
 * is logged loudly and does not undo a change the caller was already told about.
 */
export function auditHook(storage: Storage) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') {
      return payload;
    }
    const config = request.routeOptions.config.audit;
    if (config === false || !request.principal) return payload;
    const status = reply.statusCode;
    const answer = parsed(payload);
    const params = (request.params ?? {}) as Record<string, unknown>;
    const member = answer?.member as Record<string, unknown> | undefined;
    const resourceId =
      params.id ?? params.taskId ?? (status < 300 ? (member?.id ?? answer?.id ?? null) : null);
    try {
      await recordAudit(storage, {
        principal: request.principal,
        action:
          config?.action ?? `${request.method.toLowerCase()} ${request.routeOptions.url ?? request.url}`,
        resourceType: config?.resource ?? null,
        resourceId: resourceId === null || resourceId === undefined ? null : String(resourceId),
        status: status < 400 ? 'success' : 'failure',
        httpStatus: status,
        details: auditDetails(request.body, status >= 400 ? String(answer?.error ?? status) : undefined),
        clientIp: request.ip ?? null,
        requestId: request.id,
      });
    } catch (error) {
      request.log.error({ err: error, route: request.routeOptions.url }, 'Audit log write failed');
    }
    return payload;
  };
}
