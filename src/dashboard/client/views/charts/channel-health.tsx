import type { ChannelHealth } from '../../api/types.js';
import { formatTime } from '../format.js';

/** Channel health over 24 h: sent, failed, failure rate and p95 send time, one row per channel. */
export function ChannelHealthTable({ channels }: { channels: ChannelHealth[] }) {
  if (channels.length === 0) return <p class="help">No delivery attempts in the last 24 hours.</p>;
  return (
    <div class="table-wrap">
      <table class="health">
        <caption class="visually-hidden">
          Delivery attempts per channel in the last 24 hours; p95 is the send time 95 % of attempts beat
        </caption>
        <thead>
          <tr>
            <th scope="col">Channel</th>
            <th scope="col" class="num">
              Sent
            </th>
            <th scope="col" class="num">
              Failed
            </th>
            <th scope="col">Failed %</th>
            <th scope="col" class="num">
              p95
            </th>
          </tr>
        </thead>
        <tbody>
          {channels.map((channel) => {
            const tried = channel.sent + channel.failed;
            const rate = tried > 0 ? channel.failed / tried : 0;
            const tone = rate === 0 ? 'ok' : rate < 0.05 ? 'warn' : 'bad';
            return (
              <tr key={channel.channel}>
                <th scope="row">{channel.channel}</th>
                <td class="num">{channel.sent.toLocaleString()}</td>
                <td
                  class="num"
                  title={
                    channel.lastFailedAt ? `Last failure ${formatTime(channel.lastFailedAt)}` : undefined
                  }
                >
                  {channel.failed.toLocaleString()}
                </td>
                <td>
                  <span class={`rate rate-${tone}`}>
                    <span class="rate-track" aria-hidden="true">
                      <span class="rate-fill" style={{ width: `${Math.min(100, rate * 100)}%` }} />
                    </span>
                    {tone === 'ok' ? '✓ ' : '⚠ '}
                    {(rate * 100).toFixed(1)} %
                  </span>
                </td>
                <td class="num">{channel.p95Ms === null ? '–' : `${channel.p95Ms.toLocaleString()} ms`}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
