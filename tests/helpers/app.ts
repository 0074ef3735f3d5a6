import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { type Config, loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import type { Storage } from '../../src/storage/storage.js';
import { type CapturedLogs, captureLogs } from './logs.js';
import { TEST_SECRETS } from './secrets.js';

export const TEST_ADMIN_KEY = TEST_SECRETS.adminApiKey;

/** A config as the process would parse it, from test-chosen environment variables. */
/**
 * Returning-lead detection is off unless a test asks for it (DUPLICATE_WINDOW_DAYS):
 * most suites post the same sample contact again and again and test other things;
 * tests/team/returning-leads.test.ts covers the default.
 */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ ADMIN_API_KEY: TEST_ADMIN_KEY, LOG_LEVEL: 'info', DUPLICATE_WINDOW_DAYS: '0', ...env });
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  logs: CapturedLogs;
}

export async function buildTestApp(
  storage: Storage,
  options: { env?: Record<string, string>; redis?: Redis; rateLimitNamespace?: string } = {},
): Promise<TestApp> {
  const config = testConfig(options.env);
  const logs = captureLogs(config.logLevel);
  const app = await buildApp({
    config,
    storage,
    logger: logs.logger,
    redis: options.redis,
    ...(options.rateLimitNamespace ? { rateLimitNamespace: options.rateLimitNamespace } : {}),
  });
  await app.ready();
  return { app, config, logs };
}
