import { describe, expect, it } from 'vitest';
import { webhookMessageId, webhookRetryDelayMs } from '../../src/integrations/webhook-sender.js';
import { generateWebhookSecret, signWebhook } from '../../src/integrations/webhook-signature.js';
import { verifyStandardWebhook } from '../helpers/webhook-receiver-stand-in.js';

describe('Standard Webhooks signing', () => {
  it('matches the specification example', () => {
    // standard-webhooks/standard-webhooks, the reference libraries' test vector.
    const signature = signWebhook(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies with an independent receiver and fails on any change', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_/);
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ type: 'lead.created', data: { name: 'Zoë 😀' } });
    const headers = {
      id: 'msg_1',
      timestamp: String(timestamp),
      signature: signWebhook(secret, 'msg_1', timestamp, body),
    };
    expect(verifyStandardWebhook(secret, headers, body)).toBe(true);
    expect(verifyStandardWebhook(secret, headers, `${body} `)).toBe(false);
    expect(verifyStandardWebhook(secret, { ...headers, id: 'msg_2' }, body)).toBe(false);
    expect(verifyStandardWebhook(generateWebhookSecret(), headers, body)).toBe(false);
    const old = timestamp - 600;
    expect(
      verifyStandardWebhook(
        secret,
        { ...headers, timestamp: String(old), signature: signWebhook(secret, 'msg_1', old, body) },
        body,
      ),
    ).toBe(false);
  });

  it('keeps one message id per event and endpoint', () => {
    const endpoint = '0b0c3c2e-8f1a-4c77-9d3e-2f4b5a6c7d8e';
    expect(webhookMessageId(42, endpoint)).toBe(webhookMessageId(42, endpoint));
    expect(webhookMessageId(42, endpoint)).not.toBe(webhookMessageId(43, endpoint));
  });

  it('follows the schedule (at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) with ±10 % jitter', () => {
    const schedule = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => webhookRetryDelayMs(attempt, schedule, mid))).toEqual([
      5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
    expect(webhookRetryDelayMs(1, schedule, () => 0)).toBe(4_500);
    expect(webhookRetryDelayMs(1, schedule, () => 1)).toBe(5_500);
  });
});
