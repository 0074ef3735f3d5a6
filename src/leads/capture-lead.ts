import { createHash } from 'node:crypto';
import { IdempotencyKeyReusedError } from '../errors.js';
import { SqlState, StorageQueryError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import type { NormalizedLead } from './lead-input.js';

export interface CaptureResult {
  id: string;
  eventId: number | null;
  /** false when an idempotent repeat returned the original lead. */
  created: boolean;
  createdAt: string;
  slaDueAt: string | null;
}

export interface CaptureOptions {
  idempotencyKey?: string | undefined;
  slaMinutes: number;
  /**
   * Called if the post-commit wake-up fails. The lead is stored regardless; workers
   * find it at their next poll.
   */
  onAnnounceError?: (error: unknown) => void;
}

/** A stable hash of the normalised lead: the same request always hashes the same. */
export function leadFingerprint(lead: NormalizedLead): string {
  return createHash('sha256').update(canonicalJson(lead)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Stores the lead, its lead.created event, its timeline entry and its follow-up task
 * in one transaction (the capture_lead SQL function), then wakes workers and
 * dashboards. The wake-up is a separate statement after commit (see migration
 * `announce_lead_created` in the foundation migration for why) and is not awaited: the caller's answer does not wait on it.
 */
export async function captureLead(
  storage: Storage,
  lead: NormalizedLead,
  options: CaptureOptions,
): Promise<CaptureResult> {
  let result: CaptureResult;
  try {
    result = await storage.call<CaptureResult>('capture_lead', {
      p_lead: lead,
      p_idempotency_key: options.idempotencyKey ?? null,
      p_fingerprint: options.idempotencyKey ? leadFingerprint(lead) : null,
      p_sla_minutes: options.slaMinutes,
    });
  } catch (error) {
    if (error instanceof StorageQueryError && error.code === SqlState.idempotencyKeyReused) {
      throw new IdempotencyKeyReusedError();
    }
    throw error;
  }
  if (result.created && result.eventId !== null) {
    storage
      .call('announce_lead_created', { p_event_id: result.eventId, p_conversation_id: result.id })
      .catch((error: unknown) => options.onAnnounceError?.(error));
  }
  return result;
}
