import type { Logger } from '../logger.js';
import { maskPhone } from '../logger.js';
import type { DeliveryEvent, NotificationSender } from '../notifications/sender.js';
import type { IntegrationStore } from './integration-store.js';
import { createOptOutList } from './opt-out-list.js';
import { formatSms } from './sms-text.js';
import {
  createTwilioMessage,
  sendToEach,
  TWILIO_UNSUBSCRIBED,
  type TwilioSettings,
  verdict,
} from './twilio-client.js';

const E164 = /^\+[1-9]\d{6,14}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TwilioSmsOptions extends TwilioSettings {
  /** TWILIO_FROM; TWILIO_MESSAGING_SERVICE_SID is used when absent. */
  from?: string | undefined;
  /** SMS_TO: E.164 numbers. */
  to: readonly string[];
  store?: IntegrationStore | undefined;
  logger?: Logger | undefined;
}

/**
 * SMS alerts through Twilio (FEATURE_SMS_ENABLED). The team's alerts only (new lead,
 * SLA escalation, failing webhook), to every SMS_TO number and the lead's assignee
 * (when team members exist and the assignee has a phone) that has not unsubscribed.
 * A number that answers 21610 is stopped for good: stored, logged (masked), counted
 * in `leadrelay health`, and never texted again.
 */
export function createTwilioSmsSender(options: TwilioSmsOptions): NotificationSender {
  const optOuts = createOptOutList('sms', options.store);
  const sender: Record<string, string> = options.from
    ? { From: options.from }
    : { MessagingServiceSid: options.messagingServiceSid ?? '' };
  /** SMS_TO, plus the lead's assignee when the event names one with a phone (team members). */
  async function recipients(event: DeliveryEvent): Promise<string[]> {
    const memberId = (event.payload as { assignee?: { id?: unknown } } | null)?.assignee?.id;
    if (!options.store || typeof memberId !== 'string' || !UUID.test(memberId)) return [...options.to];
    const phone = await options.store.assigneePhone(memberId);
    return phone && E164.test(phone) && !options.to.includes(phone)
      ? [...options.to, phone]
      : [...options.to];
  }
  return {
    channel: 'sms',
    async send(alert, signal, event) {
      const { allowed, stopped } = await optOuts.filter(await recipients(event));
      const body = formatSms(alert);
      const outcomes = await sendToEach(
        allowed,
        (to) => createTwilioMessage(options, { To: to, Body: body, ...sender }, signal),
        signal,
      );
      for (const outcome of outcomes) {
        if (outcome.error?.twilioCode !== TWILIO_UNSUBSCRIBED) continue;
        await optOuts.add(outcome.to, TWILIO_UNSUBSCRIBED);
        options.logger?.warn(
          { channel: 'sms', to: maskPhone(outcome.to) },
          'SMS recipient unsubscribed (Twilio 21610): this number gets no more SMS alerts',
        );
      }
      return verdict('SMS', outcomes, stopped);
    },
  };
}
