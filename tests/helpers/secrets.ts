/**
 * Secret values the tests configure. Every captured log line of a test run is
 * searched for them at the end of the run (tests/global-setup.ts): none may appear.
 * Tests that configure a secret use these constants so the search knows them.
 */
export const TEST_SECRETS = {
  adminApiKey: 'test-admin-key-0123456789abcdef0123456789',
  smtpPassword: 'smtp-pass-s3cr3t-1c2d',
  telegramBotToken: '123456789:TEST-bot-token-s3cr3t',
  supabaseServiceRoleKey: 'service-role-key-for-tests',
  slackWebhookPath: '/services/T0000TEST/B0000TEST/s3cretWebhookPath',
} as const;

/** Contact details used by tests: they must only ever be logged masked. */
export const TEST_PII = ['+971501234567', '971501234567', 'test@example.com', 'private@example.com'] as const;
