import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliIo, runCli } from '../../src/cli/leadrelay.js';
import { captureLead } from '../../src/leads/capture-lead.js';
import type { NormalizedLead } from '../../src/leads/lead-input.js';
import { openPgliteStorage } from '../../src/storage/pglite-storage.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases.js';
import { leadDataSnapshot, tablesMentioning } from './fixtures.js';

/**
 * `leadrelay erase` and the lead-retention part of `leadrelay cleanup`, run in-process
 * through runCli against a real database (PGlite in DATA_DIR, or Postgres).
 */
async function cli(env: Record<string, string>, ...argv: string[]) {
  let out = '';
  let err = '';
  const io: CliIo = {
    env: { LOG_LEVEL: 'warn', ...env },
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    interactive: false,
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}

for (const kind of databaseKinds) {
  // Each CLI run opens the database anew (PGlite: its folder), so these take a while on a busy machine.
  describe(`leadrelay erase and lead retention [${kind}]`, { timeout: 120_000 }, () => {
    let db: TestDatabase | undefined;
    let dataDir: string;
    let env: Record<string, string>;

    /** PGlite's folder belongs to one process at a time: open it between CLI runs only. */
    async function onDatabase<T>(work: (storage: SqlStorage) => Promise<T>): Promise<T> {
      if (db) return work(db.storage);
      const storage = await openPgliteStorage({ dataDir: join(dataDir, 'pglite') });
      try {
        return await work(storage);
      } finally {
        await storage.close();
      }
    }
    const capture = (storage: SqlStorage, lead: Partial<NormalizedLead>) =>
      captureLead(storage, { intent: 'buy', source: 'chatbot', metadata: {}, ...lead } as NormalizedLead, {
        slaMinutes: 5,
      });
    /** Closes a lead `days` ago: its status and the status_changed entry retention reads. */
    const closeDaysAgo = (storage: SqlStorage, id: string, status: 'won' | 'lost', days: number) =>
      storage.query(
        `with c as (update conversations set status = $2, updated_at = now() - make_interval(days => $3)
                     where id = $1 returning id)
         insert into conversation_timeline (conversation_id, entry_type, title, details, created_at)
         select id, 'status_changed', 'Status changed to ' || $2, jsonb_build_object('from', 'new', 'to', $2),
                now() - make_interval(days => $3) from c`,
        [id, status, days],
      );

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'leadrelay-erase-cli-'));
      if (kind === 'postgres') {
        db = await createTestDatabase('postgres', { poolMax: 3 });
        env = { DATABASE_URL: db.url! };
      } else {
        const storage = await openPgliteStorage({
          dataDir: join(dataDir, 'pglite'),
          loadDataDir: new Blob([readFileSync(inject('pgliteTemplatePath'))]),
        });
        await storage.close();
        env = { DATA_DIR: dataDir };
      }
    });
    afterAll(async () => {
      await db?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('refuses bad usage with exit code 2, naming the option', async () => {
      expect((await cli(env, 'erase')).err).toContain('exactly one of --email, --phone, --lead');
      expect((await cli(env, 'erase', '--email', 'a@b.co', '--phone', '+971501234567')).code).toBe(2);
      const email = await cli(env, 'erase', '--email', 'not an email');
      expect([email.code, email.err]).toEqual([
        2,
        expect.stringContaining('--email must be an email address'),
      ]);
      const phone = await cli(env, 'erase', '--phone', '12');
      expect([phone.code, phone.err]).toEqual([
        2,
        expect.stringContaining('--phone must be a valid phone number'),
      ]);
      const lead = await cli(env, 'erase', '--lead', 'abc');
      expect([lead.code, lead.err]).toEqual([2, expect.stringContaining('--lead must be a lead id')]);
      const help = await cli(env, 'erase', '--help');
      expect(help.out).toContain('Usage: leadrelay erase');
    });

    it('--dry-run by email lists and counts and changes nothing; the erasure then leaves no trace', async () => {
      const ids = await onDatabase(async (s) => {
        const a = await capture(s, {
          customerName: 'Cli Erasee',
          customerEmail: 'cli.erasee@example.com',
          customerPhone: '+971505556677',
        });
        // An older, closed lead of the same person: found by phone too.
        const b = await capture(s, { customerName: 'Cli Erasee', customerPhone: '+971505556677' });
        return [a.id, b.id];
      });
      const before = await onDatabase((s) => leadDataSnapshot(s));

      // Typed the way a person would: upper case and spaces.
      const dry = await cli(env, 'erase', '--email', '  CLI.Erasee@Example.com ', '--dry-run');
      expect(dry.code).toBe(0);
      expect(dry.out).toContain(`${ids[0]}: would erase`);
      expect(dry.out).toMatch(/Dry run for email .*: would erase 1 lead\(s\).*Nothing changed\./);
      expect(dry.out).not.toContain('cli.erasee@example.com');
      expect(await onDatabase((s) => leadDataSnapshot(s))).toBe(before);

      const byPhone = await cli(env, 'erase', '--phone', '+971 50 555 6677', '--dry-run');
      expect(byPhone.out).toMatch(/would erase 2 lead\(s\)/);

      const real = await cli(env, 'erase', '--phone', '+971 50 555 6677');
      expect(real.code).toBe(0);
      expect(real.out).toMatch(/Erased phone .*: 2 lead\(s\)/);
      expect(real.out).not.toContain('555 6677');
      const left = await onDatabase((s) =>
        tablesMentioning(s, ['cli.erasee@example.com', '+971505556677', '971505556677', 'Cli Erasee']),
      );
      expect(left).toEqual([]);
      // Audited: one row per erased lead, actor cli, no contact data.
      const audit = await onDatabase((s) =>
        s.query<{ actor_name: string; resource_id: string; details: unknown }>(
          `select actor_name, resource_id, details from audit_logs where action = 'lead.erase' order by id`,
        ),
      );
      expect(audit).toEqual(
        ids.map((id) => ({ actor_name: 'cli', resource_id: id, details: { via: 'cli', leads: 1 } })),
      );

      const again = await cli(env, 'erase', '--email', 'cli.erasee@example.com');
      expect([again.code, again.out]).toEqual([0, expect.stringContaining('nothing to erase')]);
      const unknown = await cli(env, 'erase', '--lead', crypto.randomUUID());
      expect([unknown.code, unknown.err]).toEqual([1, expect.stringContaining('not found')]);
    });

    it('cleanup erases only leads closed longer ago than LEAD_RETENTION_DAYS, after a dry run that changes nothing', async () => {
      const leads = await onDatabase(async (s) => {
        const made = {
          oldWon: await capture(s, { customerName: 'Old Won', customerEmail: 'old.won@example.com' }),
          oldLost: await capture(s, { customerName: 'Old Lost', customerEmail: 'old.lost@example.com' }),
          recentWon: await capture(s, {
            customerName: 'Recent Won',
            customerEmail: 'recent.won@example.com',
          }),
          oldOpen: await capture(s, { customerName: 'Old Open', customerEmail: 'old.open@example.com' }),
        };
        await closeDaysAgo(s, made.oldWon.id, 'won', 400);
        await closeDaysAgo(s, made.oldLost.id, 'lost', 91);
        await closeDaysAgo(s, made.recentWon.id, 'won', 10);
        await s.query(
          `update conversations set created_at = now() - interval '500 days',
                  updated_at = now() - interval '500 days', status = 'qualified' where id = $1`,
          [made.oldOpen.id],
        );
        return made;
      });

      const off = await cli(env, 'cleanup', '--dry-run');
      expect(off.out).toContain('Lead retention is off (LEAD_RETENTION_DAYS unset)');

      const before = await onDatabase((s) => leadDataSnapshot(s));
      const dry = await cli({ ...env, LEAD_RETENTION_DAYS: '90' }, 'cleanup', '--dry-run');
      expect(dry.code).toBe(0);
      expect(dry.out).toMatch(
        /would erase 2 lead\(s\) closed \(won or lost\) before .* \(LEAD_RETENTION_DAYS=90\)/,
      );
      expect(await onDatabase((s) => leadDataSnapshot(s))).toBe(before);

      const real = await cli({ ...env, LEAD_RETENTION_DAYS: '90' }, 'cleanup');
      expect(real.code).toBe(0);
      expect(real.out).toMatch(/Erased 2 lead\(s\) closed/);
      const state = await onDatabase((s) =>
        s.query<{ id: string; erased: boolean }>(
          'select id, erased_at is not null as erased from conversations where id = any($1::uuid[])',
          [Object.values(leads).map((l) => l.id)],
        ),
      );
      const erased = Object.fromEntries(state.map((r) => [r.id, r.erased]));
      expect(erased).toEqual({
        [leads.oldWon.id]: true,
        [leads.oldLost.id]: true,
        [leads.recentWon.id]: false,
        [leads.oldOpen.id]: false,
      });
      const reasons = await onDatabase((s) =>
        s.query<{ reason: string }>(
          `select payload->>'reason' as reason from lead_events
            where event_type = 'lead.erased' and conversation_id = any($1::uuid[])`,
          [[leads.oldWon.id, leads.oldLost.id]],
        ),
      );
      expect(reasons.map((r) => r.reason)).toEqual(['retention', 'retention']);
      const again = await cli({ ...env, LEAD_RETENTION_DAYS: '90' }, 'cleanup', '--dry-run');
      expect(again.out).toMatch(/would erase 0 lead\(s\)/);
    });
  });
}
