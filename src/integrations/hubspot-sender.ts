import type { LeadErasedPayload } from '../events/event-types.js';
import type { Logger } from '../logger.js';
import { maskEmail } from '../logger.js';
import type { DeliveryEvent, NotificationSender, SendResult } from '../notifications/sender.js';
import { SendError } from '../notifications/sender.js';
import {
  createHubSpotClient,
  existingContactId,
  HubSpotError,
  type HubSpotSettings,
  nextDailyReset,
} from './hubspot-client.js';
import type { CrmLead, IntegrationStore } from './integration-store.js';

/**
 * CRM sync to HubSpot (FEATURE_CRM_ENABLED): a lead becomes a contact, matched by
 * email, and its status follows into HUBSPOT_STATUS_PROPERTY (default hs_lead_status).
 *
 * - lead.created / lead.returned: upsert. One waiting lead: create, and on 409
 *   "Contact already exists. Existing ID: N" update N instead. Several waiting at once
 *   (a backlog: the worker has many in flight): one batch upsert by email per ≤ 100.
 * - lead.status_changed: update the status property on the known contact (or upsert).
 * - The contact id is stored on the lead (crm_contacts) and shown in the lead detail.
 * - lead.erased: the contact is deleted for good (GDPR delete, by the id the event
 *   carries: the lead itself no longer has it). A 404 means it is gone already.
 *
 * A crash between HubSpot's answer and our record cannot make a second contact: the
 * retry creates again, gets the 409 with the existing id and updates that contact (the
 * batch upsert is keyed by email anyway).
 */
export const HUBSPOT_EVENT_TYPES = ['lead.created', 'lead.returned', 'lead.status_changed', 'lead.erased'];
const BATCH_MAX = 100;
const PAUSE_REFRESH_MS = 30_000;

export interface HubSpotSenderOptions extends HubSpotSettings {
  statusProperty: string;
  store: IntegrationStore;
  logger?: Logger | undefined;
}

/** Our statuses as hs_lead_status options; a custom property gets our status as is. */
const HS_LEAD_STATUS: Record<string, string> = {
  new: 'NEW',
  contacted: 'CONNECTED',
  qualified: 'OPEN_DEAL',
  won: 'OPEN_DEAL',
  lost: 'UNQUALIFIED',
};

interface Pending {
  lead: CrmLead & { email: string };
  properties: Record<string, string>;
  resolve(result: SendResult): void;
  reject(error: unknown): void;
}

export function createHubSpotSender(options: HubSpotSenderOptions): NotificationSender {
  const client = createHubSpotClient(options);
  const { store } = options;
  const statusValue = (status: string) =>
    options.statusProperty === 'hs_lead_status' ? (HS_LEAD_STATUS[status] ?? 'OPEN') : status;
  let pause: { until: number; reason: string } | undefined;
  let pauseReadAt = Number.NEGATIVE_INFINITY;
  const queue: Pending[] = [];
  let flushing = false;

  function propertiesOf(lead: CrmLead): Record<string, string> {
    const [first, ...rest] = (lead.name ?? '').trim().split(/\s+/);
    const properties: Record<string, string> = { [options.statusProperty]: statusValue(lead.status) };
    if (lead.email) properties.email = lead.email;
    if (first) properties.firstname = first;
    if (rest.length > 0) properties.lastname = rest.join(' ');
    if (lead.phone) properties.phone = lead.phone;
    return properties;
  }

  /** The DAILY pause, shared with other workers through the database (and shown by `leadrelay health`). */
  async function checkPause() {
    if (Date.now() - pauseReadAt > PAUSE_REFRESH_MS) {
      const stored = await store.pauseOf('hubspot');
      pause = stored ? { until: Date.parse(stored.pausedUntil), reason: stored.reason } : undefined;
      pauseReadAt = Date.now();
    }
    if (pause && pause.until > Date.now()) {
      throw new SendError(
        `HubSpot paused until ${new Date(pause.until).toISOString()}: ${pause.reason}`,
        'transient',
        { providerStatus: 429, retryAfterMs: pause.until - Date.now(), rateLimited: true },
      );
    }
  }

  async function onRateLimit(error: unknown) {
    if (!(error instanceof HubSpotError) || !error.daily) return error;
    const until = nextDailyReset();
    pause = { until: until.getTime(), reason: 'daily API limit reached (429 policyName DAILY)' };
    await store.setPause('hubspot', until, pause.reason);
    options.logger?.error(
      { channel: 'hubspot', pausedUntil: until.toISOString() },
      'HubSpot daily API limit reached: CRM sync paused until the reset',
    );
    return new SendError(`HubSpot daily limit reached: paused until ${until.toISOString()}`, 'transient', {
      providerStatus: 429,
      retryAfterMs: until.getTime() - Date.now(),
      rateLimited: true,
    });
  }

  async function upsertOne(item: Pending, signal: AbortSignal): Promise<string> {
    const { lead, properties } = item;
    if (lead.contactId) {
      await client.request('PATCH', `/crm/v3/objects/contacts/${lead.contactId}`, { properties }, signal);
      return lead.contactId;
    }
    try {
      const created = await client.request<{ id: string }>(
        'POST',
        '/crm/v3/objects/contacts',
        { properties },
        signal,
      );
      return String(created.id);
    } catch (error) {
      const existing = existingContactId(error);
      if (!existing) throw error;
      await client.request('PATCH', `/crm/v3/objects/contacts/${existing}`, { properties }, signal);
      return existing;
    }
  }

  async function upsertBatch(items: Pending[], signal: AbortSignal): Promise<Map<string, string>> {
    // One input per email: HubSpot refuses a batch that names the same id twice.
    const byEmail = new Map(items.map((item) => [item.lead.email, item.properties]));
    const answer = await client.request<{
      results?: { id: string; new?: boolean; properties?: { email?: string } }[];
    }>(
      'POST',
      '/crm/v3/objects/contacts/batch/upsert',
      { inputs: [...byEmail].map(([email, properties]) => ({ id: email, idProperty: 'email', properties })) },
      signal,
    );
    const ids = new Map<string, string>();
    for (const result of answer.results ?? []) {
      const email = result.properties?.email?.toLowerCase();
      if (email) ids.set(email, String(result.id));
    }
    return ids;
  }

  async function settle(items: { item: Pending; contactId: string }[], how: string) {
    await store.recordContacts(
      'hubspot',
      items.map(({ item, contactId }) => ({ conversationId: item.lead.id, contactId })),
    );
    for (const { item, contactId } of items) {
      item.resolve({ providerStatus: 200, note: `HubSpot contact ${contactId} (${how})` });
    }
  }

  /** Sends what is waiting: alone by create/update, together by batch upsert. */
  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, BATCH_MAX);
        const signal = AbortSignal.timeout(15_000);
        try {
          if (batch.length === 1) {
            const item = batch[0] as Pending;
            await settle([{ item, contactId: await upsertOne(item, signal) }], 'upserted');
            continue;
          }
          const ids = await upsertBatch(batch, signal);
          const found: { item: Pending; contactId: string }[] = [];
          for (const item of batch) {
            const contactId = ids.get(item.lead.email);
            if (contactId) found.push({ item, contactId });
            else
              item.reject(
                new SendError('HubSpot batch upsert returned no result for this lead', 'transient'),
              );
          }
          await settle(found, `batch upsert of ${batch.length}`);
        } catch (error) {
          const classified = await onRateLimit(error);
          for (const item of batch) item.reject(classified);
        }
      }
    } finally {
      flushing = false;
    }
  }

  /** GDPR delete of the erased lead's contact (its id travels in the lead.erased payload). */
  async function eraseContact(event: DeliveryEvent, signal: AbortSignal): Promise<SendResult> {
    const contactId = (event.payload as Partial<LeadErasedPayload> | null)?.crm?.hubspot;
    if (!contactId) return { note: 'lead was never synced to HubSpot: no contact to delete' };
    try {
      await client.request('POST', '/crm/v3/objects/contacts/gdpr-delete', { objectId: contactId }, signal);
    } catch (error) {
      if (error instanceof HubSpotError && error.details.status === 404) {
        return { providerStatus: 404, note: `HubSpot contact ${contactId} already deleted` };
      }
      throw await onRateLimit(error);
    }
    return { providerStatus: 204, note: `HubSpot contact ${contactId} deleted (GDPR delete)` };
  }

  function enqueue(
    lead: CrmLead & { email: string },
    properties: Record<string, string>,
    signal: AbortSignal,
  ) {
    return new Promise<SendResult>((resolve, reject) => {
      queue.push({ lead, properties, resolve, reject });
      signal.addEventListener('abort', () => reject(new SendError('HubSpot send timed out', 'transient')), {
        once: true,
      });
      // Let the sends the worker started in the same turn join this batch.
      setImmediate(() => void flush());
    });
  }

  return {
    channel: 'hubspot',
    // A send may wait behind a batch in flight (≤ 100 inputs, 15 s at most) before its own.
    timeoutMs: 35_000,
    accepts: (event: DeliveryEvent) =>
      HUBSPOT_EVENT_TYPES.includes(event.type) && event.conversationId !== null,
    async send(_alert, signal, event) {
      await checkPause();
      if (event.type === 'lead.erased') return eraseContact(event, signal);
      const lead = event.conversationId ? await store.leadForSync(event.conversationId, 'hubspot') : null;
      if (!lead) return { note: 'lead no longer exists: nothing to sync' };
      if (event.type === 'lead.status_changed' && lead.contactId) {
        const properties = { [options.statusProperty]: statusValue(lead.status) };
        try {
          await client.request('PATCH', `/crm/v3/objects/contacts/${lead.contactId}`, { properties }, signal);
        } catch (error) {
          throw await onRateLimit(error);
        }
        return {
          providerStatus: 200,
          note: `HubSpot contact ${lead.contactId}: ${options.statusProperty} updated`,
        };
      }
      if (!lead.email) {
        // Contacts are matched by email; creating one without it could duplicate on a retry.
        return { note: 'lead has no email: HubSpot contacts are matched by email, not synced' };
      }
      options.logger?.debug(
        { channel: 'hubspot', email: maskEmail(lead.email) },
        'Upserting HubSpot contact',
      );
      return enqueue({ ...lead, email: lead.email.toLowerCase() }, propertiesOf(lead), signal);
    },
  };
}
