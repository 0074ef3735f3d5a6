import { type Command, InvalidArgumentError } from 'commander';
import type { Config } from '../config.js';
import { channelVariables } from '../notifications/channel-settings.js';
import { CHANNELS, INTEGRATION_CHANNELS } from '../notifications/sender.js';
import { createProgress } from '../ops/progress.js';
import { outboxStore } from '../outbox/outbox-store.js';
import type { Storage } from '../storage/storage.js';
import { type CliContext, isoTime, positiveInt, UsageError } from './cli-context.js';

/**
 * `leadrelay replay`: send again what did not reach the team.
 *
 *   replay --event <id> | --failed-since <time> | --all
 *     dead events, every channel without a `sent` row (replay_dead_events).
 *   replay --channel <name> --since <time> | --event <id> | --all
 *     one channel, for processed events whose rows for it are all `skipped` or
 *     `failed` and none `sent`: the alerts a channel missed while it was unconfigured
 *     or down (replay_channel_event; the other channels are not touched).
 *
 * Events are listed first and queued one by one, with a progress bar on large replays.
 * The workers send them (on the embedded database: the API's worker, once the API is
 * started again).
 */
interface ReplayOptions {
  event?: number;
  failedSince?: Date;
  since?: Date;
  all?: boolean;
  channel?: string;
}

const KNOWN_CHANNELS = [...CHANNELS, ...INTEGRATION_CHANNELS, 'webhook:<endpoint id>'];

/** A known channel, or one webhook endpoint's channel (`webhook:<uuid>`). */
function channelName(value: string): string {
  const named = ([...CHANNELS, ...INTEGRATION_CHANNELS] as readonly string[]).includes(value);
  const webhook = /^webhook:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
  if (!named && !webhook) throw new InvalidArgumentError(`must be one of ${KNOWN_CHANNELS.join(', ')}`);
  return value;
}

export function registerReplayCommand(program: Command, ctx: CliContext): void {
  program
    .command('replay')
    .description(
      'Send again: dead events (every channel not yet sent), or with --channel the alerts one channel skipped or failed',
    )
    .option('--event <id>', 'one event, by id', positiveInt)
    .option('--failed-since <time>', 'dead events that died at or after this ISO time', isoTime)
    .option(
      '--channel <name>',
      `only this channel (${KNOWN_CHANNELS.join(', ')}): its skipped or failed alerts`,
      channelName,
    )
    .option('--since <time>', 'with --channel: events created at or after this ISO time', isoTime)
    .option('--all', 'every dead event (with --channel: every event that channel missed)')
    .addHelpText(
      'after',
      '\nWithout --channel: exactly one of --event, --failed-since, --all.' +
        '\nWith --channel: exactly one of --event, --since, --all.' +
        '\nA channel that already got a lead never gets it again. A progress bar shows on large replays.',
    )
    .action(async (options: ReplayOptions) => {
      if (options.channel && options.failedSince)
        throw new UsageError('--failed-since selects dead events; with --channel use --since');
      if (!options.channel && options.since)
        throw new UsageError('--since goes with --channel; for dead events use --failed-since');

      const targets = options.channel
        ? { '--event': options.event, '--since': options.since, '--all': options.all }
        : { '--event': options.event, '--failed-since': options.failedSince, '--all': options.all };
      const given = Object.values(targets).filter((value) => value !== undefined && value !== false);
      if (given.length !== 1) throw new UsageError(`give exactly one of ${Object.keys(targets).join(', ')}`);

      const cfg = ctx.config();
      await ctx.withStorage(cfg, (storage) =>
        options.channel
          ? replayChannel(ctx, cfg, storage, options.channel, options)
          : replayDead(ctx, storage, options),
      );
    });
}

async function replayDead(ctx: CliContext, storage: Storage, options: ReplayOptions): Promise<void> {
  const since = options.all ? new Date(0) : options.failedSince;
  const ids = await storage.call<number[]>('ops_dead_event_ids', {
    p_event_id: options.event,
    p_failed_since: since?.toISOString(),
  });
  if (ids.length === 0) {
    ctx.io.out('No dead events matched; nothing queued.\n');
    if (options.event !== undefined) ctx.setResult(1);
    return;
  }
  const store = outboxStore(storage);
  const queued = await eachWithProgress(ctx, ids, async (id) => (await store.replay({ eventId: id })).count);
  ctx.io.out(`Queued ${queued} dead event(s) again${listed(ids)}.\n`);
}

async function replayChannel(
  ctx: CliContext,
  cfg: Config,
  storage: Storage,
  channel: string,
  options: ReplayOptions,
): Promise<void> {
  if (!(cfg.channels as Record<string, unknown>)[channel]) {
    // The CLI does not send; but the workers read the same variables, and without them
    // the replayed alerts would be skipped again.
    ctx.io.err(
      `note: ${channel} is not configured in this environment (${channelVariables(channel)}); ` +
        'make sure the workers have it, or these alerts are skipped again.\n',
    );
  }
  const ids = await storage.call<number[]>('ops_channel_replay_ids', {
    p_channel: channel,
    p_event_id: options.event,
    p_since: options.since?.toISOString(),
  });
  if (ids.length === 0) {
    ctx.io.out(`No event has a skipped or failed ${channel} alert that was never sent; nothing queued.\n`);
    if (options.event !== undefined) ctx.setResult(1);
    return;
  }
  const queued = await eachWithProgress(ctx, ids, async (id) => {
    const result = await storage.call<{ replayed: boolean }>('replay_channel_event', {
      p_event_id: id,
      p_channel: channel,
      p_actor: 'leadrelay replay',
    });
    return result.replayed ? 1 : 0;
  });
  ctx.io.out(`Queued ${queued} event(s) for ${channel} again${listed(ids)}.\n`);
}

/** Runs `work` for each id in turn, with a progress bar from ten ids on; sums what it returns. */
async function eachWithProgress(
  ctx: CliContext,
  ids: readonly (number | string)[],
  work: (id: number) => Promise<number>,
): Promise<number> {
  const progress =
    ids.length >= 10
      ? createProgress(ids.length, {
          write: ctx.io.err,
          interactive: Boolean(ctx.io.interactive),
          label: 'replay',
        })
      : undefined;
  let total = 0;
  for (const id of ids) {
    total += await work(Number(id));
    progress?.tick();
  }
  progress?.done();
  return total;
}

const listed = (ids: readonly (number | string)[]) => (ids.length <= 20 ? `: ${ids.join(', ')}` : '');
