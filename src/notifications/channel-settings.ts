import type { ChannelName } from './sender.js';

/**
 * The environment variables that turn each channel on (src/config.ts validates them),
 * for messages that tell an operator what to set: the worker's start-up warning, the
 * replay command's reminder, `leadrelay health`.
 */
export const CHANNEL_VARIABLES: Partial<Record<ChannelName, readonly string[]>> = {
  slack: ['SLACK_WEBHOOK_URL'],
  email: ['EMAIL_HOST', 'EMAIL_FROM', 'EMAIL_TO'],
  telegram: ['TELEGRAM_BOT_TOKEN', 'TELEGRAM_CHAT_ID'],
  sms: ['FEATURE_SMS_ENABLED', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM', 'SMS_TO'],
  whatsapp: [
    'FEATURE_WHATSAPP_ENABLED',
    'TWILIO_ACCOUNT_SID',
    'TWILIO_AUTH_TOKEN',
    'TWILIO_WHATSAPP_FROM',
    'TWILIO_WHATSAPP_CONTENT_SID',
    'WHATSAPP_TO',
  ],
  hubspot: ['FEATURE_CRM_ENABLED', 'HUBSPOT_ACCESS_TOKEN'],
};

/** "SLACK_WEBHOOK_URL" / "EMAIL_HOST + EMAIL_FROM + EMAIL_TO": what to set for one channel. */
export function channelVariables(channel: string): string {
  return (CHANNEL_VARIABLES[channel as ChannelName] ?? [`the ${channel} settings`]).join(' + ');
}

/** One sentence naming what to set for each of `channels`. */
export function howToConfigure(channels: readonly string[]): string {
  return channels.map((channel) => `${channel}: ${channelVariables(channel)}`).join('; ');
}

/**
 * A worker that starts with no channel configured stores every lead's alerts as
 * `skipped`: say so loudly, name what to set, and how to send those alerts later.
 * (It still starts: the embedded `npm start` must work before any secret is entered.)
 */
export function warnIfNoChannel(
  logger: { warn(object: object, message: string): void },
  configured: readonly string[],
  known: readonly string[],
): void {
  if (configured.length > 0) return;
  logger.warn(
    { set: Object.fromEntries(known.map((channel) => [channel, channelVariables(channel)])) },
    `No notification channel is configured: leads are stored but nobody is told (alerts are recorded as skipped). ` +
      `Set ${howToConfigure(known)}; then send what was skipped with ` +
      '`leadrelay replay --channel <name> --since <ISO time>`',
  );
}
