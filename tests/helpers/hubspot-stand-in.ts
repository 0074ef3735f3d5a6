import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_SECRETS } from './secrets.js';

/**
 * A stand-in for HubSpot's CRM v3 contacts API on 127.0.0.1, following its documented
 * behaviour (developers.hubspot.com/docs/api-reference/.../contacts):
 *
 * - Bearer auth with the private app token; otherwise 401 INVALID_AUTHENTICATION.
 * - `POST /crm/v3/objects/contacts`: email is unique; a known one answers 409 with
 *   HubSpot's real body `{"status":"error","message":"Contact already exists. Existing
 *   ID: N","correlationId":…,"category":"CONFLICT"}`.
 * - `PATCH /crm/v3/objects/contacts/{id}`: 404 OBJECT_NOT_FOUND for an unknown id.
 * - `POST /crm/v3/objects/contacts/batch/upsert`: ≤ 100 inputs `{id, idProperty:
 *   "email", properties}`; each result carries `new` (created or updated).
 * - `DELETE /crm/v3/objects/contacts/{id}`: archive (HubSpot keeps it restorable for 90
 *   days: it moves to `archived`); 204 No Content, also for an id it does not know.
 * - `POST /crm/v3/objects/contacts/gdpr-delete` `{objectId, idProperty?}`: permanent
 *   deletion, 204 No Content. By id (no idProperty), an unknown id is 404
 *   OBJECT_NOT_FOUND; with idProperty "email" an unknown address is added to the
 *   blocklist (`gdprBlocklist`) and answered 204, as documented.
 * - Rate limits: a rolling 10-second window of `windowMax` requests and a daily
 *   budget. Every answer has X-HubSpot-RateLimit-Max / -Remaining /
 *   -Interval-Milliseconds / -Daily / -Daily-Remaining; over a limit it answers 429
 *   `{"status":"error","errorType":"RATE_LIMIT","policyName":"SECONDLY"|"DAILY",…}`.
 */
export interface HubSpotContact {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export interface HubSpotRequest {
  method: string;
  path: string;
  body: unknown;
  status: number;
}

export interface HubSpotStandIn {
  url: string;
  token: string;
  contacts: Map<string, HubSpotContact>;
  /** Contacts removed by DELETE (archive): restorable in HubSpot, so still personal data there. */
  archived: Map<string, HubSpotContact>;
  /** Ids permanently deleted by gdpr-delete. */
  gdprDeleted: string[];
  /** Emails a gdpr-delete by email did not find: HubSpot blocks them from being used again. */
  gdprBlocklist: string[];
  requests: HubSpotRequest[];
  /** Requests allowed per 10-second window (HubSpot: 100 or 190 by tier). */
  windowMax: number;
  /** The rolling window's length: HubSpot's is 10 s; tests may shorten it. */
  windowMs: number;
  dailyMax: number;
  /**
   * Called after a write is applied and before its answer is sent; a promise that
   * never resolves holds the answer (a worker killed after HubSpot acted but before
   * it learnt of it).
   */
  beforeAnswer: (request: HubSpotRequest) => Promise<void> | void;
  byEmail(email: string): HubSpotContact | undefined;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startHubSpotStandIn(): Promise<HubSpotStandIn> {
  let nextId = 1001;
  const hits: number[] = [];
  let dailyUsed = 0;
  const standIn: HubSpotStandIn = {
    url: '',
    token: TEST_SECRETS.hubspotAccessToken,
    contacts: new Map(),
    archived: new Map(),
    gdprDeleted: [],
    gdprBlocklist: [],
    requests: [],
    windowMax: 100,
    windowMs: 10_000,
    dailyMax: 250_000,
    beforeAnswer: () => {},
    byEmail: (email) =>
      [...standIn.contacts.values()].find((c) => c.properties.email === email.toLowerCase()),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  function upsertContact(properties: Record<string, string>, existing?: HubSpotContact) {
    const now = new Date().toISOString();
    if (existing) {
      Object.assign(existing.properties, properties);
      existing.updatedAt = now;
      return existing;
    }
    const contact: HubSpotContact = {
      id: String(nextId++),
      properties: { ...properties, ...(properties.email ? { email: properties.email.toLowerCase() } : {}) },
      createdAt: now,
      updatedAt: now,
    };
    standIn.contacts.set(contact.id, contact);
    return contact;
  }

  const server: Server = createServer(async (request, response) => {
    const raw = await readBody(request);
    const path = (request.url ?? '').split('?')[0] ?? '';
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {}
    const record: HubSpotRequest = { method: request.method ?? '', path, body, status: 0 };
    standIn.requests.push(record);

    const now = Date.now();
    while (hits.length > 0 && (hits[0] ?? 0) <= now - standIn.windowMs) hits.shift();
    const headers = () => ({
      'content-type': 'application/json;charset=utf-8',
      'x-hubspot-ratelimit-max': String(standIn.windowMax),
      'x-hubspot-ratelimit-remaining': String(Math.max(0, standIn.windowMax - hits.length)),
      'x-hubspot-ratelimit-interval-milliseconds': String(standIn.windowMs),
      'x-hubspot-ratelimit-daily': String(standIn.dailyMax),
      'x-hubspot-ratelimit-daily-remaining': String(Math.max(0, standIn.dailyMax - dailyUsed)),
    });
    const answer = async (status: number, payload: unknown, write = false) => {
      record.status = status;
      if (write) await standIn.beforeAnswer(record);
      if (status === 204) {
        const { 'content-type': _type, ...rest } = headers();
        response.writeHead(204, rest);
        response.end();
        return;
      }
      response.writeHead(status, headers());
      response.end(JSON.stringify(payload));
    };
    const errorBody = (message: string, category: string) => ({
      status: 'error',
      message,
      correlationId: randomUUID(),
      category,
    });

    if (request.headers.authorization !== `Bearer ${standIn.token}`) {
      return answer(401, errorBody('Authentication credentials not found.', 'INVALID_AUTHENTICATION'));
    }
    if (dailyUsed >= standIn.dailyMax || hits.length >= standIn.windowMax) {
      const policyName = dailyUsed >= standIn.dailyMax ? 'DAILY' : 'SECONDLY';
      return answer(429, {
        status: 'error',
        message: `You have reached your ${policyName.toLowerCase()} limit.`,
        errorType: 'RATE_LIMIT',
        correlationId: randomUUID(),
        policyName,
        groupName: 'publicapi:private-app:contacts',
      });
    }
    hits.push(now);
    dailyUsed++;

    const props = ((body as { properties?: Record<string, string> } | null)?.properties ?? {}) as Record<
      string,
      string
    >;
    if (request.method === 'POST' && path === '/crm/v3/objects/contacts') {
      const existing = props.email ? standIn.byEmail(props.email) : undefined;
      if (existing) {
        return answer(409, errorBody(`Contact already exists. Existing ID: ${existing.id}`, 'CONFLICT'));
      }
      const contact = upsertContact(props);
      return answer(201, { ...contact, archived: false }, true);
    }
    const patch = /^\/crm\/v3\/objects\/contacts\/(\d+)$/.exec(path);
    if (request.method === 'PATCH' && patch) {
      const contact = standIn.contacts.get(patch[1] ?? '');
      if (!contact) return answer(404, errorBody('resource not found', 'OBJECT_NOT_FOUND'));
      if (props.email && standIn.byEmail(props.email) && standIn.byEmail(props.email) !== contact) {
        return answer(
          409,
          errorBody(`Contact already exists. Existing ID: ${standIn.byEmail(props.email)?.id}`, 'CONFLICT'),
        );
      }
      return answer(200, { ...upsertContact(props, contact), archived: false }, true);
    }
    if (request.method === 'DELETE' && patch) {
      const contact = standIn.contacts.get(patch[1] ?? '');
      if (contact) {
        standIn.contacts.delete(contact.id);
        standIn.archived.set(contact.id, contact);
      }
      return answer(204, null, true);
    }
    if (request.method === 'POST' && path === '/crm/v3/objects/contacts/gdpr-delete') {
      const input = (body ?? {}) as { objectId?: unknown; idProperty?: unknown };
      if (typeof input.objectId !== 'string' || input.objectId === '') {
        return answer(400, errorBody('objectId is required', 'VALIDATION_ERROR'));
      }
      if (input.idProperty !== undefined && input.idProperty !== 'email') {
        return answer(
          400,
          errorBody('idProperty must be a unique property such as email', 'VALIDATION_ERROR'),
        );
      }
      const contact =
        input.idProperty === 'email'
          ? standIn.byEmail(input.objectId)
          : (standIn.contacts.get(input.objectId) ?? standIn.archived.get(input.objectId));
      if (!contact) {
        if (input.idProperty !== 'email')
          return answer(404, errorBody('resource not found', 'OBJECT_NOT_FOUND'));
        standIn.gdprBlocklist.push(input.objectId.toLowerCase());
        return answer(204, null, true);
      }
      standIn.contacts.delete(contact.id);
      standIn.archived.delete(contact.id);
      standIn.gdprDeleted.push(contact.id);
      return answer(204, null, true);
    }
    if (request.method === 'POST' && path === '/crm/v3/objects/contacts/batch/upsert') {
      const inputs = (
        body as { inputs?: { id?: string; idProperty?: string; properties?: Record<string, string> }[] }
      )?.inputs;
      if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > 100) {
        return answer(400, errorBody('inputs must hold between 1 and 100 items', 'VALIDATION_ERROR'));
      }
      const ids = inputs.map((input) => input.id?.toLowerCase());
      if (new Set(ids).size !== ids.length) {
        return answer(400, errorBody('Duplicate IDs found in batch input', 'VALIDATION_ERROR'));
      }
      if (inputs.some((input) => input.idProperty !== 'email' || !input.id)) {
        return answer(
          400,
          errorBody('idProperty must be a unique property such as email', 'VALIDATION_ERROR'),
        );
      }
      const startedAt = new Date().toISOString();
      const results = inputs.map((input) => {
        const existing = standIn.byEmail(input.id ?? '');
        const contact = upsertContact(
          { ...input.properties, email: (input.id ?? '').toLowerCase() },
          existing,
        );
        return { ...contact, archived: false, new: !existing };
      });
      return answer(
        200,
        { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() },
        true,
      );
    }
    return answer(404, errorBody('resource not found', 'OBJECT_NOT_FOUND'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standIn;
}
