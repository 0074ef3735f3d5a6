import type { ClaimedEvent, EventResult } from '../outbox/outbox-store.js';
import { toError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import { collapseMessageAlert } from './conversation-store.js';

/**
 * The worker's one step for message.received (a visitor's follow-up): before the
 * event is formatted and sent, chat_alert_collapse fixes which messages its alert
 * covers (every visitor message since the conversation's previous alert) and starts
 * the MESSAGE_ALERT_COOLDOWN_SECONDS window; its answer becomes the payload the
 * channels format ("3 new chat messages", the latest texts, the current assignee).
 * The SQL does the deciding (see the migration), so this is safe with any number of
 * workers and across crashes: the same event always gets the same answer.
 *
 * - Every other event goes straight to `deliver`.
 * - Nothing to cover (the messages went out with another alert): delivered, no send.
 * - The collapse call failed (database unreachable): the event stays pending and is
 *   retried like a failed send, after `retryInMs`.
 */
export async function deliverWithConversationAlerts(
  storage: Storage,
  event: ClaimedEvent,
  deliver: (event: ClaimedEvent) => Promise<EventResult>,
  retryInMs: (attempt: number) => number,
): Promise<EventResult> {
  if (event.eventType !== 'message.received') return deliver(event);
  const base = { eventId: event.id, attempt: event.attempts };
  let payload: Awaited<ReturnType<typeof collapseMessageAlert>>;
  try {
    payload = await collapseMessageAlert(storage, event.id);
  } catch (error) {
    return {
      ...base,
      result: 'pending',
      retryInMs: retryInMs(event.attempts),
      error: `conversation alert: ${toError(error).message}`,
      logs: [],
    };
  }
  if (!payload.messageCount) return { ...base, result: 'delivered', logs: [] };
  return deliver({ ...event, payload });
}
