import type { Storage } from '../storage/storage.js';

/**
 * Typed calls to the integrations' SQL functions
 * (supabase/migrations/20261201000500_integrations.sql): opt-outs, pauses, CRM
 * contact ids, webhook endpoints for the worker, and the health summary.
 */
export interface ActiveWebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  secret: string;
  createdAt: string;
}

export interface CrmLead {
  id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  status: string;
  contactId: string | null;
}

export interface IntegrationHealth {
  pauses: { channel: string; pausedUntil: string; reason: string }[];
  optOuts: Record<string, number>;
  webhooks: { total: number; disabled: number; failing: number };
}

export function integrationStore(storage: Storage) {
  return {
    optOuts: (channel: string) => storage.call<string[]>('integration_opt_outs', { p_channel: channel }),
    recordOptOut: (channel: string, phone: string, code: number) =>
      storage.call('integration_record_opt_out', { p_channel: channel, p_phone: phone, p_code: code }),
    setPause: (channel: string, until: Date | null, reason: string) =>
      storage.call('integration_set_pause', {
        p_channel: channel,
        p_until: until ? until.toISOString() : null,
        p_reason: reason,
      }),
    pauseOf: (channel: string) =>
      storage.call<{ pausedUntil: string; reason: string } | null>('integration_pause_of', {
        p_channel: channel,
      }),
    leadForSync: (conversationId: string, provider: string) =>
      storage.call<CrmLead | null>('crm_lead_for_sync', {
        p_conversation_id: conversationId,
        p_provider: provider,
      }),
    recordContact: (conversationId: string, provider: string, contactId: string) =>
      storage.call('crm_record_contact', {
        p_conversation_id: conversationId,
        p_provider: provider,
        p_contact_id: contactId,
      }),
    recordContacts: (provider: string, links: { conversationId: string; contactId: string }[]) =>
      storage.call('crm_record_contacts', { p_provider: provider, p_links: { links } }),
    crmLinks: (conversationId: string) =>
      storage.call<Record<string, { contactId: string; syncedAt: string }>>('crm_links_for_lead', {
        p_conversation_id: conversationId,
      }),
    assigneePhone: (memberId: string) =>
      storage.call<string | null>('integration_assignee_phone', { p_member_id: memberId }),
    activeWebhookEndpoints: () => storage.call<ActiveWebhookEndpoint[]>('webhook_active_endpoints'),
    health: () => storage.call<IntegrationHealth>('integration_health'),
  };
}

export type IntegrationStore = ReturnType<typeof integrationStore>;
