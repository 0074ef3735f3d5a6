import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SqlStorage } from '../../src/storage/storage.js';
import { TEST_ADMIN_KEY } from '../helpers/app.js';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import { type Channels, captureBacklog, FAST_WORKER_ENV, startChannels } from '../outbox/harness.js';
import { leadIdsIn, seededRandom, spawnWorker, type WorkerProcess, workerIdOf } from './worker-process.js';

/**
 * Seed 003: "Worker crash -> worker catches up, no data loss". Two worker processes
 * drain thousands of events while the test SIGKILLs one of them (chosen at random)
 * again and again, each time while it holds a batch, and starts a new one in its place.
 * At the end every event is processed and every channel got every lead. A kill can
 * only cause a duplicate by a send that succeeded and was not yet recorded, so every
 * duplicated event must be one the killed worker held at the moment of the kill, and
 * there are at most kills × batch size × channels of them.
 */
const SOAK = process.env.LEADRELAY_SOAK === '1';
const EVENTS = SOAK ? 10_000 : 2_000;
const KILLS = SOAK ? 25 : 5;
const BATCH_SIZE = 50;
const CHANNELS = 3;
const SEED = Number(process.env.LEADRELAY_KILL_SEED ?? 20261122);

describe.skipIf(!hasPostgres)('worker crashes lose nothing [postgres]', () => {
  let db: TestDatabase;
  let url: string;
  let storage: SqlStorage;
  let channels: Channels;
  const workers: WorkerProcess[] = [];

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await storage.query<{ n: string }>(sql, params))[0]!.n);
  const env = () => ({
    DATABASE_URL: url,
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: 'warn',
    ...FAST_WORKER_ENV,
    ...channels.env,
    WORKER_BATCH_SIZE: String(BATCH_SIZE),
    // Short enough that a killed worker's batch comes back quickly, long enough that a
    // live worker on a busy machine keeps its lease (a lost lease would be a duplicate
    // no kill caused). Sends never time out here for the same reason.
    WORKER_LEASE_SECONDS: '3',
    WORKER_SEND_TIMEOUT_MS: '15000',
  });

  beforeAll(async () => {
    db = await createTestDatabase('postgres', { poolMax: 4 });
    url = db.url!;
    storage = db.storage;
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    channels = await startChannels();
  });
  afterEach(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
    await channels.close();
  });

  it(
    `drains ${EVENTS} events through ${KILLS} SIGKILLs with duplicates only from batches in flight`,
    async () => {
      const random = seededRandom(SEED);
      const slots: WorkerProcess[] = [spawnWorker(env()), spawnWorker(env())];
      workers.push(...slots);
      await captureBacklog(storage, EVENTS, 'Crash');
      const processed = () => count('select count(*) as n from lead_events where processed');
      const started = Date.now();
      // Kill points: random shares of the drain, in order.
      const killAt = Array.from({ length: KILLS }, () => Math.floor(EVENTS * (0.05 + 0.55 * random()))).sort(
        (a, b) => a - b,
      );
      const kills: { atMs: number; processed: number; slot: number; pid: number; held: number }[] = [];
      const heldAtKill = new Set<number>();

      for (const threshold of killAt) {
        const pick = random();
        await waitFor(async () => (await processed()) >= threshold, {
          timeoutMs: 60_000,
          intervalMs: 20,
          message: `${threshold} events processed`,
        });
        // The victim: one of the workers holding a batch right now (picked at random when
        // both are), so the kill lands mid-send.
        const { slot, victimId } = await waitFor(
          async () => {
            const ids = await Promise.all(slots.map((worker) => workerIdOf(storage, worker)));
            const holding = await storage.query<{ locked_by: string }>(
              'select distinct locked_by from lead_events where locked_by = any($1::text[]) and not processed',
              [ids.filter((id) => id !== undefined)],
            );
            const candidates = [0, 1].filter((i) => holding.some((row) => row.locked_by === ids[i]));
            const chosen = candidates[Math.floor(pick * candidates.length)];
            return chosen === undefined ? undefined : { slot: chosen, victimId: ids[chosen]! };
          },
          { timeoutMs: 30_000, intervalMs: 10, message: 'a worker holding a batch' },
        );
        const victim = slots[slot]!;
        victim.child.kill('SIGKILL');
        await victim.exited;
        const held = await storage.query<{ id: string }>(
          'select id from lead_events where locked_by = $1 and not processed',
          [victimId],
        );
        for (const row of held) heldAtKill.add(Number(row.id));
        kills.push({
          atMs: Date.now() - started,
          processed: await processed(),
          slot,
          pid: victim.pid,
          held: held.length,
        });
        const replacement = spawnWorker(env());
        workers.push(replacement);
        slots[slot] = replacement;
      }

      await waitFor(async () => (await processed()) === EVENTS, {
        timeoutMs: SOAK ? 600_000 : 90_000,
        intervalMs: 200,
        message: `all ${EVENTS} events processed`,
      });
      const drainMs = Date.now() - started;
      const scheduleText = kills
        .map((k) => `${k.atMs}ms at ${k.processed} done/slot${k.slot}/held ${k.held}`)
        .join(', ');

      expect(await count(`select count(*) as n from lead_events where outcome = 'delivered'`)).toBe(EVENTS);
      expect(await count('select count(*) as n from lead_events where locked_by is not null')).toBe(0);
      // Causes of duplicates other than kills, to tell them apart if the bound breaks: a
      // failed (timed out) send, or a live worker that lost its lease before recording.
      const failedSends = await storage.query(
        `select event_id, channel, error from notification_logs where status <> 'sent' limit 5`,
      );
      const leaseLost = workers.flatMap((worker) =>
        worker.output.filter((line) => line.includes('Lease lost before recording')),
      );
      expect(failedSends, 'sends that failed although every channel was up').toEqual([]);
      expect(leaseLost, 'live workers that lost their lease').toEqual([]);
      // One sent row per channel per event: a killed worker records nothing, so no sent row twice.
      expect(await count(`select count(*) as n from notification_logs where status = 'sent'`)).toBe(
        EVENTS * CHANNELS,
      );
      expect(
        await count(
          `select count(*) as n from (select 1 from notification_logs where status = 'sent'
           group by event_id, channel having count(*) > 1) d`,
        ),
      ).toBe(0);

      // What the receivers got: every lead on every channel; the extra copies are the duplicates.
      const received = {
        slack: leadIdsIn(channels.slack.delivered().map((post) => post.raw)),
        email: leadIdsIn(channels.smtp.messages.map((message) => message.text)),
        telegram: leadIdsIn(channels.telegram.delivered().map((request) => request.params.text ?? '')),
      };
      const eventOf = new Map(
        (
          await storage.query<{ id: string; conversation_id: string }>(
            'select id, conversation_id from lead_events',
          )
        ).map((row) => [row.conversation_id, Number(row.id)]),
      );
      let duplicates = 0;
      const duplicatedEvents = new Set<number>();
      for (const [channel, ids] of Object.entries(received)) {
        const seen = new Map<string, number>();
        for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
        expect(seen.size, `${channel}: distinct leads received`).toBe(EVENTS);
        for (const [id, n] of seen) {
          if (n === 1) continue;
          duplicates += n - 1;
          duplicatedEvents.add(eventOf.get(id) ?? -1);
        }
      }
      // A duplicate only comes from an event a killed worker held when it died ...
      const unexplained = [...duplicatedEvents].filter((id) => !heldAtKill.has(id));
      expect(
        unexplained,
        `duplicates outside the killed batches (seed ${SEED}; kills ${scheduleText})`,
      ).toEqual([]);
      // ... and each held event can be re-sent at most once per channel per kill that held it.
      expect(heldAtKill.size).toBeLessThanOrEqual(kills.length * BATCH_SIZE);
      expect(duplicates).toBeLessThanOrEqual(heldAtKill.size * CHANNELS);
      expect(duplicates).toBeLessThanOrEqual(kills.length * BATCH_SIZE * CHANNELS);
      expect(kills).toHaveLength(KILLS);

      console.info(
        `reliability: worker crashes: ${EVENTS} events, 2 workers, ${kills.length} SIGKILLs (seed ${SEED}: ${scheduleText}), ` +
          `drained in ${drainMs} ms, ${heldAtKill.size} events in flight at kills, ${duplicates} duplicate sends ` +
          `(bound ${heldAtKill.size * CHANNELS} = in flight × ${CHANNELS} channels; ` +
          `${kills.length * BATCH_SIZE * CHANNELS} = kills × batch × channels), 0 events lost, 0 rows lost`,
      );
    },
    SOAK ? 900_000 : 240_000,
  );
});
