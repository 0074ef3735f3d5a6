import type { SqlStorage } from '../../src/storage/storage.js';

/**
 * Every row of every table in `public` that still mentions one of `needles` (case
 * insensitive), as "table: n rows". Reads each row as text, so a table another
 * feature adds later is covered without naming it here.
 */
export async function tablesMentioning(storage: SqlStorage, needles: string[]): Promise<string[]> {
  const tables = await storage.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`,
  );
  const found: string[] = [];
  for (const { name } of tables) {
    const [row] = await storage.query<{ n: number }>(
      `select count(*)::int as n from "${name}" t where ${needles
        .map((_, i) => `strpos(lower(t::text), lower($${i + 1})) > 0`)
        .join(' or ')}`,
      needles,
    );
    if (row && row.n > 0) found.push(`${name}: ${row.n} rows`);
  }
  return found;
}

/** A row count per table for the given tables: what a dry run must leave as it was. */
export async function rowCounts(storage: SqlStorage, tables: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [row] = await storage.query<{ n: number }>(`select count(*)::int as n from "${table}"`);
    counts[table] = row?.n ?? 0;
  }
  return counts;
}

/** The whole content of the tables that hold lead data, as text: equal before and after a dry run. */
export async function leadDataSnapshot(storage: SqlStorage): Promise<string> {
  const parts: string[] = [];
  for (const table of [
    'conversations',
    'lead_inquiries',
    'conversation_timeline',
    'follow_up_tasks',
    'lead_events',
    'notification_logs',
    'crm_contacts',
    'audit_logs',
  ]) {
    const rows = await storage.query<{ t: string }>(
      `select coalesce(string_agg(x::text, E'\\n' order by x::text), '') as t from "${table}" x`,
    );
    parts.push(`${table}\n${rows[0]?.t ?? ''}`);
  }
  return parts.join('\n');
}
