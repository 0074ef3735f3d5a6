import { NotFoundError } from '../errors.js';
import { normalizePhone } from '../leads/lead-input.js';
import { SqlState, StorageQueryError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';

/**
 * GDPR erasure over the storage interface (SQL: erase_lead and erase_find_leads in
 * supabase/migrations/20261201225300_erasure_erase_lead.sql). What is erased, what
 * stays in the tombstone and why: docs/privacy.md.
 */
export type ErasureReason = 'request' | 'retention';

/** How many rows the erasure removes or redacts (the same numbers for a dry run). */
export interface ErasureCounts {
  leads: number;
  inquiries: number;
  timeline: number;
  tasks: number;
  events: number;
  pendingEvents: number;
  notificationLogs: number;
  crmContacts: number;
  auditEntries: number;
  /** Later migrations add tables (chat messages, ...) with their own counts. */
  [table: string]: number;
}

/** What stays of an erased lead. */
export interface Tombstone {
  id: string;
  source: string;
  status: string;
  createdAt: string;
  erasedAt: string | null;
  mergedInto: string | null;
}

export interface ErasureResult {
  dryRun: boolean;
  id: string;
  /** The lead and every lead merged with it: a merge says they are one person. */
  leadIds: string[];
  erased: boolean;
  alreadyErased: boolean;
  counts: ErasureCounts;
  erasedAt?: string;
  /** The lead.erased outbox events written (one per erased lead). */
  events?: number[];
  tombstone?: Tombstone;
}

export interface LeadMatch {
  id: string;
  source: string;
  status: string;
  createdAt: string;
  mergedInto: string | null;
  matched: 'email' | 'phone';
}

/** Erases one lead (with its merge group) in one transaction, or counts what would go. */
export async function eraseLead(
  storage: Storage,
  id: string,
  options: { actor: string; dryRun?: boolean; reason?: ErasureReason },
): Promise<ErasureResult> {
  try {
    return await storage.call<ErasureResult>('erase_lead', {
      p_lead_id: id,
      p_actor: options.actor,
      p_dry_run: options.dryRun ?? false,
      p_reason: options.reason ?? 'request',
    });
  } catch (error) {
    if (error instanceof StorageQueryError && error.code === SqlState.notFound) {
      throw new NotFoundError(`Lead ${id}`);
    }
    throw error;
  }
}

/** The email as intake stores it (trimmed, lower-case), or undefined when it is not one. */
export function normalizeEmailForLookup(raw: string): string | undefined {
  const value = raw.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+$/.test(value) ? value : undefined;
}

/** The phone as intake stores it (E.164 through libphonenumber, DEFAULT_PHONE_COUNTRY for local numbers). */
export function normalizePhoneForLookup(raw: string, defaultCountry?: string): string | undefined {
  return normalizePhone(raw.trim(), defaultCountry);
}

/** The leads that hold this email and/or phone (already normalised), oldest first. */
export function findLeadsByContact(
  storage: Storage,
  contact: { email?: string | undefined; phone?: string | undefined },
): Promise<LeadMatch[]> {
  return storage.call<LeadMatch[]>('erase_find_leads', {
    p_email: contact.email ?? null,
    p_phone: contact.phone ?? null,
  });
}
