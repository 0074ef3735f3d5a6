import { createHash } from 'node:crypto';
import type { TranscriptItem } from '../conversations/message-input.js';
import { IdempotencyKeyReusedError } from '../errors.js';
import { SqlState, StorageQueryError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import type { NormalizedLead } from './lead-input.js';

export interface CaptureResult {
  id: string;
  eventId: number | null;
  /** false when an idempotent repeat returned the original lead, or for a returning lead. */
  created: boolean;
  /** true when the submission became a new inquiry on an open lead with the same contact. */
  returning: boolean;
  /** true for an idempotent repeat: nothing new was written. */
  replayed: boolean;
  assigneeId?: string | null;
  createdAt: string;
  slaDueAt: string | null;
}

export interface CaptureOptions {
  idempotencyKey?: string | undefined;
  slaMinutes: number;
  /**
   * round_robin, least_open or none. Callers outside intake (fixtures, tools) get
   * none unless they ask: the API passes ASSIGNMENT_STRATEGY.
   */
  assignment?: 'round_robin' | 'least_open' | 'none';
  /** Days an open lead catches a returning visitor's submission; 0 (off) unless given (the API passes DUPLICATE_WINDOW_DAYS). */
  duplicateWindowDays?: number;
  /** The first-response deadline when business hours apply (computed by the caller). */
  slaDueAt?: Date | undefined;
  /** The clock for working hours and the duplicate window (tests move it); the database's when absent. */
  now?: Date | undefined;
  /**
   * The chatbot's conversation (issue 14): its transcript, stored in the same
   * transaction, and the hash of the conversation token to issue (null: none, e.g.
   * CHAT_DISABLED). Through capture_lead_with_conversation, which wraps capture_lead.
   */
  conversation?: { transcript: readonly TranscriptItem[]; tokenHash: string | null; tokenTtlDays: number };
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
    const { conversation } = options;
    // A transcript is part of the request: a repeat with another transcript is another request.
    const fingerprinted = conversation?.transcript.length
      ? { ...lead, transcript: conversation.transcript }
      : lead;
    const args = {
      p_lead: lead,
      p_idempotency_key: options.idempotencyKey ?? null,
      p_fingerprint: options.idempotencyKey ? leadFingerprint(fingerprinted as NormalizedLead) : null,
      p_sla_minutes: options.slaMinutes,
      p_options: {
        assignment: options.assignment ?? 'none',
        duplicateWindowDays: options.duplicateWindowDays ?? 0,
        slaDueAt: options.slaDueAt?.toISOString() ?? null,
        now: options.now?.toISOString() ?? null,
      },
    };
    type Raw = Omit<CaptureResult, 'replayed'> & { replayed?: boolean };
    const raw = conversation
      ? await storage.call<Raw>('capture_lead_with_conversation', {
          ...args,
          // An object, not a bare array: node-postgres would send a JS array as a Postgres array.
          p_transcript: { items: conversation.transcript },
          p_token_hash: conversation.tokenHash,
          p_token_ttl_days: conversation.tokenTtlDays,
        })
      : await storage.call<Raw>('capture_lead', args);
    const returning = raw.returning === true;
    result = { ...raw, returning, replayed: raw.replayed ?? (!raw.created && !returning) };
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
  } else if (result.returning && !result.replayed && result.eventId !== null) {
    storage
      .call('announce_lead_event', { p_event_id: result.eventId, p_conversation_id: result.id })
      .catch((error: unknown) => options.onAnnounceError?.(error));
  }
  return result;
}
