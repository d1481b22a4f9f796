import { randomUUID } from 'node:crypto';
import { createPrivateKey } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import type { LtijsPlatform, ProviderInstance } from 'ltijs';
import { z } from 'zod';
import { AgsError, type AgsPlatform, type Gradebook, type ScorePost } from '../models/grades/gradebook.js';
import type { Roster, RosterMember } from '../models/tenancy/roster.js';

export const AGS_SCOPES = {
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
} as const;

export const NRPS_SCOPE = 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly';

const memberSchema = z
  .object({
    user_id: z.string().min(1).max(255),
    roles: z.array(z.string().max(500)).max(50).default([]),
    status: z.string().max(20).optional(),
    name: z.string().max(500).optional(),
    given_name: z.string().max(500).optional(),
    family_name: z.string().max(500).optional(),
    email: z.string().max(500).optional(),
  })
  .passthrough();
const membershipContainerSchema = z.object({ members: z.array(memberSchema) }).passthrough();

const MEDIA = {
  memberships: 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json',
  lineItem: 'application/vnd.ims.lis.v2.lineitem+json',
  lineItemContainer: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  score: 'application/vnd.ims.lis.v1.score+json',
} as const;

export const lineItemSchema = z
  .object({
    id: z.string().url(),
    label: z.string(),
    scoreMaximum: z.number(),
    resourceLinkId: z.string().optional(),
    resourceId: z.string().optional(),
    tag: z.string().optional(),
  })
  .passthrough();
export type LineItem = z.infer<typeof lineItemSchema>;

const tokenSchema = z.object({ access_token: z.string().min(1), token_type: z.string(), expires_in: z.coerce.number().optional() });

/**
 * LTI Assignment and Grade Services from the background (no live launch needed): OAuth2 client credentials
 * signed with the tool key ltijs keeps for the platform, then plain HTTP with timeouts. We do the HTTP ourselves
 * because ltijs' Grade service uses a client without timeouts and hides status codes, and a grade-sync job must
 * tell "try again later" from "never going to work" and must never hang.
 */
export class AgsClient implements Gradebook, Roster {
  private tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly lti: ProviderInstance,
    private readonly options: { timeoutMs: number } = { timeoutMs: 10_000 },
  ) {}

  /** The line items of a container, all pages, optionally filtered as AGS allows. */
  async listLineItems(platform: AgsPlatform, lineItemsUrl: string, filter: { resourceLinkId?: string; resourceId?: string; tag?: string } = {}): Promise<LineItem[]> {
    const url = new URL(lineItemsUrl);
    if (filter.resourceLinkId) url.searchParams.set('resource_link_id', filter.resourceLinkId);
    if (filter.resourceId) url.searchParams.set('resource_id', filter.resourceId);
    if (filter.tag) url.searchParams.set('tag', filter.tag);
    url.searchParams.set('limit', '100');
    const items: LineItem[] = [];
    let next: string | null = url.href;
    for (let page = 0; next && page < 100; page++) {
      const res = await this.call(platform, [AGS_SCOPES.lineItemReadonly], next, { headers: { accept: MEDIA.lineItemContainer } });
      items.push(...(await bodyOf(res, z.array(lineItemSchema), 'The LMS answered the line item list with something that is not a list of line items.')));
      next = nextLink(res.headers.get('link'));
    }
    return items;
  }

  async createLineItem(platform: AgsPlatform, lineItemsUrl: string, item: { label: string; scoreMaximum: number; resourceLinkId?: string; resourceId?: string; tag?: string }): Promise<LineItem> {
    const res = await this.call(platform, [AGS_SCOPES.lineItem], lineItemsUrl, {
      method: 'POST',
      headers: { 'content-type': MEDIA.lineItem, accept: MEDIA.lineItem },
      body: JSON.stringify(item),
    });
    return bodyOf(res, lineItemSchema, 'The LMS did not answer the new line item with a line item.');
  }

  /**
   * The gradebook column of a task: the one the launch told us, else the one already made for its resource link
   * or our resource id, else a new one. Looking before creating is what keeps a retried sync or a second
   * instructor from ever adding a duplicate column.
   */
  async ensureLineItem(
    platform: AgsPlatform,
    task: { lineItemUrl: string | null; lineItemsUrl: string | null; resourceLinkId: string | null; resourceId: string; label: string; scoreMaximum: number },
  ): Promise<string> {
    if (task.lineItemUrl) return task.lineItemUrl;
    if (!task.lineItemsUrl) throw new AgsError('The LMS gave this task no gradebook service (no AGS line items endpoint): launch it once from the LMS, or check the tool\'s AGS settings there.', false);
    const byLink = task.resourceLinkId ? await this.listLineItems(platform, task.lineItemsUrl, { resourceLinkId: task.resourceLinkId }) : [];
    const existing = byLink[0] ?? (await this.listLineItems(platform, task.lineItemsUrl, { resourceId: task.resourceId }))[0];
    if (existing) return existing.id;
    const created = await this.createLineItem(platform, task.lineItemsUrl, {
      label: task.label,
      scoreMaximum: task.scoreMaximum,
      resourceId: task.resourceId,
      tag: 'llm-assess',
      ...(task.resourceLinkId ? { resourceLinkId: task.resourceLinkId } : {}),
    });
    return created.id;
  }

  async readLineItem(platform: AgsPlatform, lineItemUrl: string): Promise<LineItem> {
    const res = await this.call(platform, [AGS_SCOPES.lineItemReadonly], lineItemUrl, { headers: { accept: MEDIA.lineItem } });
    return bodyOf(res, lineItemSchema, 'The LMS answered the line item with something that is not a line item.');
  }

  /**
   * A course's members from its roster service (LTI NRPS), every page (Link rel="next", at most 100 pages): the
   * same token cache and error handling as the gradebook calls.
   */
  async readMembers(platform: AgsPlatform, membershipsUrl: string): Promise<RosterMember[]> {
    const members: RosterMember[] = [];
    let next: string | null = membershipsUrl;
    for (let page = 0; next && page < 100; page++) {
      const res = await this.call(platform, [NRPS_SCOPE], next, { headers: { accept: MEDIA.memberships } });
      const page = await bodyOf(res, membershipContainerSchema, 'The LMS answered the course roster with something that is not a membership container.');
      for (const m of page.members) {
        members.push({ sub: m.user_id, roles: m.roles, active: (m.status ?? 'Active') === 'Active', name: m.name ?? null, givenName: m.given_name ?? null, familyName: m.family_name ?? null, email: m.email ?? null });
      }
      next = nextLink(res.headers.get('link'));
    }
    return members;
  }

  /** Posts a final grade: Completed / FullyGraded, with the decision time as the score's timestamp. */
  async submitScore(platform: AgsPlatform, lineItemUrl: string, score: ScorePost): Promise<void> {
    const url = new URL(lineItemUrl);
    url.pathname = `${url.pathname.replace(/\/$/, '')}/scores`;
    await this.call(platform, [AGS_SCOPES.score], url.href, {
      method: 'POST',
      headers: { 'content-type': MEDIA.score },
      body: JSON.stringify({
        userId: score.userId,
        scoreGiven: score.scoreGiven,
        scoreMaximum: score.scoreMaximum,
        comment: score.comment,
        activityProgress: 'Completed',
        gradingProgress: 'FullyGraded',
        timestamp: score.timestamp.toISOString(),
      }),
    });
  }

  private async call(platform: AgsPlatform, scopes: string[], url: string, init: RequestInit, retriedAuth = false): Promise<Response> {
    const token = await this.accessToken(platform, scopes);
    const res = await this.fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } }, 'gradebook service');
    if (res.status === 401 && !retriedAuth) {
      // The LMS may have revoked the token before its stated expiry: get a new one, once.
      this.tokens.delete(tokenKey(platform, scopes));
      return this.call(platform, scopes, url, init, true);
    }
    if (!res.ok) throw await errorFrom(res, 'The gradebook service');
    return res;
  }

  private async accessToken(platform: AgsPlatform, scopes: string[]): Promise<string> {
    const key = tokenKey(platform, scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    const registered = await this.lti.getPlatform(platform.issuer, platform.clientId);
    if (!registered) throw new AgsError(`The LMS ${platform.issuer} (client ${platform.clientId}) is no longer registered.`, false);
    const tokenUrl = await registered.platformAccessTokenEndpoint();
    const audience = (await registered.platformAuthorizationServer()) || tokenUrl;
    const assertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256', kid: await registered.platformKid(), typ: 'JWT' })
      .setIssuer(platform.clientId)
      .setSubject(platform.clientId)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(await privateKeyOf(registered));
    const res = await this.fetch(
      tokenUrl,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
          scope: scopes.join(' '),
        }).toString(),
      },
      'token endpoint',
    );
    if (!res.ok) throw await errorFrom(res, 'The LMS token endpoint');
    const granted = await bodyOf(res, tokenSchema, 'The LMS token endpoint did not answer with an access token.');
    const lifetime = Math.max(30, (granted.expires_in ?? 3600) - 60) * 1000;
    this.tokens.set(key, { token: granted.access_token, expiresAt: Date.now() + lifetime });
    return granted.access_token;
  }

  private async fetch(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.options.timeoutMs) });
    } catch (err) {
      // By name, not instanceof: fetch's errors may come from another realm (e.g. a test VM).
      const name = (err as { name?: string } | null)?.name;
      const timedOut = name === 'TimeoutError' || name === 'AbortError';
      const reason = (err as { message?: string } | null)?.message ?? String(err);
      throw new AgsError(timedOut ? `The LMS ${what} did not answer within ${this.options.timeoutMs / 1000} s.` : `Could not reach the LMS ${what}: ${reason}.`, true);
    }
  }
}

function tokenKey(platform: AgsPlatform, scopes: string[]): string {
  return `${platform.issuer}\n${platform.clientId}\n${[...scopes].sort().join(' ')}`;
}

/** ltijs stores the tool's private key per platform as PKCS#1 PEM; jose signs with PKCS#8. */
async function privateKeyOf(platform: LtijsPlatform) {
  const pem = await platform.platformPrivateKey();
  const pkcs8 = createPrivateKey(pem).export({ format: 'pem', type: 'pkcs8' }).toString();
  return importPKCS8(pkcs8, 'RS256');
}

/** An LMS answer's JSON body as the schema says it must be; anything else is an error a retry will not fix. */
async function bodyOf<T>(res: Response, schema: z.ZodType<T>, message: string): Promise<T> {
  const parsed = schema.safeParse(await res.json().catch(() => null));
  if (!parsed.success) throw new AgsError(message, false, res.status);
  return parsed.data;
}

function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(',')) {
    const m = part.match(/<([^>]+)>\s*;\s*rel="?next"?/i);
    if (m) return m[1]!;
  }
  return null;
}

async function errorFrom(res: Response, what: string): Promise<AgsError> {
  const body = (await res.text().catch(() => '')).slice(0, 300);
  const retryAfter = res.headers.get('retry-after');
  const retryAfterMs = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
  const retryable = res.status === 429 || res.status === 408 || res.status >= 500;
  const detail = body ? `: ${body.replace(/\s+/g, ' ')}` : '';
  return new AgsError(`${what} answered HTTP ${res.status}${detail}`, retryable, res.status, retryAfterMs);
}
