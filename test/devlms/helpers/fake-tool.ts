import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/**
 * The tool's side of the protocol, as a test needs it: an RSA key pair whose public half is served as a JWKS
 * over real HTTP (at /lti/keys, the seeded registration's jwks URL), and helpers to sign what a tool signs.
 */
export interface FakeTool {
  /** http://localhost:<port>: a different host name than the dev LMS (127.0.0.1), as in the demo. */
  url: string;
  kid: string;
  privateKey: CryptoKey;
  /** How many times the JWKS was fetched. */
  jwksFetches(): number;
  sign(claims: Record<string, unknown>, opts?: { key?: CryptoKey; kid?: string | null; alg?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function newRsaKey(): Promise<{ privateKey: CryptoKey; publicJwk: JWK; privateJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
}

export async function startFakeTool(): Promise<FakeTool> {
  const { privateKey, publicJwk } = await newRsaKey();
  const kid = `tool-${randomUUID()}`;
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/lti/keys') {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ ...publicJwk, kid, alg: 'RS256', use: 'sig' }] }));
      return;
    }
    res.writeHead(404).end();
  });
  // No host: dual-stack, so "localhost" works whether it resolves to ::1 or 127.0.0.1.
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    kid,
    privateKey,
    jwksFetches: () => fetches,
    sign: (claims, opts = {}) => {
      const headerKid = opts.kid === undefined ? kid : opts.kid;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: opts.alg ?? 'RS256', typ: 'JWT', ...(headerKid === null ? {} : { kid: headerKid }) })
        .sign(opts.key ?? privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
