import { describe, expect, it } from 'vitest';
import { addressPolicy, isPublicAddress, parseAllowList } from '../../src/channels/address-policy.js';
import { loadConfig } from '../../src/config.js';

// The webhook address policy on its own: no address here is ever connected to.

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '169.254.0.1',
    '0.0.0.0', '100.64.0.1', '224.0.0.1', '239.255.255.250', '255.255.255.255', '192.0.2.1',
    '::1', '::', 'fc00::1', 'fd00::1', 'fd12:3456::1', 'fe80::1', 'fe80::1%eth0', 'ff02::1', 'fec0::1', '2001:db8::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '::127.0.0.1',
    '64:ff9b::a9fe:a9fe', '2002:a9fe:a9fe::1', 'not an address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '2a00:1450::1', '::ffff:8.8.8.8'])('allows %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });
});

describe('PROMO_WEBHOOK_ALLOW', () => {
  it('reads addresses, ranges, host names and ports, v4 and v6', () => {
    const { entries, errors } = parseAllowList('127.0.0.1, ::1, [fd00::1]:8080, 10.0.0.0/8, fd00::/8, hooks.internal, hooks.internal:81, 192.168.1.5:443');
    expect(errors).toEqual([]);
    expect(entries).toHaveLength(8);
    const policy = addressPolicy(entries);
    expect(policy.allows('127.0.0.1', '127.0.0.1', 80)).toBe(true);
    expect(policy.allows('::ffff:127.0.0.1', 'x', 80)).toBe(true);
    expect(policy.allows('127.0.0.2', 'x', 80)).toBe(false);
    expect(policy.allows('::1', 'x', 1)).toBe(true);
    expect(policy.allows('fd00::1', 'x', 8080)).toBe(true);
    expect(policy.allows('fd99::1', 'x', 1)).toBe(true); // fd00::/8
    expect(policy.allows('fe80::1', 'x', 1)).toBe(false);
    expect(policy.allows('10.200.0.1', 'x', 1)).toBe(true);
    expect(policy.allows('192.168.1.5', 'x', 443)).toBe(true);
    expect(policy.allows('192.168.1.5', 'x', 80)).toBe(false);
    expect(policy.allows('172.16.0.1', 'hooks.internal', 80)).toBe(true);
    expect(policy.allows('172.16.0.1', 'other.internal', 80)).toBe(false);
    expect(policy.allows('169.254.169.254', 'x', 80)).toBe(false);
    expect(policy.allows('8.8.8.8', 'x', 80)).toBe(true);
  });

  it('refuses everything non-public when unset', () => {
    const policy = addressPolicy();
    for (const address of ['127.0.0.1', '::1', '10.0.0.1', '169.254.169.254', 'fd00::1', '::ffff:127.0.0.1', '0.0.0.0']) {
      expect(policy.allows(address, address, 80), address).toBe(false);
    }
  });

  it('is checked by the configuration, with a clear error for a bad entry', () => {
    expect(loadConfig({ PROMO_WEBHOOK_ALLOW: '127.0.0.1, fd00::/8, hooks.internal:8080' }).PROMO_WEBHOOK_ALLOW).toBe('127.0.0.1, fd00::/8, hooks.internal:8080');
    expect(() => loadConfig({ PROMO_WEBHOOK_ALLOW: '127.0.0.1, 10.0.0.0/33' })).toThrow(/PROMO_WEBHOOK_ALLOW: "10\.0\.0\.0\/33" is not a range/);
    expect(() => loadConfig({ PROMO_WEBHOOK_ALLOW: 'hooks.internal:99999' })).toThrow(/PROMO_WEBHOOK_ALLOW: "hooks\.internal:99999" is not a host followed by a port/);
    expect(() => loadConfig({ PROMO_WEBHOOK_ALLOW: 'http://x/' })).toThrow(/PROMO_WEBHOOK_ALLOW/);
    expect(() => loadConfig({ PROMO_WEBHOOK_ALLOW: '300.1.1.1' })).toThrow(/PROMO_WEBHOOK_ALLOW/);
  });
});
