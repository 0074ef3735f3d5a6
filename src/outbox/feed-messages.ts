import type { FeedMessage } from '../admin/live-feed.js';
import type { ClaimedEvent, EventResult, RecordOutcome } from './outbox-store.js';

/**
 * What the admin live feed hears about a recorded batch: one `notification` pointer per
 * channel attempt and one `event.delivered` / `event.dead` per event that reached its
 * outcome. Pointers only (ids, channel, status): the dashboard fetches the rest.
 * Events whose lease was lost were not recorded by us, so they are not announced.
 */
export function feedMessages(
  events: ClaimedEvent[],
  results: EventResult[],
  outcome: RecordOutcome,
): FeedMessage[] {
  const byId = new Map(events.map((event) => [event.id, event]));
  const lost = new Set(outcome.lost);
  const messages: FeedMessage[] = [];
  for (const result of results) {
    if (lost.has(result.eventId)) continue;
    const conversationId = byId.get(result.eventId)?.conversationId ?? null;
    for (const log of result.logs) {
      messages.push({
        kind: 'notification',
        eventId: result.eventId,
        conversationId,
        channel: log.channel,
        status: log.status,
      });
    }
  }
  for (const { id, outcome: state } of outcome.recorded) {
    if (state === 'retry') continue;
    const event = byId.get(id);
    messages.push({
      kind: `event.${state}`,
      id,
      eventType: event?.eventType,
      conversationId: event?.conversationId ?? null,
    });
  }
  return messages;
}
