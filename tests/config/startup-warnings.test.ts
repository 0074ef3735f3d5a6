import { describe, expect, it } from 'vitest';
import { loadConfig, warnAboutLocalAlertLinks } from '../../src/config.js';
import { TEST_ADMIN_KEY } from '../helpers/app.js';

/** A worker outside the embedded default must not send alert links to localhost silently. */
function warningsFor(env: Record<string, string>): string[] {
  const warnings: string[] = [];
  const config = loadConfig({ ADMIN_API_KEY: TEST_ADMIN_KEY, ...env });
  warnAboutLocalAlertLinks(config, { warn: (_obj, msg) => warnings.push(msg) });
  return warnings;
}

describe('start-up warning about alert links', () => {
  const postgres = { DATABASE_URL: 'postgres://db.example:5432/leadrelay' };

  it('warns a Postgres or Supabase worker whose ADMIN_DASHBOARD_URL is unset or local', () => {
    expect(warningsFor(postgres)).toEqual([
      'ADMIN_DASHBOARD_URL is not set: links in alerts point at http://localhost:3000/admin',
    ]);
    for (const url of ['http://localhost:3000/admin', 'http://127.0.0.1/admin', 'http://[::1]:3000/admin']) {
      expect(warningsFor({ ...postgres, ADMIN_DASHBOARD_URL: url })).toHaveLength(1);
    }
    expect(
      warningsFor({
        SUPABASE_URL: 'https://p.supabase.co',
        SUPABASE_SERVICE_ROLE_KEY: 'k',
        STORAGE_MODE: 'supabase',
      }),
    ).toHaveLength(1);
  });

  it('is quiet for the embedded default, a real URL, or a process that sends no alerts', () => {
    expect(warningsFor({})).toEqual([]);
    expect(warningsFor({ ...postgres, ADMIN_DASHBOARD_URL: 'https://leads.example.com/admin' })).toEqual([]);
    expect(warningsFor({ ...postgres, ENABLE_NOTIFICATION_WORKER: 'false' })).toEqual([]);
  });
});
