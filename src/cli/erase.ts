import type { Command } from 'commander';
import { recordAudit } from '../audit/audit-store.js';
import { maskEmail, maskPhone } from '../logger.js';
import {
  type ErasureCounts,
  type ErasureResult,
  eraseLead,
  findLeadsByContact,
  type LeadMatch,
  normalizeEmailForLookup,
  normalizePhoneForLookup,
} from '../privacy/erasure.js';
import { countRetentionDue, eraseRetentionDue, retentionCutoff } from '../privacy/retention.js';
import type { Storage } from '../storage/storage.js';
import { type CliContext, UsageError } from './cli-context.js';

/**
 * `leadrelay erase --email <e> | --phone <p> | --lead <id> [--dry-run]`: a GDPR erasure
 * request from the command line (docs/privacy.md). The email and phone are normalised
 * the way intake stores them; every lead that holds them is erased with its merge
 * group, each in its own transaction, and each erasure gets an audit row (actor
 * `cli`, no contact data). The output masks the address it was given.
 * Exit codes: 0 done (also when nothing matched), 1 unknown --lead or a failure,
 * 2 bad usage.
 */
interface EraseOptions {
  email?: string;
  phone?: string;
  lead?: string;
  dryRun?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CLI_ACTOR = { id: null, name: 'cli', role: 'owner' } as const;

/** "2 inquiries, 5 timeline entries, ..." for the counts that are not zero. */
export function describeCounts(counts: ErasureCounts): string {
  const labels: Record<string, string> = {
    leads: 'lead(s)',
    inquiries: 'inquiry(ies)',
    timeline: 'timeline entry(ies)',
    tasks: 'task(s)',
    events: 'event(s) redacted',
    pendingEvents: 'pending alert(s) cancelled',
    notificationLogs: 'notification log(s) cleared',
    crmContacts: 'CRM link(s)',
    auditEntries: 'audit row(s) reduced',
  };
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([key, n]) => `${n} ${labels[key] ?? key}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing';
}

function sum(a: ErasureCounts, b: ErasureCounts): ErasureCounts {
  const out: ErasureCounts = { ...a };
  for (const [key, n] of Object.entries(b)) out[key] = (out[key] ?? 0) + n;
  return out;
}

export function registerEraseCommand(program: Command, ctx: CliContext): void {
  program
    .command('erase')
    .description("Erase a person's data (GDPR): every lead with this email or phone, or one lead by id")
    .option('--email <email>', 'the email address, as the person gave it')
    .option('--phone <phone>', 'the phone number (local numbers use DEFAULT_PHONE_COUNTRY)')
    .option('--lead <id>', 'one lead (and every lead merged with it), by id')
    .option('--dry-run', 'list the leads and count what would be erased; change nothing')
    .addHelpText(
      'after',
      '\nExactly one of --email, --phone, --lead. Cannot be undone: run with --dry-run first.' +
        '\nA tombstone stays (id, source, status, created and erased times); integrations get lead.erased.',
    )
    .action(async (options: EraseOptions) => {
      const given = [options.email, options.phone, options.lead].filter((v) => v !== undefined);
      if (given.length !== 1) throw new UsageError('give exactly one of --email, --phone, --lead');
      const cfg = ctx.config();
      const email = options.email === undefined ? undefined : normalizeEmailForLookup(options.email);
      if (options.email !== undefined && !email) throw new UsageError('--email must be an email address');
      const phone =
        options.phone === undefined
          ? undefined
          : normalizePhoneForLookup(options.phone, cfg.leads.defaultPhoneCountry);
      if (options.phone !== undefined && !phone) {
        throw new UsageError(
          cfg.leads.defaultPhoneCountry
            ? '--phone must be a valid phone number'
            : '--phone must be a valid phone number in international format, e.g. +971501234567',
        );
      }
      if (options.lead !== undefined && !UUID.test(options.lead))
        throw new UsageError('--lead must be a lead id (UUID)');
      const dryRun = Boolean(options.dryRun);
      const who = email
        ? `email ${maskEmail(email)}`
        : phone
          ? `phone ${maskPhone(phone)}`
          : `lead ${options.lead}`;

      await ctx.withStorage(cfg, async (storage) => {
        const matches: Pick<LeadMatch, 'id'>[] = options.lead
          ? [{ id: options.lead }]
          : await findLeadsByContact(storage, { email, phone });
        if (matches.length === 0) {
          ctx.io.out(`No lead holds that ${email ? 'email' : 'phone'} (${who}): nothing to erase.\n`);
          return;
        }
        const results = await eraseAll(storage, matches, dryRun, ctx);
        if (!results) return;
        const total = results.reduce((acc, r) => sum(acc, r.counts), {} as ErasureCounts);
        const erased = results.filter((r) => r.erased || (dryRun && !r.alreadyErased));
        if (dryRun) {
          ctx.io.out(
            `Dry run for ${who}: would erase ${total.leads ?? 0} lead(s): ${describeCounts(total)}. Nothing changed.\n`,
          );
        } else if (erased.length === 0) {
          ctx.io.out(`Already erased (${who}): nothing left to erase.\n`);
        } else {
          ctx.io.out(
            `Erased ${who}: ${describeCounts(total)}. lead.erased queued for ${total.leads ?? 0} lead(s) (webhooks, CRM).\n`,
          );
        }
      });
    });
}

/** Erases (or counts) each match's merge group once; prints one line per group. */
async function eraseAll(
  storage: Storage,
  matches: Pick<LeadMatch, 'id'>[],
  dryRun: boolean,
  ctx: CliContext,
): Promise<ErasureResult[] | undefined> {
  const done = new Set<string>();
  const results: ErasureResult[] = [];
  for (const match of matches) {
    if (done.has(match.id)) continue;
    let result: ErasureResult;
    try {
      result = await eraseLead(storage, match.id, { actor: 'cli', dryRun });
    } catch (error) {
      if (error instanceof Error && error.name === 'NotFoundError') {
        ctx.io.err(`leadrelay: lead ${match.id} not found\n`);
        ctx.setResult(1);
        return undefined;
      }
      throw error;
    }
    for (const id of result.leadIds) done.add(id);
    results.push(result);
    const group = result.leadIds.length > 1 ? ` (with ${result.leadIds.length - 1} merged lead(s))` : '';
    const verb = result.alreadyErased ? 'already erased' : dryRun ? 'would erase' : 'erased';
    ctx.io.out(
      `  ${match.id}${group}: ${verb}${result.alreadyErased ? '' : `: ${describeCounts(result.counts)}`}\n`,
    );
    if (result.erased) {
      await recordAudit(storage, {
        principal: CLI_ACTOR,
        action: 'lead.erase',
        resourceType: 'lead',
        resourceId: match.id,
        status: 'success',
        httpStatus: 200,
        details: { via: 'cli', leads: result.leadIds.length },
        clientIp: null,
        requestId: null,
      });
    }
  }
  return results;
}

/**
 * The lead-retention part of `leadrelay cleanup` (the daily cron): with
 * LEAD_RETENTION_DAYS set, erase the leads closed longer ago than that; with --dry-run,
 * count them. Unset, it says retention is off and touches nothing.
 */
export async function cleanupLeadRetention(
  storage: Storage,
  days: number | undefined,
  dryRun: boolean,
  io: CliContext['io'],
): Promise<void> {
  if (days === undefined) {
    io.out('Lead retention is off (LEAD_RETENTION_DAYS unset): no lead is erased.\n');
    return;
  }
  const cutoff = retentionCutoff(days);
  const window = `closed (won or lost) before ${cutoff.toISOString()} (LEAD_RETENTION_DAYS=${days})`;
  if (dryRun) {
    const due = await countRetentionDue(storage, cutoff);
    const merged = due.mergedLeads > 0 ? ` with ${due.mergedLeads} merged lead(s)` : '';
    io.out(
      `Dry run: would erase ${due.leads} lead(s)${merged} ${window}: ${due.inquiries} inquiry(ies), ${due.timeline} timeline entry(ies), ${due.events} event(s) redacted. Nothing changed.\n`,
    );
    return;
  }
  const { leads } = await eraseRetentionDue(storage, cutoff);
  io.out(`Erased ${leads} lead(s) ${window}; lead.erased queued for the integrations.\n`);
}
