// Proves the webhook target policy: only public http(s) URLs by default, checked on the URL and again on the addresses a name resolves to when an attempt connects.
import { describe, expect, it } from 'vitest';
import { CountersignError } from '../../domain/errors.js';
import { checkHttpUrl, checkWebhookUrl, isPublicAddress } from './webhook-target.js';
import { httpWebhookTransport } from './webhook-transport.js';

describe('webhook targets', () => {
  it('tells public addresses from loopback, private, link-local, reserved and mapped ones', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111'])
      expect(isPublicAddress(address), address).toBe(true);
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      'not-an-address',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('refuses IPv6 addresses that carry an IPv4 address: compatible, mapped in any spelling, 6to4, Teredo', () => {
    for (const address of [
      // ::/96, IPv4-compatible: reaches the IPv4 address it carries on some stacks.
      '::7f00:1',
      '::127.0.0.1',
      '::a00:1',
      '::808:808',
      // ::ffff:0:0/96, IPv4-mapped, spelled out in full or with a public address written in hex.
      '0:0:0:0:0:ffff:7f00:1',
      '0:0:0:0:0:ffff:127.0.0.1',
      '::ffff:a00:1',
      // 2002::/16, 6to4: the IPv4 address of a relay or of the target sits in bits 16-47.
      '2002:7f00:1::1',
      '2002:808:808::1',
      // 2001::/32, Teredo: the server's and (obfuscated) client's IPv4 addresses are embedded.
      '2001:0:4136:e378:8000:63bf:3fff:fdd2',
      '2001::1',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    // A mapped public IPv4 address reaches that public address, in either spelling; neighbours of the
    // refused ranges stay public.
    for (const address of ['::ffff:8.8.8.8', '::ffff:808:808', '2001:4860:4860::8888', '2003::1']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
    for (const url of ['http://[::7f00:1]/', 'http://[2002:a00:1::]/', 'http://[2001::a00:1]/']) {
      expect(() => checkWebhookUrl(url, false), url).toThrow(/webhookUrl must reach a public address/);
    }
  });

  it('accepts public http(s) URLs and refuses the rest with the field named', () => {
    expect(checkWebhookUrl('https://shop.example/hooks?x=1', false)).toBe('https://shop.example/hooks?x=1');
    expect(checkWebhookUrl('http://127.0.0.1:3000/hooks', true)).toBe('http://127.0.0.1:3000/hooks');
    for (const url of [
      'ftp://shop.example/',
      'file:///etc/passwd',
      'https://user:pw@shop.example/',
      'https://shop.example/#x',
      'http://127.0.0.1/',
      'http://[::1]/',
      'http://localhost:8080/',
      'http://printer.local/',
      'http://10.0.0.8/',
      'not a url',
      `https://shop.example/${'a'.repeat(2050)}`,
    ]) {
      expect(() => checkWebhookUrl(url, false), url).toThrow(CountersignError);
    }
    expect(() => checkHttpUrl('javascript:alert(1)', 'returnUrl')).toThrow(/returnUrl/);
  });

  it('refuses to connect to a loopback address or to a name that resolves to one, unless allowed', async () => {
    const transport = httpWebhookTransport({ allowPrivateTargets: false });
    const send = (url: string) => transport.send({ url, body: '{}', headers: {}, timeoutMs: 2000 });
    expect(await send('http://127.0.0.1:9/hook')).toEqual({ error: 'target_not_allowed' });
    expect(await send('http://[::1]:9/hook')).toEqual({ error: 'target_not_allowed' });
    expect(await send('http://localhost:9/hook')).toEqual({ error: 'target_not_allowed' });
    const allowed = httpWebhookTransport({ allowPrivateTargets: true });
    expect(
      await allowed.send({ url: 'http://127.0.0.1:9/hook', body: '{}', headers: {}, timeoutMs: 2000 }),
    ).toEqual({
      error: 'connection_failed',
    });
  });
});
