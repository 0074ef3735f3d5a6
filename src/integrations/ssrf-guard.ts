import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Outbound webhooks go to URLs an admin typed, so they must not become a way into our
 * own network: loopback, private (RFC 1918, unique local), carrier-grade NAT,
 * link-local (which holds the cloud metadata service, 169.254.169.254 and
 * fd00:ec2::254), multicast, reserved and documentation ranges are refused.
 *
 * The check runs on the address actually connected to: `guardedLookup` is the socket's
 * DNS lookup, so a name that resolves to a public address for the admin's check and
 * to 127.0.0.1 a second later (DNS rebinding) is still refused. IP literals skip DNS
 * and are checked by `refusalForHost`. WEBHOOK_ALLOW_PRIVATE_NETWORKS=true turns the
 * guard off (tests, a receiver on your own network).
 */
const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** `::ffff:127.0.0.1` is 127.0.0.1: judge IPv4-mapped addresses as the IPv4 they carry. */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return { address: mapped[1], family: 'ipv4' };
  return { address, family: isIP(address) === 4 ? 'ipv4' : 'ipv6' };
}

export function isForbiddenAddress(address: string): boolean {
  const plain = unmapped(address.replace(/^\[|\]$/g, ''));
  if (isIP(plain.address) === 0) return false;
  return blocked.check(plain.address, plain.family);
}

export class ForbiddenAddressError extends Error {
  readonly code = 'ELEADRELAY_FORBIDDEN_ADDRESS';
  constructor(readonly host: string) {
    super(
      `${host} is a loopback, private, link-local or metadata address: refused (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows it)`,
    );
    this.name = 'ForbiddenAddressError';
  }
}

/** Refusal for a URL's host before any connection: IP literals and `localhost`. */
export function refusalForHost(hostname: string, allowPrivateNetworks: boolean): string | undefined {
  if (allowPrivateNetworks) return undefined;
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || isForbiddenAddress(host)) {
    return new ForbiddenAddressError(host).message;
  }
  return undefined;
}

/** A DNS lookup for sockets that drops forbidden addresses and fails when none is left. */
export function guardedLookup(allowPrivateNetworks: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, options.all ? [] : '', 4);
      const allowed = allowPrivateNetworks
        ? addresses
        : addresses.filter((entry) => !isForbiddenAddress(entry.address));
      if (allowed.length === 0) {
        return callback(new ForbiddenAddressError(hostname), options.all ? [] : '', 4);
      }
      if (options.all) return callback(null, allowed);
      const first = allowed[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}
