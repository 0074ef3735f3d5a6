import type { Logger } from '../logger.js';
import { maskPhone } from '../logger.js';
import type { LeadAlert, NotificationSender } from '../notifications/sender.js';
import type { IntegrationStore } from './integration-store.js';
import { createOptOutList } from './opt-out-list.js';
import {
  createTwilioMessage,
  sendToEach,
  TWILIO_UNSUBSCRIBED,
  type TwilioSettings,
  verdict,
} from './twilio-client.js';

export interface TwilioWhatsAppOptions extends TwilioSettings {
  /** TWILIO_WHATSAPP_FROM (E.164); the Messaging Service is used when absent. */
  from?: string | undefined;
  /** TWILIO_WHATSAPP_CONTENT_SID: the approved template (HX…). */
  contentSid: string;
  to: readonly string[];
  store?: IntegrationStore | undefined;
  logger?: Logger | undefined;
}

/** Template variables are plain text: no newlines or tabs (WhatsApp refuses them), short. */
function variable(value: string | null, fallback: string, max = 200): string {
  const text = (value ?? '')
    .replace(/[\n\r\t]+/g, ' ')
    .replace(/ {4,}/g, '   ')
    .trim();
  return [...(text || fallback)].slice(0, max).join('');
}

/**
 * The approved template's variables, in a fixed order the template is written for:
 * {{1}} headline, {{2}} name, {{3}} intent, {{4}} phone or email, {{5}} link.
 */
export function whatsappVariables(alert: LeadAlert): Record<string, string> {
  const headline =
    alert.kind === 'lead.sla_breached'
      ? 'SLA breached'
      : alert.kind === 'webhook.failing'
        ? 'Webhook failing'
        : 'New lead';
  return {
    '1': headline,
    '2': variable(alert.name, 'Unnamed lead'),
    '3': variable(alert.intent, 'not given'),
    '4': variable(alert.phone ?? alert.email, 'not given'),
    '5': alert.leadUrl,
  };
}

/**
 * WhatsApp alerts through Twilio (FEATURE_WHATSAPP_ENABLED): `whatsapp:+E.164`
 * addresses and always an approved Content template, because a sales rep's 24-hour
 * customer-service window is usually closed and a free-form message would fail with
 * 63016 (classified permanent, with a log that says to configure a template).
 */
export function createTwilioWhatsAppSender(options: TwilioWhatsAppOptions): NotificationSender {
  const optOuts = createOptOutList('whatsapp', options.store);
  const sender: Record<string, string> = options.from
    ? { From: `whatsapp:${options.from}` }
    : { MessagingServiceSid: options.messagingServiceSid ?? '' };
  return {
    channel: 'whatsapp',
    async send(alert, signal) {
      const { allowed, stopped } = await optOuts.filter(options.to);
      const params = {
        ...sender,
        ContentSid: options.contentSid,
        ContentVariables: JSON.stringify(whatsappVariables(alert)),
      };
      const outcomes = await sendToEach(
        allowed,
        (to) => createTwilioMessage(options, { ...params, To: `whatsapp:${to}` }, signal),
        signal,
      );
      for (const outcome of outcomes) {
        if (outcome.error?.twilioCode !== TWILIO_UNSUBSCRIBED) continue;
        await optOuts.add(outcome.to, TWILIO_UNSUBSCRIBED);
        options.logger?.warn(
          { channel: 'whatsapp', to: maskPhone(outcome.to) },
          'WhatsApp recipient unsubscribed (Twilio 21610): this number gets no more WhatsApp alerts',
        );
      }
      return verdict('WhatsApp', outcomes, stopped);
    },
  };
}
