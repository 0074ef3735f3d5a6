import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { type PostgrestStandIn, startPostgrestStandIn } from '../helpers/postgrest-stand-in.js';
import {
  signSupabaseJwt,
  TEST_SECRETS,
  TEST_SUPABASE_ANON_KEY,
  TEST_SUPABASE_PROJECT,
} from '../helpers/secrets.js';

/**
 * The stand-in keeps PostgREST's documented rules, so the Supabase-mode tests can
 * trust it: the role from the JWT, named-argument resolution with PGRST202/PGRST203,
 * read-only transactions for STABLE functions, PostgREST's error body and statuses.
 */
const SERVICE_KEY = TEST_SECRETS.supabaseServiceRoleKey;

const PROBES_SQL = `
  create function standin_whoami() returns jsonb language sql volatile as $$
    select jsonb_build_object('user', current_user,
                              'claims', current_setting('request.jwt.claims', true)::jsonb)
  $$;
  create function standin_overloaded(p_a integer) returns jsonb language sql as $$ select to_jsonb(p_a) $$;
  create function standin_overloaded(p_a integer, p_b integer default 0) returns jsonb
    language sql as $$ select to_jsonb(p_a + p_b) $$;
  create function standin_write() returns jsonb language plpgsql volatile as $$
  begin
    update conversations set updated_at = updated_at where false;
    return '{}';
  end $$;
  -- Declared STABLE but calling a writer: PostgREST's read-only transaction stops it.
  create function standin_stable_write() returns jsonb language sql stable as $$ select standin_write() $$;
  create function standin_typed(p_ids bigint[], p_at timestamptz, p_doc jsonb) returns jsonb
    language sql as $$ select jsonb_build_object('n', cardinality(p_ids), 'year', extract(year from p_at)::int, 'doc', p_doc) $$;
  revoke all on function standin_whoami(), standin_overloaded(integer), standin_overloaded(integer, integer),
    standin_stable_write(), standin_write(), standin_typed(bigint[], timestamptz, jsonb) from public, anon, authenticated;
  grant execute on function standin_whoami(), standin_overloaded(integer), standin_overloaded(integer, integer),
    standin_stable_write(), standin_write(), standin_typed(bigint[], timestamptz, jsonb) to service_role;
`;

describeEachDatabase('PostgREST stand-in', (kind) => {
  let db: TestDatabase;
  let standIn: PostgrestStandIn;

  const rpc = async (
    fn: string,
    body: unknown = {},
    key: string = SERVICE_KEY,
    bearer: string | null = key,
  ) => {
    const response = await fetch(`${standIn.url}/rest/v1/rpc/${fn}`, {
      method: 'POST',
      headers: {
        apikey: key,
        'content-type': 'application/json',
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    await db.storage.transaction((tx) => tx.exec(PROBES_SQL));
    standIn = await startPostgrestStandIn(db.storage, TEST_SUPABASE_PROJECT);
  });
  afterAll(async () => {
    await standIn?.close();
    await db?.close();
  });

  it('runs each call as the JWT role with request.jwt.claims set', async () => {
    const { status, body } = await rpc('standin_whoami');
    expect(status).toBe(200);
    expect(body).toMatchObject({ user: 'service_role', claims: { role: 'service_role', iss: 'supabase' } });
  });

  it('binds named arguments from JSON with the declared types', async () => {
    const { status, body } = await rpc('standin_typed', {
      p_ids: [1, 2, 3],
      p_at: '2026-12-01T10:00:00Z',
      p_doc: { nested: ['x'] },
    });
    expect(status).toBe(200);
    expect(body).toEqual({ n: 3, year: 2026, doc: { nested: ['x'] } });
  });

  it('answers 300 PGRST203 when two overloads match the arguments, and resolves when one does', async () => {
    const ambiguous = await rpc('standin_overloaded', { p_a: 1 });
    expect(ambiguous.status).toBe(300);
    expect(ambiguous.body).toMatchObject({ code: 'PGRST203', details: null });
    expect(String(ambiguous.body.message)).toContain('Could not choose the best candidate function');
    const chosen = await rpc('standin_overloaded', { p_a: 1, p_b: 2 });
    expect(chosen).toEqual({ status: 200, body: 3 });
  });

  it('answers 404 PGRST202 for a missing function or unknown argument names', async () => {
    const missing = await rpc('no_such_function', { p_x: 1 });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({
      code: 'PGRST202',
      message: 'Could not find the function public.no_such_function(p_x) in the schema cache',
      hint: null,
    });
    expect((await rpc('standin_typed', { p_ids: [], p_wrong: 1 })).body.code).toBe('PGRST202');
  });

  it('runs STABLE functions read-only: a write there is 405 (25006)', async () => {
    const { status, body } = await rpc('standin_stable_write');
    expect(status).toBe(405);
    expect(body).toMatchObject({ code: '25006' });
    expect((await rpc('standin_write')).status).toBe(200);
  });

  it('refuses the anon role the server functions with 401 (42501), and bad keys and tokens with 401', async () => {
    const anon = await rpc('leadrelay_ping', {}, TEST_SUPABASE_ANON_KEY);
    expect(anon.status).toBe(401);
    expect(anon.body).toMatchObject({ code: '42501' });
    expect(Object.keys(anon.body).sort()).toEqual(['code', 'details', 'hint', 'message']);
    const noBearer = await rpc('standin_whoami', {}, TEST_SUPABASE_ANON_KEY, null);
    expect(noBearer.status).toBe(401);
    const forged = signSupabaseJwt({ role: 'service_role' }, 'not-the-project-secret');
    expect(await rpc('standin_whoami', {}, SERVICE_KEY, forged)).toMatchObject({
      status: 401,
      body: { code: 'PGRST301' },
    });
    expect((await rpc('standin_whoami', {}, 'not-a-project-key')).status).toBe(401);
  });

  it('keeps supabase_migrations unreadable for service_role, as on a hosted project', async () => {
    const direct = await db.storage.transaction(async (tx) => {
      await tx.query('set local role service_role');
      return tx.query(`select has_schema_privilege('supabase_migrations', 'usage') as usage`);
    });
    expect(direct[0]?.usage).toBe(false);
    // leadrelay_schema_versions() survives it: no readable history is null, not 42501.
    expect(await rpc('leadrelay_schema_versions')).toEqual({ status: 200, body: null });
  });
});
