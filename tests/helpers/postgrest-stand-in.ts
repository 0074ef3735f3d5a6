import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StorageQueryError } from '../../src/storage/errors.js';
import type { SqlStorage } from '../../src/storage/storage.js';

/**
 * A stand-in for a hosted Supabase project's Data API, rpc route only, following
 * PostgREST's documented behaviour (docs.postgrest.org, references/api/functions and
 * references/errors) so that Supabase-mode tests meet what production meets:
 *
 * - The gateway refuses a request whose `apikey` is not one of the project's keys (401).
 * - The bearer JWT is verified (HS256, the project's JWT secret) and decoded; its
 *   `role` claim is the database role. No Authorization header means `anon`.
 * - Each call runs in its own transaction: `set local role <role>`, `request.jwt.claims`
 *   (and request.method/path/headers) set with set_config(..., true), search_path
 *   `public, extensions`. STABLE/IMMUTABLE functions run in a READ ONLY transaction.
 * - The function is found by name in the exposed schema (`public`) and by the JSON
 *   body's keys: a candidate takes every key as a parameter name and gets every
 *   parameter without a default. None: 404 PGRST202; more than one: 300 PGRST203.
 * - Arguments are bound by name from the body through json_to_record with the
 *   parameters' declared types, as PostgREST does, so JSON-to-SQL conversion errors
 *   happen in the database, as they would there.
 * - Errors answer {code, message, details, hint} with PostgREST's SQLSTATE → HTTP table.
 * - `supabase_migrations.schema_migrations` exists (as `supabase db push` leaves it)
 *   and the API roles cannot read it, as on a hosted project.
 *
 * Not emulated: GET rpc, filters/Prefer headers on results, a single unnamed json
 * parameter taking the whole body, the schema cache (every call sees the live
 * catalog), per-role statement timeouts, RLS policies (leadrelay has none), Realtime.
 */
export interface PostgrestStandInOptions {
  /** The project's JWT secret (HS256), which signs its API keys. */
  jwtSecret: string;
  /** The keys the gateway accepts in the `apikey` header (anon and service_role). */
  apiKeys: string[];
  /**
   * How the project was migrated. 'supabase db push' (default) leaves only Supabase's
   * history table; 'leadrelay migrate' (DATABASE_URL) keeps the app's own as well.
   */
  migratedWith?: 'supabase db push' | 'leadrelay migrate';
}

export interface StandInRequest {
  fn: string;
  role: string | undefined;
  apikey: string | undefined;
  authorization: string | undefined;
  status: number;
}

export interface PostgrestStandIn {
  url: string;
  requests: StandInRequest[];
  close(): Promise<void>;
}

interface PostgrestError {
  code: string;
  message: string;
  details: string | null;
  hint: string | null;
}

class HttpAnswer extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

const SCHEMA = 'public';
const pgrst = (
  status: number,
  code: string,
  message: string,
  details: string | null = null,
  hint: string | null = null,
) => new HttpAnswer(status, { code, message, details, hint } satisfies PostgrestError);

/** PostgREST's table "HTTP Status Codes" (references/errors), first match wins. */
const STATUS_BY_SQLSTATE: [RegExp, number][] = [
  [/^08/, 503],
  [/^09/, 500],
  [/^0L/, 403],
  [/^0P/, 403],
  [/^23503$/, 409],
  [/^23505$/, 409],
  [/^25006$/, 405],
  [/^25/, 500],
  [/^28/, 403],
  [/^2D/, 500],
  [/^38/, 500],
  [/^39/, 500],
  [/^3B/, 500],
  [/^40/, 500],
  [/^53400$/, 500],
  [/^53/, 503],
  [/^54/, 500],
  [/^55/, 500],
  [/^57/, 500],
  [/^58/, 500],
  [/^F0/, 500],
  [/^HV/, 500],
  [/^P0001$/, 400],
  [/^P0/, 500],
  [/^XX/, 500],
  [/^42883$/, 404],
  [/^42P01$/, 404],
  [/^42P17$/, 500],
];

export function httpStatusForSqlState(code: string, role: string): number {
  // 42501 insufficient_privilege: 401 for the anonymous role, 403 for any other.
  if (code === '42501') return role === 'anon' ? 401 : 403;
  // RAISE ... USING ERRCODE = 'PT404' sets the status directly.
  const custom = /^PT(\d{3})$/.exec(code);
  if (custom) return Number(custom[1]);
  return STATUS_BY_SQLSTATE.find(([pattern]) => pattern.test(code))?.[1] ?? 400;
}

/** Verifies an HS256 JWT with the project's secret and returns its claims. */
function verifyJwt(token: string, secret: string): Record<string, unknown> {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || signature === undefined) {
    throw pgrst(401, 'PGRST301', `Expected 3 parts in JWT; got ${token.split('.').length}`);
  }
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  const alg = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string }).alg;
  if (alg !== 'HS256' || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw pgrst(401, 'PGRST301', 'JWSError JWSInvalidSignature');
  }
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (typeof claims.exp === 'number' && claims.exp < Date.now() / 1000) {
    throw pgrst(401, 'PGRST303', 'JWT expired');
  }
  return claims;
}

interface Candidate {
  signature: string;
  params: { name: string; type: string }[];
  required: string[];
  readOnly: boolean;
  returnsSet: boolean;
  returnsVoid: boolean;
}

const CANDIDATES_SQL = `
  select p.oid::regprocedure::text as signature,
         p.provolatile in ('s', 'i') as read_only,
         p.proretset as returns_set,
         p.prorettype = 'void'::regtype as returns_void,
         p.pronargdefaults as defaults,
         coalesce((
           select json_agg(json_build_object('name', coalesce(p.proargnames[a.n], ''),
                                             'type', format_type(a.t, null)) order by a.n)
             from unnest(p.proargtypes::oid[]) with ordinality as a(t, n)
         ), '[]') as params
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname = $1 and p.proname = $2 and p.prokind = 'f'
     and (p.proargmodes is null or not (p.proargmodes::text[] && array['o', 't', 'b', 'v']))`;

async function findCandidates(storage: SqlStorage, fn: string): Promise<Candidate[]> {
  const rows = await storage.query<{
    signature: string;
    read_only: boolean;
    returns_set: boolean;
    returns_void: boolean;
    defaults: number;
    params: { name: string; type: string }[];
  }>(CANDIDATES_SQL, [SCHEMA, fn]);
  return rows.map((row) => ({
    signature: row.signature,
    params: row.params,
    required: row.params.slice(0, row.params.length - row.defaults).map((p) => p.name),
    readOnly: row.read_only,
    returnsSet: row.returns_set,
    returnsVoid: row.returns_void,
  }));
}

/** PostgREST's overload rule for a POST with a JSON object body. */
function chooseFunction(fn: string, candidates: Candidate[], keys: string[]): Candidate {
  const matching = candidates.filter((c) => {
    const names = new Set(c.params.map((p) => p.name));
    return keys.every((k) => names.has(k)) && c.required.every((r) => keys.includes(r));
  });
  const sorted = [...keys].sort();
  if (matching.length === 0) {
    throw pgrst(
      404,
      'PGRST202',
      `Could not find the function ${SCHEMA}.${fn}(${sorted.join(', ')}) in the schema cache`,
      `Searched for the function ${SCHEMA}.${fn} with ${sorted.length ? `parameters ${sorted.join(', ')}` : 'without parameters'} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
    );
  }
  if (matching.length > 1) {
    const described = matching.map(
      (c) => `${SCHEMA}.${fn}(${c.params.map((p) => `${p.name} => ${p.type}`).join(', ')})`,
    );
    throw pgrst(
      300,
      'PGRST203',
      `Could not choose the best candidate function between: ${described.join(', ')}`,
      null,
      'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
    );
  }
  return matching[0]!;
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** `select … from json_to_record($1) as _(a text, …)`: PostgREST binds arguments this way. */
function callSql(fn: string, target: Candidate, keys: string[]): string {
  const params = target.params.filter((p) => keys.includes(p.name));
  const args = params.map((p) => `${ident(p.name)} := _.${ident(p.name)}`).join(', ');
  const call = `${ident(SCHEMA)}.${ident(fn)}(${args})`;
  const source = params.length
    ? `json_to_record($1::json) as _(${params.map((p) => `${ident(p.name)} ${p.type}`).join(', ')})`
    : '(select) as _';
  if (target.returnsSet) {
    return `select coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb) as body from ${source} cross join lateral ${call} as r`;
  }
  const value = target.returnsVoid ? `${call} is null` : `to_jsonb(${call})`;
  return `select ${value} as body from ${source}`;
}

async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // answered below
  }
  throw pgrst(400, 'PGRST102', 'Empty or invalid json');
}

/** The role a request runs as: the gateway's key check, then the JWT's `role` claim. */
function roleOf(req: IncomingMessage, options: PostgrestStandInOptions): { role: string; claims: object } {
  const apikey = req.headers.apikey;
  if (typeof apikey !== 'string' || !options.apiKeys.includes(apikey)) {
    throw new HttpAnswer(401, { message: apikey ? 'Invalid API key' : 'No API key found in request' });
  }
  const authorization = req.headers.authorization;
  if (!authorization) return { role: 'anon', claims: {} };
  const token = /^Bearer (.+)$/i.exec(authorization)?.[1];
  if (!token) throw pgrst(401, 'PGRST301', 'Expected Bearer token in Authorization header');
  const claims = verifyJwt(token, options.jwtSecret);
  return { role: typeof claims.role === 'string' ? claims.role : 'anon', claims };
}

async function prepareDatabase(storage: SqlStorage, options: PostgrestStandInOptions): Promise<void> {
  await storage.transaction(async (tx) => {
    await tx.exec(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key, statements text[], name text
      );
      revoke all on schema supabase_migrations from public, anon, authenticated, service_role;
      revoke all on all tables in schema supabase_migrations from public, anon, authenticated, service_role;
    `);
    if (
      await tx
        .query(`select 1 from pg_class where oid = to_regclass('public.leadrelay_schema_migrations')`)
        .then((rows) => rows.length > 0)
    ) {
      await tx.exec(`
        insert into supabase_migrations.schema_migrations (version, name)
        select version, name from leadrelay_schema_migrations on conflict do nothing;
      `);
      if ((options.migratedWith ?? 'supabase db push') === 'supabase db push') {
        await tx.exec('drop table leadrelay_schema_migrations');
      }
    }
  });
}

export async function startPostgrestStandIn(
  storage: SqlStorage,
  options: PostgrestStandInOptions,
): Promise<PostgrestStandIn> {
  await prepareDatabase(storage, options);
  const requests: StandInRequest[] = [];

  const handle = async (req: IncomingMessage, entry: StandInRequest): Promise<HttpAnswer> => {
    const path = (req.url ?? '').split('?')[0]!;
    const match = /^\/rest\/v1\/rpc\/([^/]+)$/.exec(path);
    if (!match) return new HttpAnswer(404, { message: 'no Route matched with those values' });
    const { role, claims } = roleOf(req, options);
    entry.role = role;
    if (req.method !== 'POST') throw pgrst(405, 'PGRST117', `Unsupported HTTP method: ${req.method}`);
    const profile = req.headers['content-profile'];
    if (profile !== undefined && profile !== SCHEMA) {
      throw pgrst(
        406,
        'PGRST106',
        `Invalid schema: ${profile}`,
        null,
        `Only the following schemas are exposed: ${SCHEMA}`,
      );
    }
    const fn = decodeURIComponent(match[1]!);
    const body = await readJsonObject(req);
    const keys = Object.keys(body);
    const target = chooseFunction(fn, await findCandidates(storage, fn), keys);
    const result = await storage.transaction(async (tx) => {
      if (target.readOnly) await tx.query('set transaction read only');
      await tx.query(`set local role ${ident(role)}`);
      await tx.query(
        `select set_config('request.jwt.claims', $1, true), set_config('request.method', 'POST', true),
                set_config('request.path', $2, true), set_config('request.headers', $3, true),
                set_config('search_path', 'public, extensions', true)`,
        [JSON.stringify(claims), path, JSON.stringify(req.headers)],
      );
      const rows = await tx.query<{ body: unknown }>(
        callSql(fn, target, keys),
        keys.length ? [JSON.stringify(body)] : [],
      );
      return rows[0]?.body ?? null;
    });
    return target.returnsVoid ? new HttpAnswer(204, undefined) : new HttpAnswer(200, result);
  };

  const server: Server = createServer(async (req, res) => {
    const entry: StandInRequest = {
      fn: /\/rpc\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '',
      role: undefined,
      apikey: req.headers.apikey as string | undefined,
      authorization: req.headers.authorization,
      status: 0,
    };
    requests.push(entry);
    let answer: HttpAnswer;
    try {
      answer = await handle(req, entry);
    } catch (error) {
      if (error instanceof HttpAnswer) answer = error;
      else if (error instanceof StorageQueryError) {
        const status = httpStatusForSqlState(error.code, entry.role ?? 'anon');
        answer = new HttpAnswer(status, {
          code: error.code,
          message: error.message,
          details: error.detail ?? null,
          hint: null,
        } satisfies PostgrestError);
      } else {
        answer = pgrst(503, 'PGRST001', 'Database client error. Retrying the connection.');
      }
    }
    entry.status = answer.status;
    const headers: Record<string, string> = { ...answer.headers };
    if (answer.status === 401) headers['www-authenticate'] = 'Bearer';
    if (answer.body === undefined) {
      res.writeHead(answer.status, headers).end();
      return;
    }
    res.writeHead(answer.status, { ...headers, 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
