import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/storage/migrator.js';
import { openPgliteStorage } from '../../src/storage/pglite-storage.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import {
  createPostgresDatabase,
  createTestDatabase,
  type DatabaseKind,
  databaseKinds,
  dropPostgresDatabase,
  type TestDatabase,
} from '../helpers/databases.js';

/**
 * Grants that state themselves. In Supabase's rpc mode every call runs as
 * service_role, and every leadrelay function is SECURITY INVOKER, so service_role must
 * be able to execute what src/ calls and the helpers those call, and nothing else; the
 * Data API's public roles (anon, authenticated) may reach no function and no table.
 *
 * The called functions are derived from the source: every quoted identifier in src/
 * that names a function of the public schema (`storage.call('capture_lead', …)`,
 * `callAdmin(storage, 'admin_get_lead', …)`), so a new function is covered as soon as
 * code calls it, and its migration must grant it.
 */
const SRC = join(import.meta.dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const quotedIdentifiers = new Set(
  sourceFiles(SRC).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/'([a-z][a-z0-9_]*)'/g)].map((match) => match[1]!),
  ),
);

interface FunctionRow {
  name: string;
  signature: string;
  params: string[];
  required: string[];
  body: string;
  is_trigger: boolean;
  service_role: boolean;
  anon: boolean;
  authenticated: boolean;
}

const FUNCTIONS_SQL = `
  select p.proname as name, p.oid::regprocedure::text as signature, p.prosrc as body,
         coalesce(p.proargnames[1:p.pronargs], '{}') as params,
         coalesce(p.proargnames[1:p.pronargs - p.pronargdefaults], '{}') as required,
         p.prorettype = 'trigger'::regtype as is_trigger,
         has_function_privilege('service_role', p.oid, 'execute') as service_role,
         has_function_privilege('anon', p.oid, 'execute') as anon,
         has_function_privilege('authenticated', p.oid, 'execute') as authenticated
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname = 'public'
     and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
   order by 1, 2`;

const RELATIONS_SQL = `
  select c.relname as name, c.relkind as kind,
         case when c.relkind = 'S'
           then has_sequence_privilege($1, c.oid, 'usage') or has_sequence_privilege($1, c.oid, 'select')
                or has_sequence_privilege($1, c.oid, 'update')
           else has_table_privilege($1, c.oid, 'select') or has_table_privilege($1, c.oid, 'insert')
                or has_table_privilege($1, c.oid, 'update') or has_table_privilege($1, c.oid, 'delete')
                or has_table_privilege($1, c.oid, 'truncate') or has_table_privilege($1, c.oid, 'references')
                or has_table_privilege($1, c.oid, 'trigger')
         end as reachable
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
     and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')
   order by 1`;

/**
 * PostgREST picks the overload whose parameters include every key of the JSON body
 * and whose required parameters are all among them. Two overloads are ambiguous when
 * some body matches both: their required parameters together fit in the parameters
 * they share.
 */
function ambiguousPairs(overloads: FunctionRow[]): [string, string][] {
  const pairs: [string, string][] = [];
  overloads.forEach((a, i) => {
    for (const b of overloads.slice(i + 1)) {
      const shared = new Set(a.params.filter((p) => b.params.includes(p)));
      if ([...a.required, ...b.required].every((p) => shared.has(p))) pairs.push([a.signature, b.signature]);
    }
  });
  return pairs;
}

/**
 * What a Supabase project does before any migration runs: the API roles exist
 * (service_role with BYPASSRLS) and default privileges grant everything created in
 * `public` to anon and authenticated, so every migration must revoke what it creates.
 */
const SUPABASE_DEFAULTS_SQL = `
  do $$
  declare r text;
  begin
    foreach r in array array['anon', 'authenticated', 'service_role'] loop
      if not exists (select 1 from pg_roles where rolname = r) then
        begin
          execute format('create role %I nologin noinherit', r);
        exception when duplicate_object or unique_violation then null;
        end;
      end if;
    end loop;
  end $$;
  grant usage on schema public to anon, authenticated, service_role;
  alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
  alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
  alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
`;

async function supabaseLikeDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  const prepare = async (storage: SqlStorage) => {
    await storage.transaction((tx) => tx.exec(SUPABASE_DEFAULTS_SQL));
    await migrate(storage);
  };
  if (kind === 'pglite') {
    const storage = await openPgliteStorage();
    await prepare(storage);
    return { kind, storage, close: () => storage.close() };
  }
  const url = await createPostgresDatabase({ empty: true });
  const storage = openPostgresStorage({
    connectionString: url,
    poolMax: 2,
    connectTimeoutMs: 3000,
    queryTimeoutMs: 60_000,
  });
  await prepare(storage);
  return {
    kind,
    storage,
    url,
    async close() {
      await storage.close();
      await dropPostgresDatabase(url);
    },
  };
}

const setups = {
  'migrated template': (kind: DatabaseKind) => createTestDatabase(kind),
  "Supabase's default privileges": supabaseLikeDatabase,
};

for (const kind of databaseKinds) {
  for (const [setup, open] of Object.entries(setups)) {
    describe(`rpc grants on ${setup} [${kind}]`, () => grantSuite(kind, open));
  }
}

function grantSuite(kind: DatabaseKind, open: (kind: DatabaseKind) => Promise<TestDatabase>) {
  let db: TestDatabase;
  let functions: FunctionRow[];
  let called: string[];

  beforeAll(async () => {
    db = await open(kind);
    functions = await db.storage.query<FunctionRow & Record<string, unknown>>(FUNCTIONS_SQL);
    called = [...new Set(functions.map((f) => f.name))].filter((name) => quotedIdentifiers.has(name)).sort();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('finds the functions src/ calls (the scan itself works)', () => {
    expect(called).toEqual(
      expect.arrayContaining([
        'capture_lead',
        'claim_lead_events',
        'beat_worker',
        'admin_get_lead',
        'leadrelay_ping',
      ]),
    );
  });

  it('lets service_role execute every function src/ calls, no two overloads ambiguous to PostgREST', () => {
    const problems = called.flatMap((name) => {
      const overloads = functions.filter((f) => f.name === name);
      return [
        ...ambiguousPairs(overloads).map(
          ([a, b]) => `${a} and ${b}: one named-argument call matches both (PGRST203)`,
        ),
        ...overloads.filter((f) => !f.service_role).map((f) => `service_role cannot execute ${f.signature}`),
      ];
    });
    expect(problems).toEqual([]);
  });

  it('grants service_role nothing beyond those and the helpers they call', () => {
    // Helpers are found by name in the bodies of granted functions, transitively.
    const needed = new Set(called);
    for (let grew = true; grew; ) {
      grew = false;
      for (const f of functions) {
        if (needed.has(f.name) || f.is_trigger) continue;
        const callers = functions.filter((g) => needed.has(g.name));
        if (callers.some((g) => new RegExp(`\\b${f.name}\\s*\\(`).test(g.body))) {
          needed.add(f.name);
          grew = true;
        }
      }
    }
    const missing = functions
      .filter((f) => needed.has(f.name) && !f.service_role)
      .map((f) => `service_role needs ${f.signature} (called by a function it executes)`);
    const extra = functions
      .filter((f) => !needed.has(f.name) && f.service_role)
      .map((f) => `service_role may execute ${f.signature}, which nothing in rpc mode calls`);
    expect([...missing, ...extra]).toEqual([]);
    expect(functions.filter((f) => f.name === 'capture_lead_replay' && f.service_role)).toHaveLength(1);
  });

  it('lets anon and authenticated execute no function', () => {
    const open = functions
      .filter((f) => f.anon || f.authenticated)
      .map((f) => `${f.signature}: ${f.anon ? 'anon' : ''} ${f.authenticated ? 'authenticated' : ''}`.trim());
    expect(open).toEqual([]);
  });

  it('lets anon and authenticated reach no table, view or sequence, the migration history included', async () => {
    for (const role of ['anon', 'authenticated']) {
      const relations = await db.storage.query<{ name: string; reachable: boolean }>(RELATIONS_SQL, [role]);
      expect(relations.map((r) => r.name)).toContain('leadrelay_schema_migrations');
      expect(relations.filter((r) => r.reachable).map((r) => `${role}: ${r.name}`)).toEqual([]);
    }
  });

  it('has dropped the superseded five-argument beat_worker', () => {
    expect(functions.filter((f) => f.name === 'beat_worker').map((f) => f.signature)).toEqual([
      'beat_worker(text,text,integer,integer,boolean,bigint[])',
    ]);
  });
}
