import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { addressRefusal, checkedLookup, fetchJsonUnder, OutboundError, urlRefusal, type OutboundPolicy } from '../src/net/outbound.js';

const PRODUCTION: OutboundPolicy = { requireHttps: true, allowLoopback: false, allowPrivate: false };
const CAMPUS: OutboundPolicy = { requireHttps: true, allowLoopback: false, allowPrivate: true };
const DEVELOPMENT: OutboundPolicy = { requireHttps: false, allowLoopback: true, allowPrivate: true };
// http to loopback passes the scheme rule, so the address rule is what must stop the call.
const NO_LOOPBACK: OutboundPolicy = { requireHttps: false, allowLoopback: false, allowPrivate: false };

describe('outbound calls to LMS-given URLs', () => {
  it.each([
    ['10.1.2.3', 'private'], ['172.16.5.5', 'private'], ['192.168.1.1', 'private'], ['100.64.0.1', 'private'], ['fd12::1', 'private'],
    ['127.0.0.1', 'loopback'], ['127.8.9.10', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'],
    ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'], ['0.0.0.0', 'link-local'], ['::', 'link-local'], ['224.0.0.1', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'], ['64:ff9b::169.254.169.254', 'link-local'],
  ])('refuses %s in production (%s)', (address, kind) => {
    expect(addressRefusal(address, PRODUCTION)).toContain(kind);
  });

  it('allows public addresses, and private ones only where the campus network is allowed', () => {
    expect(addressRefusal('8.8.8.8', PRODUCTION)).toBeNull();
    expect(addressRefusal('2606:4700::1111', PRODUCTION)).toBeNull();
    expect(addressRefusal('10.1.2.3', CAMPUS)).toBeNull();
    expect(addressRefusal('127.0.0.1', CAMPUS)).toContain('loopback');
    expect(addressRefusal('169.254.169.254', DEVELOPMENT)).toContain('link-local');
    expect(addressRefusal('127.0.0.1', DEVELOPMENT)).toBeNull();
  });

  it('judges URLs by scheme, credentials and literal addresses before connecting', () => {
    expect(urlRefusal('https://moodle.example.edu/.well-known/openid-configuration', PRODUCTION)).toBeNull();
    expect(urlRefusal('http://moodle.example.edu/', PRODUCTION)).toContain('scheme');
    expect(urlRefusal('http://moodle.example.edu/', DEVELOPMENT)).toContain('scheme');
    expect(urlRefusal('http://127.0.0.1:4000/', DEVELOPMENT)).toBeNull();
    expect(urlRefusal('http://127.0.0.1:4000/', PRODUCTION)).toContain('scheme');
    expect(urlRefusal('https://user:pw@moodle.example.edu/', PRODUCTION)).toContain('credentials');
    expect(urlRefusal('https://localhost/', PRODUCTION)).toContain('loopback');
    expect(urlRefusal('https://[::1]/', PRODUCTION)).toContain('loopback');
    expect(urlRefusal('https://169.254.169.254/', DEVELOPMENT)).toContain('link-local');
    expect(urlRefusal('file:///etc/passwd', DEVELOPMENT)).toContain('scheme');
    expect(urlRefusal('not a url', DEVELOPMENT)).toBe('not a URL');
  });

  it('checks every address a name resolves to, at connect time', async () => {
    const lookup = checkedLookup(PRODUCTION);
    const outcome = await new Promise<unknown>((resolve) => lookup('localhost', { all: true }, (err, addresses) => resolve(err ?? addresses)));
    expect(outcome).toBeInstanceOf(OutboundError);
    expect((outcome as OutboundError).reason).toBe('refused_address');
    const allowed = await new Promise<unknown>((resolve) => checkedLookup(DEVELOPMENT)('localhost', {}, (err, address) => resolve(err ?? address)));
    expect(['127.0.0.1', '::1']).toContain(allowed);
  });

  describe('over real HTTP', () => {
    let server: http.Server;
    let base: string;
    const seen: string[] = [];
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        seen.push(req.url ?? '');
        if (req.url === '/json') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        if (req.url === '/redirect') return res.writeHead(302, { location: '/json' }).end();
        if (req.url === '/html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
        if (req.url === '/big') return res.writeHead(200).end(`"${'x'.repeat(300 * 1024)}"`);
        if (req.url === '/slow') {
          // The client gives up long before this answer; a timer left running would hold the Jest worker open
          // for two seconds after the file ends (force-exited, "failed to exit gracefully").
          const answer = setTimeout(() => res.end('{}'), 2_000);
          res.on('close', () => clearTimeout(answer));
          return;
        }
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    const failure = async (policy: OutboundPolicy, path: string, timeoutMs = 3_000) => {
      try {
        await fetchJsonUnder(policy, `${base}${path}`, { timeoutMs });
      } catch (err) {
        return err as OutboundError;
      }
      throw new Error(`${path} did not fail`);
    };

    it('never connects to an address the policy refuses', async () => {
      seen.length = 0;
      expect((await failure(NO_LOOPBACK, '/json')).reason).toBe('refused_url');
      expect((await failure(PRODUCTION, '/json')).reason).toBe('refused_url');
      expect(seen).toEqual([]);
    });

    it('reads JSON where allowed, and fails on redirects, other statuses, non-JSON, size and time', async () => {
      seen.length = 0;
      expect(await fetchJsonUnder(DEVELOPMENT, `${base}/json`, { timeoutMs: 3_000 })).toEqual({ ok: true });
      expect((await failure(DEVELOPMENT, '/redirect')).reason).toBe('status');
      expect(seen).toEqual(['/json', '/redirect']);
      expect((await failure(DEVELOPMENT, '/missing')).reason).toBe('status');
      expect((await failure(DEVELOPMENT, '/html')).reason).toBe('not_json');
      expect((await failure(DEVELOPMENT, '/big')).reason).toBe('too_large');
      expect((await failure(DEVELOPMENT, '/slow', 200)).reason).toBe('network');
    });
  });
});
