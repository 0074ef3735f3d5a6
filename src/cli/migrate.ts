import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { migrate } from '../storage/migrator.js';
import { openStorage } from '../storage/open-storage.js';
import { isSqlStorage } from '../storage/storage.js';

/** `npm run migrate`: applies pending migrations to PGlite (DATA_DIR) or DATABASE_URL. */
async function main() {
  const config = loadConfig(process.env, { needsAdminKey: false });
  if (config.storage.mode === 'supabase') {
    process.stderr.write('Supabase mode: apply the migrations with `supabase db push` (see README).\n');
    process.exit(1);
  }
  const logger = createLogger('warn');
  const storage = await openStorage(config, logger, { migrate: false });
  try {
    if (!isSqlStorage(storage)) throw new Error('storage cannot run SQL migrations');
    const applied = await migrate(storage);
    process.stdout.write(
      applied.length
        ? `Applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}\n`
        : 'Database is up to date.\n',
    );
  } finally {
    await storage.close();
  }
}

main().catch((error) => {
  process.stderr.write(
    `leadrelay migrate: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
