import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_HONEYPOT_FIELD, INTAKE_FIELDS, LIMITS, MAX_LEAD_BODY_BYTES } from './leads/lead-input.js';
import { parseBusinessHours } from './team/business-hours.js';
import { isTimeZone } from './team/time-zones.js';

/**
 * The whole environment, parsed once at start into a typed object. Every variable
 * is documented in .env.example. A bad value stops the process with a message that
 * names the variable; values are never echoed, because several are secrets.
 */

const emptyAsUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optionalString = z.preprocess(emptyAsUndefined, z.string().trim().optional());
const optionalUrl = z.preprocess(emptyAsUndefined, z.url({ error: 'must be a valid URL' }).optional());

const boolean = (fallback: boolean) =>
  z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
      .optional()
      .transform((value) => (value === undefined ? fallback : ['true', '1', 'yes'].includes(value))),
  );

const integer = (fallback: number, min: number, max: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: 'must be a whole number' })
      .int({ error: 'must be a whole number' })
      .min(min, { error: `must be at least ${min}` })
      .max(max, { error: `must be at most ${max}` })
      .default(fallback),
  );

const commaList = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((item) => item.trim().replace(/\/+$/, ''))
        .filter((item) => item.length > 0),
    ),
);

const E164 = /^\+[1-9]\d{6,14}$/;
const optionalE164 = z.preprocess(
  emptyAsUndefined,
  z.string().trim().regex(E164, { error: 'must be an E.164 phone number such as +971501234567' }).optional(),
);
const e164List = commaList.pipe(
  z.array(z.string().regex(E164, { error: 'must list E.164 phone numbers such as +971501234567' })),
);

/** proxy-addr's named ranges, which Fastify accepts beside addresses and CIDRs. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** An IP address, a CIDR (10.0.0.0/8), an IPv4 address/netmask, or a named range. */
function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.includes(entry)) return true;
  const [address = '', range, ...rest] = entry.split('/');
  const family = isIP(address);
  if (rest.length > 0 || family === 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
}

/**
 * TRUST_PROXY, as Fastify 5 accepts it: unset/false trusts no proxy (X-Forwarded-For
 * is ignored), true trusts every hop, otherwise a comma-separated list of proxy
 * addresses, CIDRs or named ranges. A hop count is refused: it cannot check who the
 * immediate peer is, so a client reaching the app directly could forge
 * X-Forwarded-For (and a fresh rate-limit bucket per request); Fastify 5 refuses
 * numeric trustProxy for that reason.
 */
const trustProxy = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .optional()
    .transform((value, ctx): boolean | string[] => {
      if (value === undefined || value === 'false' || value === '0') return false;
      if (value === 'true') return true;
      if (/^\d+$/.test(value)) {
        ctx.addIssue({
          code: 'custom',
          message:
            'must be true, false, or proxy addresses/CIDRs (e.g. 10.0.0.0/8): a hop count lets direct clients forge X-Forwarded-For, and Fastify refuses it',
        });
        return z.NEVER;
      }
      const entries = value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean);
      const bad = entries.flatMap((entry, index) => (isProxyAddress(entry) ? [] : [index + 1]));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `entry ${bad.join(', ')} is not an IP address, a CIDR or one of ${PROXY_RANGE_NAMES.join(', ')}`,
        });
        return z.NEVER;
      }
      return entries;
    }),
);

export const MIN_ADMIN_KEY_LENGTH = 32;

const envSchema = z
  .object({
    NODE_ENV: z.preprocess(
      emptyAsUndefined,
      z.enum(['development', 'production', 'test']).default('development'),
    ),
    PORT: integer(3000, 0, 65535),
    HOST: z.preprocess(emptyAsUndefined, z.string().default('0.0.0.0')),
    LOG_LEVEL: z.preprocess(
      emptyAsUndefined,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),

    STORAGE_MODE: z.preprocess(emptyAsUndefined, z.enum(['pglite', 'postgres', 'supabase']).optional()),
    DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('.data')),
    DATABASE_URL: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, { error: 'must be a postgres:// or postgresql:// URL' })
        .optional(),
    ),
    DATABASE_POOL_MAX: integer(10, 1, 500),
    DATABASE_CONNECT_TIMEOUT_MS: integer(3000, 100, 60_000),
    DATABASE_QUERY_TIMEOUT_MS: integer(5000, 100, 300_000),
    SUPABASE_URL: optionalUrl,
    SUPABASE_SERVICE_ROLE_KEY: optionalString,
    REDIS_URL: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^rediss?:\/\//, { error: 'must be a redis:// or rediss:// URL' })
        .optional(),
    ),

    FRONTEND_URL: commaList,
    ADMIN_API_KEY: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .trim()
        .min(MIN_ADMIN_KEY_LENGTH, { error: `must be at least ${MIN_ADMIN_KEY_LENGTH} characters long` })
        .optional(),
    ),
    ADMIN_DASHBOARD_URL: optionalUrl,
    TRUST_PROXY: trustProxy,
    HONEYPOT_FIELD: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(new RegExp(`^[A-Za-z_][A-Za-z0-9_-]{0,${LIMITS.fieldName - 1}}$`), {
          error: `must be a field name: letters, digits, _ or -, at most ${LIMITS.fieldName} characters`,
        })
        .refine((name) => !(INTAKE_FIELDS as readonly string[]).includes(name), {
          error: 'must not be the name of a real intake field',
        })
        .default(DEFAULT_HONEYPOT_FIELD),
    ),
    // Never below the largest valid lead (derived from the intake limits).
    BODY_LIMIT_BYTES: integer(MAX_LEAD_BODY_BYTES, MAX_LEAD_BODY_BYTES, 10_485_760),
    RATE_LIMIT_LEADS_PER_MINUTE: integer(10, 1, 1_000_000),
    RATE_LIMIT_CONTACT_PER_MINUTE: integer(5, 1, 1_000_000),
    RATE_LIMIT_ADMIN_PER_MINUTE: integer(120, 1, 1_000_000),
    RATE_LIMIT_EXPORT_PER_MINUTE: integer(5, 1, 1_000_000),
    // Conversations (issue 14): per conversation and per client IP (docs/conversations.md).
    RATE_LIMIT_CHAT_MESSAGES_PER_MINUTE: integer(100, 1, 1_000_000),
    RATE_LIMIT_CHAT_READS_PER_MINUTE: integer(600, 1, 1_000_000),
    DEFAULT_PHONE_COUNTRY: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^[A-Za-z]{2}$/, { error: 'must be a two-letter ISO 3166 country code such as AE or US' })
        .transform((value) => value.toUpperCase())
        .optional(),
    ),
    SLA_FIRST_RESPONSE_MINUTES: integer(5, 1, 60 * 24 * 30),
    SLA_SWEEP_INTERVAL_MS: integer(60_000, 1000, 3_600_000),
    // Team (issue 12): assignment, business-hours SLA, returning leads.
    ASSIGNMENT_STRATEGY: z.preprocess(
      emptyAsUndefined,
      z
        .enum(['round_robin', 'least_open', 'none'], { error: 'must be round_robin, least_open or none' })
        .default('round_robin'),
    ),
    SLA_BUSINESS_HOURS: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .optional()
        .superRefine((value, ctx) => {
          if (value === undefined) return;
          try {
            parseBusinessHours(value);
          } catch (error) {
            ctx.addIssue({ code: 'custom', message: (error as Error).message });
          }
        }),
    ),
    SLA_TIMEZONE: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .default('UTC')
        .refine(isTimeZone, { error: 'must be an IANA time zone such as Europe/Berlin' }),
    ),
    SLA_REASSIGN_ON_BREACH: boolean(true),
    DUPLICATE_WINDOW_DAYS: integer(30, 0, 3650),
    // Conversations (issue 14): kill switch, widget token lifetime, follow-up alert cooldown.
    CHAT_DISABLED: boolean(false),
    CONVERSATION_TOKEN_TTL_DAYS: integer(30, 1, 3650),
    MESSAGE_ALERT_COOLDOWN_SECONDS: integer(120, 0, 86_400),

    SLACK_WEBHOOK_URL: optionalUrl,
    TELEGRAM_BOT_TOKEN: optionalString,
    TELEGRAM_CHAT_ID: optionalString,
    TELEGRAM_API_URL: z.preprocess(
      emptyAsUndefined,
      z.url({ error: 'must be a valid URL' }).default('https://api.telegram.org'),
    ),
    EMAIL_HOST: optionalString,
    EMAIL_PORT: integer(587, 1, 65535),
    EMAIL_SECURE: boolean(false),
    EMAIL_USER: optionalString,
    EMAIL_PASS: optionalString,
    EMAIL_FROM: optionalString,
    EMAIL_TO: commaList,

    ENABLE_NOTIFICATION_WORKER: boolean(true),
    WORKER_BATCH_SIZE: integer(10, 1, 1000),
    WORKER_POLL_INTERVAL_MS: integer(5000, 50, 3_600_000),
    WORKER_MAX_ATTEMPTS: integer(8, 1, 100),
    WORKER_LEASE_SECONDS: integer(60, 1, 3600),
    WORKER_SEND_TIMEOUT_MS: integer(10_000, 100, 300_000),
    WORKER_SHUTDOWN_GRACE_MS: integer(20_000, 0, 300_000),
    WORKER_RETRY_BASE_MS: integer(5_000, 10, 3_600_000),
    WORKER_RETRY_MAX_MS: integer(600_000, 10, 86_400_000),
    // Worker v2 (issue 10): the sliding window and provider pacing (docs/worker.md).
    WORKER_CONCURRENCY: integer(32, 1, 1000),
    SLACK_RATE_PER_MINUTE: integer(60, 0, 1_000_000),
    TELEGRAM_RATE_PER_MINUTE: integer(20, 0, 1_000_000),
    EMAIL_RATE_PER_MINUTE: integer(600, 0, 1_000_000),
    SLACK_BURST: integer(5, 1, 10_000),
    TELEGRAM_BURST: integer(5, 1, 10_000),
    EMAIL_BURST: integer(5, 1, 10_000),
    // Integrations' pacing (issue 13): Twilio sends about 1 message/s per number;
    // HubSpot allows 100 requests per 10 s per account.
    SMS_RATE_PER_MINUTE: integer(60, 0, 1_000_000),
    SMS_BURST: integer(5, 1, 10_000),
    WHATSAPP_RATE_PER_MINUTE: integer(60, 0, 1_000_000),
    WHATSAPP_BURST: integer(5, 1, 10_000),
    HUBSPOT_RATE_PER_MINUTE: integer(540, 0, 1_000_000),
    HUBSPOT_BURST: integer(10, 1, 10_000),
    DIGEST_THRESHOLD: integer(5, 1, 10_000),
    // Bulk actions (issue 15, docs/bulk-actions.md): leads per batch transaction, failed
    // attempts of one batch before the action fails, days an action can be undone.
    BULK_BATCH_SIZE: integer(500, 1, 5000),
    BULK_BATCH_ATTEMPTS: integer(5, 1, 100),
    UNDO_EXPIRY_DAYS: integer(7, 1, 365),

    // Set by loadConfig, not by users: only processes that serve the admin API need the key.
    LEADRELAY_NEEDS_ADMIN_KEY: z.boolean().optional(),

    FEATURE_WHATSAPP_ENABLED: boolean(false),
    FEATURE_CRM_ENABLED: boolean(false),
    FEATURE_SMS_ENABLED: boolean(false),

    // Integrations (issue 13): Twilio SMS and WhatsApp, HubSpot, outbound webhooks.
    TWILIO_ACCOUNT_SID: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .trim()
        .regex(/^AC[0-9a-fA-F]{32}$/, { error: 'must be an Account SID: AC followed by 32 hex digits' })
        .optional(),
    ),
    TWILIO_AUTH_TOKEN: optionalString,
    TWILIO_FROM: optionalE164,
    TWILIO_MESSAGING_SERVICE_SID: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .trim()
        .regex(/^MG[0-9a-fA-F]{32}$/, {
          error: 'must be a Messaging Service SID: MG followed by 32 hex digits',
        })
        .optional(),
    ),
    TWILIO_API_URL: z.preprocess(
      emptyAsUndefined,
      z.url({ error: 'must be a valid URL' }).default('https://api.twilio.com'),
    ),
    SMS_TO: e164List,
    TWILIO_WHATSAPP_FROM: optionalE164,
    TWILIO_WHATSAPP_CONTENT_SID: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .trim()
        .regex(/^HX[0-9a-fA-F]{32}$/, { error: 'must be a Content SID: HX followed by 32 hex digits' })
        .optional(),
    ),
    WHATSAPP_TO: e164List,
    HUBSPOT_ACCESS_TOKEN: optionalString,
    HUBSPOT_API_URL: z.preprocess(
      emptyAsUndefined,
      z.url({ error: 'must be a valid URL' }).default('https://api.hubapi.com'),
    ),
    HUBSPOT_STATUS_PROPERTY: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .trim()
        .regex(/^[a-z][a-z0-9_]{0,99}$/, { error: 'must be a HubSpot property name (lower case, digits, _)' })
        .default('hs_lead_status'),
    ),
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: boolean(false),
    WEBHOOK_RETRY_SCHEDULE_SECONDS: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$/, {
          error: 'must be comma-separated delays in seconds, such as 0,5,300,1800,7200,18000,36000,36000',
        })
        .default('0,5,300,1800,7200,18000,36000,36000')
        .transform((value) => value.split(',').map((item) => Number(item.trim()))),
    ),

    // Operations (issue 6): lifecycle, metrics, docs, health thresholds, retention.
    API_SHUTDOWN_GRACE_MS: integer(10_000, 0, 25_000),
    METRICS_ENABLED: boolean(true),
    METRICS_PORT: z.preprocess(emptyAsUndefined, integer(0, 0, 65535).optional()),
    API_DOCS_ENABLED: boolean(true),
    HEALTH_MAX_QUEUE_DEPTH: integer(1000, 1, 100_000_000),
    HEALTH_MAX_QUEUE_AGE_SECONDS: integer(900, 1, 604_800),
    WORKER_STALE_AFTER_SECONDS: integer(120, 5, 86_400),
    RETENTION_DAYS: integer(30, 1, 3650),
    // Unset: leads are kept for ever. Set: the daily cleanup erases leads closed (won or
    // lost) longer ago than this (docs/privacy.md).
    LEAD_RETENTION_DAYS: z.preprocess(
      emptyAsUndefined,
      z.coerce
        .number({ error: 'must be a whole number of days' })
        .int({ error: 'must be a whole number of days' })
        .min(1, { error: 'must be at least 1 (leave it unset to keep leads for ever)' })
        .max(36_500, { error: 'must be at most 36500' })
        .optional(),
    ),
  })
  .superRefine((env, ctx) => {
    const mode = storageModeOf(env);
    if (mode === 'postgres' && !env.DATABASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_URL'],
        message: 'is required when STORAGE_MODE=postgres',
      });
    }
    if (mode === 'supabase') {
      if (!env.SUPABASE_URL) {
        ctx.addIssue({
          code: 'custom',
          path: ['SUPABASE_URL'],
          message: 'is required when STORAGE_MODE=supabase',
        });
      }
      if (!env.SUPABASE_SERVICE_ROLE_KEY) {
        ctx.addIssue({
          code: 'custom',
          path: ['SUPABASE_SERVICE_ROLE_KEY'],
          message: 'is required when SUPABASE_URL is set',
        });
      }
    }
    // On the embedded default a missing key is generated and kept in DATA_DIR; a
    // shared database means a deployed service, where a weak or absent key is refused.
    if (env.ADMIN_API_KEY === undefined && mode !== 'pglite' && env.LEADRELAY_NEEDS_ADMIN_KEY !== false) {
      ctx.addIssue({
        code: 'custom',
        path: ['ADMIN_API_KEY'],
        message: `is required (at least ${MIN_ADMIN_KEY_LENGTH} characters) outside the embedded default`,
      });
    }
    const telegramParts = [env.TELEGRAM_BOT_TOKEN, env.TELEGRAM_CHAT_ID].filter(Boolean).length;
    if (telegramParts === 1) {
      const missing = env.TELEGRAM_BOT_TOKEN ? 'TELEGRAM_CHAT_ID' : 'TELEGRAM_BOT_TOKEN';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'is required when the other Telegram setting is set',
      });
    }
    if (env.EMAIL_HOST && env.EMAIL_TO.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['EMAIL_TO'], message: 'is required when EMAIL_HOST is set' });
    }
    if (env.EMAIL_HOST && !env.EMAIL_FROM) {
      ctx.addIssue({ code: 'custom', path: ['EMAIL_FROM'], message: 'is required when EMAIL_HOST is set' });
    }
    if (env.EMAIL_USER && !env.EMAIL_PASS) {
      ctx.addIssue({ code: 'custom', path: ['EMAIL_PASS'], message: 'is required when EMAIL_USER is set' });
    }
    for (const [flag, missing] of missingIntegrationSettings(env)) {
      for (const variable of missing) {
        ctx.addIssue({ code: 'custom', path: [variable], message: `is required when ${flag}=true` });
      }
    }
  });

/**
 * A feature flag turns a real integration on, so it needs that integration's settings:
 * each one missing is named (TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID counts as one).
 */
function missingIntegrationSettings(env: {
  FEATURE_SMS_ENABLED: boolean;
  FEATURE_WHATSAPP_ENABLED: boolean;
  FEATURE_CRM_ENABLED: boolean;
  TWILIO_ACCOUNT_SID?: string | undefined;
  TWILIO_AUTH_TOKEN?: string | undefined;
  TWILIO_FROM?: string | undefined;
  TWILIO_MESSAGING_SERVICE_SID?: string | undefined;
  SMS_TO: string[];
  TWILIO_WHATSAPP_FROM?: string | undefined;
  TWILIO_WHATSAPP_CONTENT_SID?: string | undefined;
  WHATSAPP_TO: string[];
  HUBSPOT_ACCESS_TOKEN?: string | undefined;
}): [string, string[]][] {
  const out: [string, string[]][] = [];
  const twilio = [
    env.TWILIO_ACCOUNT_SID ? undefined : 'TWILIO_ACCOUNT_SID',
    env.TWILIO_AUTH_TOKEN ? undefined : 'TWILIO_AUTH_TOKEN',
  ];
  if (env.FEATURE_SMS_ENABLED) {
    const missing = [
      ...twilio,
      env.TWILIO_FROM || env.TWILIO_MESSAGING_SERVICE_SID ? undefined : 'TWILIO_FROM',
      env.SMS_TO.length > 0 ? undefined : 'SMS_TO',
    ].filter((name): name is string => name !== undefined);
    if (missing.length > 0) out.push(['FEATURE_SMS_ENABLED', missing]);
  }
  if (env.FEATURE_WHATSAPP_ENABLED) {
    const missing = [
      ...twilio,
      env.TWILIO_WHATSAPP_FROM || env.TWILIO_MESSAGING_SERVICE_SID ? undefined : 'TWILIO_WHATSAPP_FROM',
      env.TWILIO_WHATSAPP_CONTENT_SID ? undefined : 'TWILIO_WHATSAPP_CONTENT_SID',
      env.WHATSAPP_TO.length > 0 ? undefined : 'WHATSAPP_TO',
    ].filter((name): name is string => name !== undefined);
    if (missing.length > 0) out.push(['FEATURE_WHATSAPP_ENABLED', missing]);
  }
  if (env.FEATURE_CRM_ENABLED && !env.HUBSPOT_ACCESS_TOKEN) {
    out.push(['FEATURE_CRM_ENABLED', ['HUBSPOT_ACCESS_TOKEN']]);
  }
  return out;
}

type ParsedEnv = z.infer<typeof envSchema>;

/** Every variable the schema reads (LEADRELAY_NEEDS_ADMIN_KEY is set by loadConfig, not by users). */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape).filter(
  (name) => name !== 'LEADRELAY_NEEDS_ADMIN_KEY',
);
export type StorageMode = 'pglite' | 'postgres' | 'supabase';

/** DATABASE_URL wins over SUPABASE_URL: a direct connection can LISTEN and pool. */
function storageModeOf(env: Pick<ParsedEnv, 'STORAGE_MODE' | 'DATABASE_URL' | 'SUPABASE_URL'>): StorageMode {
  if (env.STORAGE_MODE) return env.STORAGE_MODE;
  if (env.DATABASE_URL) return 'postgres';
  if (env.SUPABASE_URL) return 'supabase';
  return 'pglite';
}

function buildConfig(env: ParsedEnv) {
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    storage: {
      mode: storageModeOf(env),
      dataDir: env.DATA_DIR,
      databaseUrl: env.DATABASE_URL,
      poolMax: env.DATABASE_POOL_MAX,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: env.DATABASE_QUERY_TIMEOUT_MS,
      supabaseUrl: env.SUPABASE_URL,
      supabaseServiceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY,
    },
    redisUrl: env.REDIS_URL,
    http: {
      corsOrigins: env.FRONTEND_URL,
      trustProxy: env.TRUST_PROXY,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      rateLimits: {
        leadsPerMinute: env.RATE_LIMIT_LEADS_PER_MINUTE,
        contactPerMinute: env.RATE_LIMIT_CONTACT_PER_MINUTE,
        adminPerMinute: env.RATE_LIMIT_ADMIN_PER_MINUTE,
        exportPerMinute: env.RATE_LIMIT_EXPORT_PER_MINUTE,
        chatMessagesPerMinute: env.RATE_LIMIT_CHAT_MESSAGES_PER_MINUTE,
        chatReadsPerMinute: env.RATE_LIMIT_CHAT_READS_PER_MINUTE,
      },
    },
    admin: {
      apiKey: env.ADMIN_API_KEY,
      dashboardUrl: env.ADMIN_DASHBOARD_URL,
    },
    leads: {
      defaultPhoneCountry: env.DEFAULT_PHONE_COUNTRY,
      honeypotField: env.HONEYPOT_FIELD,
      slaFirstResponseMinutes: env.SLA_FIRST_RESPONSE_MINUTES,
      slaSweepIntervalMs: env.SLA_SWEEP_INTERVAL_MS,
      duplicateWindowDays: env.DUPLICATE_WINDOW_DAYS,
    },
    chat: {
      disabled: env.CHAT_DISABLED,
      tokenTtlDays: env.CONVERSATION_TOKEN_TTL_DAYS,
      alertCooldownSeconds: env.MESSAGE_ALERT_COOLDOWN_SECONDS,
    },
    team: {
      assignmentStrategy: env.ASSIGNMENT_STRATEGY,
      businessHours: env.SLA_BUSINESS_HOURS ? parseBusinessHours(env.SLA_BUSINESS_HOURS) : undefined,
      timeZone: env.SLA_TIMEZONE,
      reassignOnBreach: env.SLA_REASSIGN_ON_BREACH,
    },
    channels: {
      slack: env.SLACK_WEBHOOK_URL ? { webhookUrl: env.SLACK_WEBHOOK_URL } : undefined,
      telegram:
        env.TELEGRAM_BOT_TOKEN && env.TELEGRAM_CHAT_ID
          ? { botToken: env.TELEGRAM_BOT_TOKEN, chatId: env.TELEGRAM_CHAT_ID, apiUrl: env.TELEGRAM_API_URL }
          : undefined,
      email:
        env.EMAIL_HOST && env.EMAIL_FROM
          ? {
              host: env.EMAIL_HOST,
              port: env.EMAIL_PORT,
              secure: env.EMAIL_SECURE,
              user: env.EMAIL_USER,
              pass: env.EMAIL_PASS,
              from: env.EMAIL_FROM,
              to: env.EMAIL_TO,
            }
          : undefined,
    },
    worker: {
      enabled: env.ENABLE_NOTIFICATION_WORKER,
      batchSize: env.WORKER_BATCH_SIZE,
      pollIntervalMs: env.WORKER_POLL_INTERVAL_MS,
      maxAttempts: env.WORKER_MAX_ATTEMPTS,
      leaseSeconds: env.WORKER_LEASE_SECONDS,
      sendTimeoutMs: env.WORKER_SEND_TIMEOUT_MS,
      shutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
      retryBaseMs: env.WORKER_RETRY_BASE_MS,
      retryMaxMs: env.WORKER_RETRY_MAX_MS,
      concurrency: env.WORKER_CONCURRENCY,
    },
    bulk: {
      batchSize: env.BULK_BATCH_SIZE,
      batchAttempts: env.BULK_BATCH_ATTEMPTS,
      undoExpiryDays: env.UNDO_EXPIRY_DAYS,
    },
    /** Per channel: sends per minute per destination (0 = not paced) and burst. */
    pacing: {
      slack: { ratePerMinute: env.SLACK_RATE_PER_MINUTE, burst: env.SLACK_BURST },
      telegram: { ratePerMinute: env.TELEGRAM_RATE_PER_MINUTE, burst: env.TELEGRAM_BURST },
      email: { ratePerMinute: env.EMAIL_RATE_PER_MINUTE, burst: env.EMAIL_BURST },
      sms: { ratePerMinute: env.SMS_RATE_PER_MINUTE, burst: env.SMS_BURST },
      whatsapp: { ratePerMinute: env.WHATSAPP_RATE_PER_MINUTE, burst: env.WHATSAPP_BURST },
      hubspot: { ratePerMinute: env.HUBSPOT_RATE_PER_MINUTE, burst: env.HUBSPOT_BURST },
      digestThreshold: env.DIGEST_THRESHOLD,
    },
    features: {
      whatsapp: env.FEATURE_WHATSAPP_ENABLED,
      crm: env.FEATURE_CRM_ENABLED,
      sms: env.FEATURE_SMS_ENABLED,
    },
    integrations: buildIntegrations(env),
    ops: {
      shutdownGraceMs: env.API_SHUTDOWN_GRACE_MS,
      metrics: { enabled: env.METRICS_ENABLED, port: env.METRICS_PORT },
      docsEnabled: env.API_DOCS_ENABLED,
      maxQueueDepth: env.HEALTH_MAX_QUEUE_DEPTH,
      maxQueueAgeSeconds: env.HEALTH_MAX_QUEUE_AGE_SECONDS,
      workerStaleAfterSeconds: env.WORKER_STALE_AFTER_SECONDS,
      retentionDays: env.RETENTION_DAYS,
      leadRetentionDays: env.LEAD_RETENTION_DAYS,
    },
  };
}

export type Config = ReturnType<typeof buildConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /**
   * Whether this process serves the admin API and so needs ADMIN_API_KEY outside the
   * embedded default (the API does; a standalone worker or a CLI command does not).
   */
  needsAdminKey?: boolean;
}

/** Parses an environment (process.env by default). Throws ConfigError naming every bad variable. */
export function loadConfig(
  source: Record<string, string | undefined> = process.env,
  options: LoadConfigOptions = {},
): Config {
  const result = envSchema.safeParse({ ...source, LEADRELAY_NEEDS_ADMIN_KEY: options.needsAdminKey ?? true });
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(environment)'} ${issue.message}`,
    );
    throw new ConfigError(problems);
  }
  return buildConfig(result.data);
}

/**
 * The integrations the feature flags switched on, with their settings (the schema
 * already refused a flag that is on without them). Webhooks need no flag: they are
 * on as soon as an admin registers an endpoint.
 */
function buildIntegrations(env: ParsedEnv) {
  const twilio = {
    accountSid: env.TWILIO_ACCOUNT_SID ?? '',
    authToken: env.TWILIO_AUTH_TOKEN ?? '',
    apiUrl: env.TWILIO_API_URL,
    messagingServiceSid: env.TWILIO_MESSAGING_SERVICE_SID,
  };
  return {
    sms: env.FEATURE_SMS_ENABLED ? { ...twilio, from: env.TWILIO_FROM, to: env.SMS_TO } : undefined,
    whatsapp: env.FEATURE_WHATSAPP_ENABLED
      ? {
          ...twilio,
          from: env.TWILIO_WHATSAPP_FROM,
          contentSid: env.TWILIO_WHATSAPP_CONTENT_SID ?? '',
          to: env.WHATSAPP_TO,
        }
      : undefined,
    hubspot: env.FEATURE_CRM_ENABLED
      ? {
          accessToken: env.HUBSPOT_ACCESS_TOKEN ?? '',
          apiUrl: env.HUBSPOT_API_URL,
          statusProperty: env.HUBSPOT_STATUS_PROPERTY,
        }
      : undefined,
    webhooks: {
      allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      retryScheduleSeconds: env.WEBHOOK_RETRY_SCHEDULE_SECONDS,
    },
  };
}

const LOCAL_HOSTS = /^(localhost|.*\.localhost|127(\.\d+){3}|\[::1\]|0\.0\.0\.0)$/;

/**
 * Alerts link to ADMIN_DASHBOARD_URL. In the embedded default the API and the worker
 * share one process on this machine, so http://localhost:PORT/admin is right; anywhere
 * else a worker with the variable unset (or set to localhost) sends links that lead
 * nowhere for the people who get them. Not fatal (alerts still go out): said at start.
 */
export function localAlertLinksProblem(config: Config): string | undefined {
  if (!config.worker.enabled || config.storage.mode === 'pglite') return undefined;
  const url = config.admin.dashboardUrl;
  if (url === undefined) {
    return `ADMIN_DASHBOARD_URL is not set: links in alerts point at http://localhost:${config.port}/admin`;
  }
  const host = new URL(url).hostname;
  if (LOCAL_HOSTS.test(host)) return `ADMIN_DASHBOARD_URL points at ${host}: links in alerts lead nowhere`;
  return undefined;
}

export function warnAboutLocalAlertLinks(
  config: Config,
  logger: { warn(obj: object, msg: string): void },
): void {
  const problem = localAlertLinksProblem(config);
  if (problem) logger.warn({ variable: 'ADMIN_DASHBOARD_URL' }, problem);
}
