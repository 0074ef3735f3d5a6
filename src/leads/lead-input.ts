import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import { z } from 'zod';
import {
  MAX_TRANSCRIPT_BYTES,
  type TranscriptItem,
  transcriptSchema,
} from '../conversations/message-input.js';
import {
  blankToUndefined,
  isStorableJson,
  optionalText,
  requiredText,
  STORABLE_TEXT_ERROR,
} from '../validation/text-fields.js';

/**
 * What a lead may contain, and how it is normalised before it is stored: strings
 * trimmed, phones in E.164, emails lower-cased. Over-long values are refused with
 * the field's name, never cut. Markup is kept as text: each channel escapes on output.
 */
export const LIMITS = {
  name: 120,
  phoneInput: 40,
  email: 254,
  intent: 64,
  message: 5000,
  url: 2048,
  utm: 200,
  metadataBytes: 4096,
  idempotencyKey: 255,
  honeypot: 1000,
  fieldName: 64,
} as const;

/** Every text field of the chatbot body with its limit (the contact form's are a subset). */
const CHATBOT_TEXT_LIMITS = {
  customerName: LIMITS.name,
  customerPhone: LIMITS.phoneInput,
  customerEmail: LIMITS.email,
  intent: LIMITS.intent,
  message: LIMITS.message,
  pageUrl: LIMITS.url,
  utmSource: LIMITS.utm,
  utmMedium: LIMITS.utm,
  utmCampaign: LIMITS.utm,
  utmTerm: LIMITS.utm,
  utmContent: LIMITS.utm,
  idempotencyKey: LIMITS.idempotencyKey,
  ['h'.repeat(LIMITS.fieldName)]: LIMITS.honeypot,
};

/**
 * The largest body a valid lead can take, in bytes, derived from the limits above:
 * every text field at its limit with each UTF-16 unit written as a \uXXXX escape
 * (6 bytes; Python's json.dumps, for one, escapes all non-ASCII by default), the
 * metadata's 4 KB likewise, plus keys and punctuation, rounded up to a KiB.
 * BODY_LIMIT_BYTES defaults to it (and may not be lower), so no valid lead meets a 413.
 */
export const MAX_LEAD_BODY_BYTES = (() => {
  const ESCAPED_UNIT = 6;
  const fields = Object.entries(CHATBOT_TEXT_LIMITS).reduce(
    (sum, [key, max]) => sum + `"${key}":"",`.length + max * ESCAPED_UNIT,
    0,
  );
  const metadata = '"metadata":'.length + LIMITS.metadataBytes * ESCAPED_UNIT;
  return Math.ceil((2 + fields + metadata) / 1024) * 1024;
})();

/**
 * The chatbot route's body limit: the largest valid lead plus the largest valid
 * transcript (200 messages of 10,000 characters, counted the same way), so no valid
 * chatbot lead meets a 413. BODY_LIMIT_BYTES still bounds every other route.
 */
export const MAX_CHATBOT_BODY_BYTES = MAX_LEAD_BODY_BYTES + MAX_TRANSCRIPT_BYTES;

const email = z.preprocess(
  blankToUndefined,
  z
    .string({ error: 'must be a string' })
    .trim()
    .max(LIMITS.email, { error: `must be at most ${LIMITS.email} characters` })
    .pipe(z.email({ error: 'must be a valid email address' }))
    .transform((value) => value.toLowerCase())
    .optional(),
);

/** A phone number as typed, checked and converted to E.164 in place so its error names the field. */
const phone = (defaultCountry: string | undefined) =>
  optionalText(LIMITS.phoneInput).transform((value, ctx) => {
    if (value === undefined) return undefined;
    const normalized = normalizePhone(value, defaultCountry);
    if (!normalized) {
      ctx.addIssue({
        code: 'custom',
        message: defaultCountry
          ? 'must be a valid phone number'
          : 'must be a valid phone number in international format, e.g. +971501234567',
      });
      return z.NEVER;
    }
    return normalized;
  });

const url = z.preprocess(
  blankToUndefined,
  z
    .string({ error: 'must be a string' })
    .trim()
    .max(LIMITS.url, { error: `must be at most ${LIMITS.url} characters` })
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }))
    .optional(),
);

const metadata = z
  .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= LIMITS.metadataBytes, {
    error: `must be at most ${LIMITS.metadataBytes} bytes as JSON`,
  })
  .refine(isStorableJson, { error: STORABLE_TEXT_ERROR })
  .optional();

/**
 * Honeypot: a field hidden from humans by the widget's CSS. Bots fill it in; such a
 * request is answered like a success and nothing is stored. Its name is configurable
 * (HONEYPOT_FIELD); the default is one no real form uses, so a widget that sends, say,
 * the visitor's website is not mistaken for a bot. It must be a string and counts
 * only when it holds something other than whitespace.
 */
export const DEFAULT_HONEYPOT_FIELD = 'leadrelay_hp';
const honeypot = z
  .string({ error: 'must be a string' })
  .max(1000, { error: 'must be at most 1000 characters' })
  .optional();
const isFilled = (body: object, field: string) => {
  const value = (body as Record<string, unknown>)[field];
  return typeof value === 'string' && value.trim() !== '';
};

/** The shape plus the honeypot under its configured name (typed as the shape: the name is not static). */
function withHoneypot<S extends z.ZodRawShape>(shape: S, field: string): S {
  return { ...shape, [field]: honeypot };
}

/** The fields of both intake bodies: a honeypot must not shadow one of them. */
export const INTAKE_FIELDS = [
  'customerName',
  'customerPhone',
  'customerEmail',
  'intent',
  'message',
  'pageUrl',
  'utmSource',
  'utmMedium',
  'utmCampaign',
  'utmTerm',
  'utmContent',
  'idempotencyKey',
  'metadata',
  'transcript',
  'name',
  'email',
  'phone',
] as const;

export interface IntakeSchemaOptions {
  /** Country for phone numbers typed without a +prefix. */
  defaultCountry?: string | undefined;
  /** Name of the honeypot field (HONEYPOT_FIELD). */
  honeypotField?: string | undefined;
}

const unknownKeyError = {
  error: (issue: { code?: string }) =>
    issue.code === 'unrecognized_keys' ? 'is not a known field' : 'must be a JSON object',
};

/** The lead as capture_lead() stores it. */
export interface NormalizedLead {
  customerName: string;
  customerPhone?: string;
  customerEmail?: string;
  intent?: string;
  message?: string;
  source: 'chatbot' | 'contact_form';
  metadata: Record<string, unknown>;
}

/** A validated submission: the lead, its optional idempotency key, and whether a bot filled the honeypot. */
export interface LeadSubmission {
  lead: NormalizedLead;
  idempotencyKey?: string;
  isBot: boolean;
  /** The chatbot conversation that led to the lead (issue 14); chatbot route only. */
  transcript?: TranscriptItem[];
}

/** A lead must be reachable: both contact fields are named when neither is given. */
function requireContact(phoneField: string, emailField: string) {
  return (body: Record<string, unknown>, ctx: z.RefinementCtx) => {
    if (body[phoneField] === undefined && body[emailField] === undefined) {
      const message = `at least one of ${phoneField} or ${emailField} is required`;
      ctx.addIssue({ code: 'custom', path: [phoneField], message });
      ctx.addIssue({ code: 'custom', path: [emailField], message });
    }
  };
}

/** POST /api/chatbot/leads: seed 003's body plus optional context fields. */
export function chatbotLeadSchema({
  defaultCountry,
  honeypotField = DEFAULT_HONEYPOT_FIELD,
}: IntakeSchemaOptions = {}) {
  return z
    .strictObject(
      withHoneypot(
        {
          customerName: requiredText(LIMITS.name),
          customerPhone: phone(defaultCountry),
          customerEmail: email,
          intent: optionalText(LIMITS.intent),
          message: optionalText(LIMITS.message),
          pageUrl: url,
          utmSource: optionalText(LIMITS.utm),
          utmMedium: optionalText(LIMITS.utm),
          utmCampaign: optionalText(LIMITS.utm),
          utmTerm: optionalText(LIMITS.utm),
          utmContent: optionalText(LIMITS.utm),
          idempotencyKey: optionalText(LIMITS.idempotencyKey),
          metadata,
          transcript: transcriptSchema,
        },
        honeypotField,
      ),
      unknownKeyError,
    )
    .superRefine(requireContact('customerPhone', 'customerEmail'))
    .transform((body): LeadSubmission => {
      const utm = withoutUndefined({
        utmSource: body.utmSource,
        utmMedium: body.utmMedium,
        utmCampaign: body.utmCampaign,
        utmTerm: body.utmTerm,
        utmContent: body.utmContent,
      });
      return withoutUndefined({
        lead: withoutUndefined({
          customerName: body.customerName,
          customerPhone: body.customerPhone,
          customerEmail: body.customerEmail,
          intent: body.intent,
          message: body.message,
          source: 'chatbot' as const,
          metadata: withoutUndefined({
            ...(body.metadata ?? {}),
            pageUrl: body.pageUrl,
            utm: Object.keys(utm).length > 0 ? utm : undefined,
          }),
        }),
        idempotencyKey: body.idempotencyKey,
        isBot: isFilled(body, honeypotField),
        transcript: body.transcript,
      });
    });
}

/** POST /api/contact: the website's contact form. */
export function contactFormSchema({
  defaultCountry,
  honeypotField = DEFAULT_HONEYPOT_FIELD,
}: IntakeSchemaOptions = {}) {
  return z
    .strictObject(
      withHoneypot(
        {
          name: requiredText(LIMITS.name),
          email,
          phone: phone(defaultCountry),
          message: requiredText(LIMITS.message),
          pageUrl: url,
          idempotencyKey: optionalText(LIMITS.idempotencyKey),
        },
        honeypotField,
      ),
      unknownKeyError,
    )
    .superRefine(requireContact('phone', 'email'))
    .transform(
      (body): LeadSubmission =>
        withoutUndefined({
          lead: withoutUndefined({
            customerName: body.name,
            customerPhone: body.phone,
            customerEmail: body.email,
            intent: 'contact',
            message: body.message,
            source: 'contact_form' as const,
            metadata: withoutUndefined({ pageUrl: body.pageUrl }),
          }),
          idempotencyKey: body.idempotencyKey,
          isBot: isFilled(body, honeypotField),
        }),
    );
}

export function normalizePhone(raw: string, defaultCountry?: string): string | undefined {
  const parsed = parsePhoneNumberFromString(raw, defaultCountry as CountryCode | undefined);
  return parsed?.isValid() ? parsed.number : undefined;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
