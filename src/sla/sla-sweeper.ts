import type { Logger } from '../logger.js';
import { recordSlaBreaches } from '../metrics/metrics.js';
import { toError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import { type BusinessHours, businessDeadline } from '../team/business-hours.js';
import { type AssignmentStrategy, assignWaitingLeads } from '../team/team-store.js';

/**
 * The SLA sweep. A lead is due for first contact SLA_FIRST_RESPONSE_MINUTES after it
 * arrives (capture_lead sets sla_due_at). The sweep (SQL function sweep_sla_breaches)
 * marks overdue leads breached, writes their "SLA breached" timeline entry and emits
 * lead.sla_breached exactly once per lead, which the notification worker sends as an
 * escalation alert. Several sweepers may run at once (one per worker): the SQL skips
 * rows another sweeper holds and the event's dedupe_key `sla:<lead id>` is unique.
 */
export interface SweepResult {
  breached: number;
  ids: string[];
  /** Breached leads moved to someone else (SLA_REASSIGN_ON_BREACH). */
  reassigned: number;
}

/**
 * SLA automation (issue 12): on a first breach the lead moves once to the next
 * available member, who gets their own first-contact deadline (business hours); a
 * second breach escalates without moving it again. The waiting queue is drained on
 * every tick, so a shift that starts by the clock picks up waiting leads.
 */
export interface SlaAutomation {
  reassignOnBreach: boolean;
  assignment: AssignmentStrategy;
  slaMinutes: number;
  businessHours?: BusinessHours | undefined;
  timeZone: string;
}

export function slaAutomationOf(config: {
  leads: { slaFirstResponseMinutes: number };
  team: {
    assignmentStrategy: AssignmentStrategy;
    reassignOnBreach: boolean;
    businessHours?: BusinessHours | undefined;
    timeZone: string;
  };
}): SlaAutomation {
  return {
    reassignOnBreach: config.team.reassignOnBreach,
    assignment: config.team.assignmentStrategy,
    slaMinutes: config.leads.slaFirstResponseMinutes,
    businessHours: config.team.businessHours,
    timeZone: config.team.timeZone,
  };
}

/** Without automation settings the sweep behaves as before issue 12: breach and alert, no reassignment. */
const NO_AUTOMATION: SlaAutomation = {
  reassignOnBreach: false,
  assignment: 'none',
  slaMinutes: 5,
  timeZone: 'UTC',
};

export interface SweepOptions {
  /** The sweep's clock (tests move it); the database's now() when absent. */
  now?: Date | undefined;
  /** Leads per transaction; the sweep repeats while batches come back full. */
  batchSize?: number | undefined;
  automation?: SlaAutomation | undefined;
}

const DEFAULT_BATCH_SIZE = 500;
/** A sweep never loops for ever, even if leads keep becoming due while it runs. */
const MAX_BATCHES_PER_SWEEP = 100;

export async function sweepSlaBreaches(storage: Storage, options: SweepOptions = {}): Promise<SweepResult> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const automation = options.automation ?? NO_AUTOMATION;
  const now = options.now ?? new Date();
  const escalationDueAt = businessDeadline(
    now,
    automation.slaMinutes,
    automation.businessHours,
    automation.timeZone,
  );
  const total: SweepResult = { breached: 0, ids: [], reassigned: 0 };
  for (let batch = 0; batch < MAX_BATCHES_PER_SWEEP; batch++) {
    const result = await storage.call<SweepResult>('sweep_sla_breaches', {
      p_now: options.now?.toISOString(),
      p_limit: batchSize,
      p_options: {
        reassignOnBreach: automation.reassignOnBreach,
        assignment: automation.assignment,
        escalationDueAt: escalationDueAt.toISOString(),
      },
    });
    total.breached += result.breached;
    total.reassigned += result.reassigned ?? 0;
    total.ids.push(...result.ids);
    if (result.breached < batchSize) break;
  }
  return total;
}

export interface SlaSweeperOptions {
  storage: Storage;
  logger: Logger;
  /** Time between sweeps (SLA_SWEEP_INTERVAL_MS, one minute by default). */
  intervalMs: number;
  batchSize?: number;
  /** Clock for tests. */
  now?: () => Date;
  automation?: SlaAutomation;
}

/**
 * Runs the sweep now and then every `intervalMs` (never two at once in this process).
 * A failed sweep is logged and tried again at the next tick: a database blip delays
 * an escalation by one interval, it never loses one (the breach is still pending).
 * Returns stop(), which waits for a sweep in progress to finish.
 */
export function startSlaSweeper(options: SlaSweeperOptions): () => Promise<void> {
  const { storage, logger, intervalMs } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const tick = async () => {
    const started = Date.now();
    try {
      const now = options.now?.();
      const result = await sweepSlaBreaches(storage, {
        now,
        batchSize: options.batchSize,
        automation: options.automation,
      });
      if (options.automation && options.automation.assignment !== 'none') {
        const drained = await assignWaitingLeads(storage, options.automation.assignment, now);
        if (drained.assigned > 0) {
          logger.info({ assigned: drained.assigned, conversationIds: drained.ids }, 'Waiting leads assigned');
        }
      }
      recordSlaBreaches(result.breached);
      if (result.breached > 0) {
        logger.warn(
          {
            breached: result.breached,
            reassigned: result.reassigned,
            conversationIds: result.ids,
            durationMs: Date.now() - started,
          },
          `SLA breached for ${result.breached} lead(s): escalation events emitted`,
        );
      } else {
        logger.debug({ durationMs: Date.now() - started }, 'SLA sweep: nothing overdue');
      }
    } catch (error) {
      logger.error({ err: toError(error) }, 'SLA sweep failed; retrying at the next interval');
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = undefined;
        schedule();
      });
    }, intervalMs);
    timer.unref();
  };

  running = tick().finally(() => {
    running = undefined;
    schedule();
  });
  logger.info({ intervalMs }, 'SLA sweeper started');

  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
    logger.info('SLA sweeper stopped');
  };
}
