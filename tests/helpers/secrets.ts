import { createHmac } from 'node:crypto';

/**
 * Secret values the tests configure. Every captured log line of a test run is
 * searched for them at the end of the run (tests/global-setup.ts): none may appear.
 * Tests that configure a secret use these constants so the search knows them.
 */

/** The project's JWT secret in the Supabase stand-in; its API keys are HS256 JWTs signed with it. */
const SUPABASE_JWT_SECRET = 'jwt-secret-for-tests-0123456789abcdef0123';

/** A JWT as Supabase issues its API keys: HS256, `role` naming the database role. */
export function signSupabaseJwt(claims: Record<string, unknown>, secret = SUPABASE_JWT_SECRET): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const projectKey = (role: string) =>
  signSupabaseJwt({ iss: 'supabase', ref: 'leadrelaytest', role, iat: 1_764_000_000, exp: 2_079_000_000 });

export const TEST_SECRETS = {
  adminApiKey: 'test-admin-key-0123456789abcdef0123456789',
  smtpPassword: 'smtp-pass-s3cr3t-1c2d',
  telegramBotToken: '123456789:TEST-bot-token-s3cr3t',
  supabaseJwtSecret: SUPABASE_JWT_SECRET,
  supabaseServiceRoleKey: projectKey('service_role'),
  slackWebhookPath: '/services/T0000TEST/B0000TEST/s3cretWebhookPath',
  twilioAuthToken: 'twilio-auth-token-s3cr3t-9f8e',
  hubspotAccessToken: 'pat-na1-hubspot-s3cr3t-token-77aa',
} as const;

/** The project's public (anon) key: not a secret, but it must not reach the server's calls. */
export const TEST_SUPABASE_ANON_KEY = projectKey('anon');

/** Contact details used by tests: they must only ever be logged masked. */
export const TEST_PII = ['+971501234567', '971501234567', 'test@example.com', 'private@example.com'] as const;

/** The stand-in project's settings: its JWT secret and the two keys its gateway accepts. */
export const TEST_SUPABASE_PROJECT = {
  jwtSecret: TEST_SECRETS.supabaseJwtSecret,
  apiKeys: [TEST_SECRETS.supabaseServiceRoleKey, TEST_SUPABASE_ANON_KEY],
};
