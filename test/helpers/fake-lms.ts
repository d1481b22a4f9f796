import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A hostile or broken "LMS" for dynamic registration tests: it serves whatever openid-configuration the test
 * gives, answers registrations with the client id the test chooses, and records every request it gets (an SSRF
 * test proves a call was never made by this log staying empty).
 */
export interface FakeLms {
  url: string;
  port: number;
  requests: Array<{ method: string; path: string; body: string }>;
  configuration: Record<string, unknown>;
  registration: { status: number; body: unknown };
  close(): Promise<void>;
}

export async function startFakeLms(port = 0): Promise<FakeLms> {
  const fake: Omit<FakeLms, 'url' | 'port' | 'close'> = { requests: [], configuration: {}, registration: { status: 200, body: {} } };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      fake.requests.push({ method: req.method ?? '', path: req.url ?? '', body });
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.url?.startsWith('/.well-known/openid-configuration')) return json(200, fake.configuration);
      if (req.url?.startsWith('/register') && req.method === 'POST') return json(fake.registration.status, fake.registration.body);
      if (req.url?.startsWith('/redirect')) return res.writeHead(302, { location: String(fake.configuration.redirect_to ?? '/') }).end();
      return json(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** A configuration as an LMS at `issuer` would serve it, with endpoints under `base` (by default the issuer). */
export function openIdConfigurationFor(issuer: string, base = issuer): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${base}/auth`,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/jwks`,
    registration_endpoint: `${base}/register`,
    'https://purl.imsglobal.org/spec/lti-platform-configuration': { product_family_code: 'moodle', version: '4.5' },
  };
}

/**
 * Two fake LMSs whose ports are a prefix of one another (`:4200` and `:42005`), as the probe used: a string
 * `startsWith` takes a configuration served from the second for the issuer of the first.
 */
export async function startPrefixPortPair(): Promise<{ victim: FakeLms; attacker: FakeLms }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 2000 + Math.floor(Math.random() * 4500);
    let victim: FakeLms | undefined;
    try {
      victim = await startFakeLms(base);
      const attacker = await startFakeLms(base * 10 + Math.floor(Math.random() * 10));
      return { victim, attacker };
    } catch {
      await victim?.close();
    }
  }
  throw new Error('no free pair of prefix ports');
}
