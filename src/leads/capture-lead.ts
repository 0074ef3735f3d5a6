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
 * in one transaction (the capture_lead SQL function).
 */
export async function captureLead(
  storage: Storage,
  lead: NormalizedLead,
  options: CaptureOptions,
): Promise<CaptureResult> {
  try {
    return await storage.call<CaptureResult>('capture_lead', {
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
}
