import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../../src/config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('config', () => {
  it('starts on the embedded default with no variables at all', () => {
    const config = loadConfig({});
    expect(config.storage.mode).toBe('pglite');
    expect(config.port).toBe(3000);
    expect(config.worker.batchSize).toBe(10);
    expect(config.worker.pollIntervalMs).toBe(5000);
    expect(config.leads.slaFirstResponseMinutes).toBe(5);
    expect(config.http.rateLimits).toEqual({
      leadsPerMinute: 10,
      contactPerMinute: 5,
      adminPerMinute: 120,
      exportPerMinute: 5,
      chatMessagesPerMinute: 100,
      chatReadsPerMinute: 600,
    });
    expect(config.features).toEqual({ whatsapp: false, crm: false, sms: false });
    expect(config.channels).toEqual({ slack: undefined, telegram: undefined, email: undefined });
  });

  it('picks the storage mode from the variables present', () => {
    const key = 'k'.repeat(32);
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', ADMIN_API_KEY: key }).storage.mode).toBe(
      'postgres',
    );
    expect(
      loadConfig({
        SUPABASE_URL: 'https://x.supabase.co',
        SUPABASE_SERVICE_ROLE_KEY: 's',
        ADMIN_API_KEY: key,
      }).storage.mode,
    ).toBe('supabase');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT must be a whole number'],
    [{ PORT: '70000' }, 'PORT must be at most 65535'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be a postgres:// or postgresql:// URL'],
    [{ SLACK_WEBHOOK_URL: 'not a url' }, 'SLACK_WEBHOOK_URL must be a valid URL'],
    [{ ENABLE_NOTIFICATION_WORKER: 'maybe' }, 'ENABLE_NOTIFICATION_WORKER must be true or false'],
    [{ WORKER_BATCH_SIZE: '0' }, 'WORKER_BATCH_SIZE must be at least 1'],
    [{ WORKER_CONCURRENCY: '0' }, 'WORKER_CONCURRENCY must be at least 1'],
    [{ SLACK_RATE_PER_MINUTE: '-1' }, 'SLACK_RATE_PER_MINUTE must be at least 0'],
    [{ TELEGRAM_BURST: 'lots' }, 'TELEGRAM_BURST must be'],
    [{ DIGEST_THRESHOLD: '0' }, 'DIGEST_THRESHOLD must be at least 1'],
    [{ DEFAULT_PHONE_COUNTRY: 'UAE' }, 'DEFAULT_PHONE_COUNTRY must be a two-letter ISO 3166 country code'],
    [
      { TELEGRAM_BOT_TOKEN: '123:abc' },
      'TELEGRAM_CHAT_ID is required when the other Telegram setting is set',
    ],
    [{ EMAIL_HOST: 'smtp.example.com', EMAIL_FROM: 'a@b.c' }, 'EMAIL_TO is required when EMAIL_HOST is set'],
    [
      { SUPABASE_URL: 'https://x.supabase.co' },
      'SUPABASE_SERVICE_ROLE_KEY is required when SUPABASE_URL is set',
    ],
    [{ ADMIN_API_KEY: 'short' }, 'ADMIN_API_KEY must be at least 32 characters long'],
    [
      { DATABASE_URL: 'postgres://u@h/db' },
      'ADMIN_API_KEY is required (at least 32 characters) outside the embedded default',
    ],
    [{ STORAGE_MODE: 'postgres' }, 'DATABASE_URL is required when STORAGE_MODE=postgres'],
  ])('refuses %o naming the variable', (env, expected) => {
    expect(problemsOf(env).join('\n')).toContain(expected);
  });

  it('lets processes that serve no admin API (worker, CLI) start without ADMIN_API_KEY', () => {
    const env = { DATABASE_URL: 'postgres://u@h/db' };
    expect(() => loadConfig(env)).toThrow(/ADMIN_API_KEY is required/);
    expect(loadConfig(env, { needsAdminKey: false }).storage.mode).toBe('postgres');
  });

  it('stops when a feature flag is on without its settings, naming each missing variable', () => {
    const sms = problemsOf({ FEATURE_SMS_ENABLED: 'true' }).join('\n');
    for (const variable of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM', 'SMS_TO']) {
      expect(sms).toContain(`${variable} is required when FEATURE_SMS_ENABLED=true`);
    }
    const whatsapp = problemsOf({ FEATURE_WHATSAPP_ENABLED: 'true' }).join('\n');
    for (const variable of ['TWILIO_WHATSAPP_FROM', 'TWILIO_WHATSAPP_CONTENT_SID', 'WHATSAPP_TO']) {
      expect(whatsapp).toContain(`${variable} is required when FEATURE_WHATSAPP_ENABLED=true`);
    }
    expect(problemsOf({ FEATURE_CRM_ENABLED: '1' }).join('\n')).toContain(
      'HUBSPOT_ACCESS_TOKEN is required when FEATURE_CRM_ENABLED=true',
    );
    expect(problemsOf({ SMS_TO: '+97150, 0501234567' }).join('\n')).toContain('SMS_TO');
  });

  it('switches an integration on when its flag and settings are given', () => {
    expect(loadConfig({}).integrations.sms).toBeUndefined();
    const config = loadConfig({
      FEATURE_SMS_ENABLED: 'true',
      TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'token',
      TWILIO_MESSAGING_SERVICE_SID: `MG${'b'.repeat(32)}`,
      SMS_TO: '+971501234567, +12025550123',
      FEATURE_CRM_ENABLED: 'true',
      HUBSPOT_ACCESS_TOKEN: 'pat-na1-x',
    });
    expect(config.integrations.sms?.to).toEqual(['+971501234567', '+12025550123']);
    expect(config.integrations.hubspot?.statusProperty).toBe('hs_lead_status');
    expect(config.integrations.webhooks.allowPrivateNetworks).toBe(false);
  });

  it('documents every variable it reads in .env.example', () => {
    const documented = new Set(
      readFileSync('.env.example', 'utf8')
        .split('\n')
        .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
        .filter(Boolean),
    );
    expect(CONFIG_VARIABLES.length).toBeGreaterThan(40);
    expect(CONFIG_VARIABLES.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('never echoes a secret value in its message', () => {
    const secret = 'tiny-secret';
    const error = (() => {
      try {
        loadConfig({ ADMIN_API_KEY: secret, SLACK_WEBHOOK_URL: 'hooks-secret-value', EMAIL_USER: 'u' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.message).not.toContain(secret);
    expect(error!.message).not.toContain('hooks-secret-value');
    expect(error!.message).toContain('EMAIL_PASS is required when EMAIL_USER is set');
  });

  it('stops the API process at start with one clear message', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { PATH: process.env.PATH, PORT: 'not-a-port', ADMIN_API_KEY: 'x' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toContain('PORT must be a whole number');
    expect(result.stderr).toContain('ADMIN_API_KEY must be at least 32 characters long');
  });
});
