import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';

/**
 * The admin API key. Deployments set ADMIN_API_KEY (config refuses to start without
 * one outside the embedded default). On the embedded default a key is generated on
 * first start and kept in DATA_DIR, so `npm start` works with no configuration.
 */
export interface ResolvedAdminKey {
  key: string;
  /** True when this call generated it: the caller prints it once. */
  generated: boolean;
  file?: string;
}

export function resolveAdminKey(config: Config): ResolvedAdminKey {
  if (config.admin.apiKey) return { key: config.admin.apiKey, generated: false };
  const file = join(config.storage.dataDir, 'admin-api-key');
  if (existsSync(file)) {
    return { key: readFileSync(file, 'utf8').trim(), generated: false, file };
  }
  mkdirSync(config.storage.dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, generated: true, file };
}
