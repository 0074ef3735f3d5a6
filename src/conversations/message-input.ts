import { z } from 'zod';
import { requiredText } from '../validation/text-fields.js';

/**
 * What a chat message may contain: 1 to 10,000 characters after trimming, storable
 * (no NUL, no unpaired surrogates; src/validation/text-fields.ts). A transcript sent
 * with a lead holds at most 200 of them, each from the visitor or the bot. Markup is
 * kept as text: the widget and the dashboard render text, channels escape on output.
 */
export const MESSAGE_LIMITS = {
  text: 10_000,
  transcriptItems: 200,
} as const;

export const messageText = requiredText(MESSAGE_LIMITS.text);

export const transcriptItem = z.strictObject(
  {
    role: z.enum(['visitor', 'bot'], { error: 'must be visitor or bot' }),
    text: messageText,
    at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }).optional(),
  },
  {
    error: (issue: { code?: string }) =>
      issue.code === 'unrecognized_keys' ? 'is not a known field' : 'must be a JSON object',
  },
);

export const transcriptSchema = z
  .array(transcriptItem, { error: 'must be an array of messages' })
  .max(MESSAGE_LIMITS.transcriptItems, {
    error: `must have at most ${MESSAGE_LIMITS.transcriptItems} messages`,
  })
  .optional();

export type TranscriptItem = z.infer<typeof transcriptItem>;

/**
 * The largest transcript a valid lead can carry, in bytes, counted like
 * MAX_LEAD_BODY_BYTES (every UTF-16 unit as a 6-byte \uXXXX escape, plus keys and
 * punctuation). The chatbot route's body limit adds it, so no valid lead meets a 413.
 */
export const MAX_TRANSCRIPT_BYTES = (() => {
  const ESCAPED_UNIT = 6;
  const item = '{"role":"visitor","text":"","at":"2026-12-01T22:00:00.000+00:00"},'.length;
  const all = MESSAGE_LIMITS.transcriptItems * (item + MESSAGE_LIMITS.text * ESCAPED_UNIT);
  return Math.ceil(('"transcript":[],'.length + all) / 1024) * 1024;
})();
