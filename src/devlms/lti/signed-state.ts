import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';
import type { DevLmsContext } from '../context.js';
import { MESSAGE_TYPE } from './claims.js';

/**
 * Short-lived values the platform hands out and must get back unchanged: the `lti_message_hint` of a login
 * initiation and the `data` of deep-linking settings. They are HS256 JWTs under the platform's own secret,
 * each with its own audience, so one can never be passed off as the other (nor as an RS256 id_token).
 */

const HINT_AUDIENCE = 'devlms:lti_message_hint';
const DATA_AUDIENCE = 'devlms:deep_linking_data';
export const MESSAGE_HINT_TTL_SECONDS = 300;
const DATA_TTL_SECONDS = 3600;

const hintSchema = z.object({
  login: z.string(),
  login_hint: z.string(),
  client_id: z.string(),
  deployment_id: z.string(),
  context_id: z.string(),
  message_type: z.enum([MESSAGE_TYPE.resourceLink, MESSAGE_TYPE.deepLinking]),
  resource_link_id: z.string().nullable(),
});

/** What a login initiation binds: who, from which link, with which message, to which tool. */
export type MessageHint = z.infer<typeof hintSchema>;

const dataSchema = z.object({
  login: z.string(),
  client_id: z.string(),
  deployment_id: z.string(),
  context_id: z.string(),
});
export type DeepLinkingData = z.infer<typeof dataSchema>;

export class SignedStateError extends Error {
  constructor(
    readonly reason: 'expired' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'SignedStateError';
  }
}

async function sign(ctx: DevLmsContext, payload: Record<string, unknown>, audience: string, ttlSeconds: number): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ctx.issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(ctx.secret);
}

async function verify<S extends z.ZodType>(ctx: DevLmsContext, token: string, audience: string, schema: S, what: string): Promise<z.infer<S>> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, ctx.secret, { algorithms: ['HS256'], issuer: ctx.issuer, audience }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new SignedStateError('expired', `The ${what} has expired.`);
    throw new SignedStateError('invalid', `The ${what} is not one this platform issued (bad signature or format).`);
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw new SignedStateError('invalid', `The ${what} is malformed.`);
  return parsed.data;
}

export function signMessageHint(ctx: DevLmsContext, hint: MessageHint, ttlSeconds = MESSAGE_HINT_TTL_SECONDS): Promise<string> {
  return sign(ctx, { ...hint }, HINT_AUDIENCE, ttlSeconds);
}

export function verifyMessageHint(ctx: DevLmsContext, token: string): Promise<MessageHint> {
  return verify(ctx, token, HINT_AUDIENCE, hintSchema, 'lti_message_hint');
}

export function signDeepLinkingData(ctx: DevLmsContext, data: DeepLinkingData): Promise<string> {
  return sign(ctx, { ...data }, DATA_AUDIENCE, DATA_TTL_SECONDS);
}

export function verifyDeepLinkingData(ctx: DevLmsContext, token: string): Promise<DeepLinkingData> {
  return verify(ctx, token, DATA_AUDIENCE, dataSchema, 'deep-linking data');
}
