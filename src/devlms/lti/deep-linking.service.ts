import { randomUUID } from 'node:crypto';
import { decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { DevLmsContext } from '../context.js';
import { insertLineItem } from '../db/line-items.repository.js';
import { insertLink, type ResourceLink } from '../db/links.repository.js';
import { withTransaction, type Queryable } from '../db/queryable.js';
import { findRegistration, type Registration } from '../db/registrations.repository.js';
import { claimJti } from '../db/tokens.repository.js';
import { pageError } from '../http/errors.js';
import { describeIssues } from '../http/validate.js';
import { deepLinkingResponseSchema, resourceLinkItemSchema, type ResourceLinkItem } from '../routes/deep-linking.schema.js';
import { CLAIM, ERRORMSG_LTIJS } from './claims.js';
import { CLOCK_TOLERANCE_SECONDS, describeToolJwtError } from './client-assertion.js';
import { SignedStateError, verifyDeepLinkingData, type DeepLinkingData } from './signed-state.js';

export interface DeepLinkingResponse {
  registration: Registration;
  data: DeepLinkingData;
  items: ResourceLinkItem[];
  msg?: string;
  errormsg?: string;
  log?: string;
  errorlog?: string;
}

const refuse = (message: string) => pageError(400, `The deep-linking response was refused: ${message}`, 'invalid_deep_linking_response');

/**
 * Verifies a deep-linking response JWT from a tool: RS256 with a key of the tool's JWKS, iss = its client_id,
 * aud = this platform, the LTI claims, our own `data` echoed unchanged, a nonce used once, and content items
 * this platform accepts (one ltiResourceLink, as the settings said accept_multiple: false).
 */
export async function verifyDeepLinkingResponse(ctx: DevLmsContext, q: Queryable, jwt: string): Promise<DeepLinkingResponse> {
  const registration = await registrationOfIssuer(q, jwt);
  const payload = await verifyToolSignature(ctx, jwt, registration);
  const parsed = deepLinkingResponseSchema.safeParse(payload);
  if (!parsed.success) throw refuse(describeIssues(parsed.error));
  const claims = parsed.data;
  if (claims[CLAIM.deploymentId] !== registration.deploymentId) {
    throw refuse(`deployment_id "${String(claims[CLAIM.deploymentId])}" is not this tool's deployment.`);
  }
  const data = await echoedData(ctx, String(claims[CLAIM.data]), registration);
  const items = acceptedItems((claims[CLAIM.contentItems] as Record<string, unknown>[] | undefined) ?? []);

  const expiresAt = new Date(((payload.exp ?? 0) + CLOCK_TOLERANCE_SECONDS) * 1000);
  if (!(await claimJti(q, registration.clientId, `deep-linking:${String(claims.nonce)}`, expiresAt))) {
    throw refuse('this response was already received (its nonce was used before).');
  }
  return {
    registration,
    data,
    items,
    msg: claims[CLAIM.msg] as string | undefined,
    errormsg: (claims[CLAIM.errormsg] ?? claims[ERRORMSG_LTIJS]) as string | undefined,
    log: claims[CLAIM.log] as string | undefined,
    errorlog: claims[CLAIM.errorlog] as string | undefined,
  };
}

/** The registered tool the (still unverified) JWT says it comes from: its key set is what verifies it. */
async function registrationOfIssuer(q: Queryable, jwt: string): Promise<Registration> {
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(jwt);
  } catch {
    throw refuse('the JWT field is not a JWT.');
  }
  const registration = unverified.iss ? await findRegistration(q, unverified.iss) : null;
  if (!registration) throw refuse(`its iss ${JSON.stringify(unverified.iss ?? null)} is not the client_id of a registered tool.`);
  return registration;
}

async function verifyToolSignature(ctx: DevLmsContext, jwt: string, registration: Registration): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(jwt, ctx.toolKeys.forUrl(registration.jwksUri), {
      algorithms: ['RS256'],
      issuer: registration.clientId,
      audience: ctx.issuer,
      requiredClaims: ['iat', 'exp'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      maxTokenAge: '1h',
    });
    return payload;
  } catch (err) {
    const message = describeToolJwtError(err, 'deep-linking response', registration.jwksUri, ctx.issuer);
    if (message) throw refuse(message);
    if (err instanceof joseErrors.JOSEError) throw refuse(err.message);
    throw err;
  }
}

/** Our own deep-linking `data`, echoed back unchanged by the tool it was issued to. */
async function echoedData(ctx: DevLmsContext, echoed: string, registration: Registration): Promise<DeepLinkingData> {
  let data: DeepLinkingData;
  try {
    data = await verifyDeepLinkingData(ctx, echoed);
  } catch (err) {
    if (err instanceof SignedStateError) throw refuse(`${err.message} Echo the data claim of the request unchanged.`);
    throw err;
  }
  if (data.client_id !== registration.clientId) throw refuse('its data was issued to another tool.');
  return data;
}

/** At most one item (accept_multiple: false), and each a resource link this platform accepts. */
function acceptedItems(rawItems: Record<string, unknown>[]): ResourceLinkItem[] {
  if (rawItems.length > 1) throw refuse(`accept_multiple is false, but ${rawItems.length} content items were returned.`);
  return rawItems.map((raw, i) => {
    const item = resourceLinkItemSchema.safeParse(raw);
    if (!item.success) throw refuse(`content_items[${i}]: ${describeIssues(item.error)}`);
    return item.data;
  });
}

/** Creates a resource link per item in the course, and its line item when the tool asked for one. */
export async function applyDeepLinking(ctx: DevLmsContext, response: DeepLinkingResponse): Promise<ResourceLink[]> {
  return withTransaction(ctx.pool, async (tx) => {
    const created: ResourceLink[] = [];
    for (const item of response.items) {
      const title = item.title ?? item.lineItem?.label ?? 'Untitled activity';
      const link = await insertLink(tx, {
        id: randomUUID(),
        contextId: response.data.context_id,
        clientId: response.registration.clientId,
        placement: 'assignment',
        title,
        description: item.text ?? null,
        targetLinkUri: item.url ?? null,
        custom: item.custom ?? {},
      });
      if (item.lineItem) {
        await insertLineItem(tx, { contextId: link.contextId, clientId: link.clientId }, {
          label: item.lineItem.label ?? title,
          scoreMaximum: item.lineItem.scoreMaximum,
          resourceLinkId: link.id,
          resourceId: item.lineItem.resourceId ?? null,
          tag: item.lineItem.tag ?? null,
          startDateTime: null,
          endDateTime: null,
        });
      }
      created.push(link);
    }
    return created;
  });
}
