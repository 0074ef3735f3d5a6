import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isForbiddenAddress, refusalForHost } from '../../src/integrations/ssrf-guard.js';
import { createWebhookSender } from '../../src/integrations/webhook-sender.js';
import { buildLeadAlert } from '../../src/notifications/lead-alert.js';
import { SendError } from '../../src/notifications/sender.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver-stand-in.js';

describe('SSRF guard', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '10.0.0.8',
    '172.16.5.4',
    '192.168.1.1',
    '100.64.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '224.0.0.1',
  ])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '172.32.0.1'])('allows %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });

  it('refuses localhost and IP literals by name, unless private networks are allowed', () => {
    expect(refusalForHost('localhost', false)).toMatch(/refused/);
    expect(refusalForHost('[::1]', false)).toMatch(/refused/);
    expect(refusalForHost('hooks.example.com', false)).toBeUndefined();
    expect(refusalForHost('127.0.0.1', true)).toBeUndefined();
  });

  it('refuses a host name that resolves to loopback on the address actually connected to', async () => {
    // The machine's own name resolves to a loopback address here (/etc/hosts); a name
    // passes the form check, so only the socket's guarded lookup can stop it.
    const name = hostname();
    const resolved = await lookup(name).catch(() => undefined);
    if (!resolved || !isForbiddenAddress(resolved.address)) return;
    expect(refusalForHost(name, false)).toBeUndefined();

    const receiver = await startWebhookReceiver();
    try {
      const url = receiver.url.replace('127.0.0.1', name);
      const endpoint = {
        id: '00000000-0000-4000-8000-000000000001',
        url,
        events: ['lead.created'],
        secret: 'whsec_AAAA',
        createdAt: new Date(0).toISOString(),
      };
      const event = {
        id: 1,
        type: 'lead.created',
        conversationId: null,
        payload: {},
        createdAt: new Date().toISOString(),
        attempt: 1,
      };
      const alert = buildLeadAlert({ ...event, eventType: event.type }, 'http://localhost/admin');
      const strict = createWebhookSender({ endpoint, allowPrivateNetworks: false });
      const refused = await strict
        .send(alert, AbortSignal.timeout(5000), event)
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(SendError);
      expect(refused).toMatchObject({ kind: 'permanent' });
      expect((refused as Error).message).toMatch(/refused/);
      expect(receiver.deliveries).toHaveLength(0);

      receiver.secret = endpoint.secret;
      const allowed = createWebhookSender({ endpoint, allowPrivateNetworks: true });
      await expect(allowed.send(alert, AbortSignal.timeout(5000), event)).resolves.toMatchObject({
        providerStatus: 204,
      });
      expect(receiver.deliveries).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });
});
