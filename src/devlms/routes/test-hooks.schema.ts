import { z } from 'zod';
import { launchQuerySchema } from './launch.schema.js';

/**
 * `POST /__test/id-token`: mint an id_token for a launch, with overrides, so a tool's negative tests can answer
 * a real login with a forged or broken token. Either `authUrl` (the /auth URL the tool redirected the browser
 * to: its state, nonce, redirect_uri and message hint are used) or `login` (+ task / resourceLinkId / message /
 * clientId) says which launch.
 */
export const mintIdTokenSchema = z
  .strictObject({
    authUrl: z.url().optional(),
    login: z.string().min(1).optional(),
    task: z.union([z.literal('nav'), z.number().int().min(1)]).optional(),
    resourceLinkId: z.string().min(1).optional(),
    message: z.enum(['resource_link', 'deep_linking']).default('resource_link'),
    clientId: z.string().min(1).optional(),
    /** Defaults to the auth request's nonce, or a random one. */
    nonce: z.string().optional(),
    /** Claims to add or replace (full claim names; iss, aud, sub… included). Applied after the defaults below. */
    set: z.record(z.string(), z.unknown()).default({}),
    /** Claims to delete. */
    unset: z.array(z.string()).default([]),
    /** exp = now + expiresIn (default 300; negative = already expired). */
    expiresIn: z.number().int().min(-86_400 * 365).max(86_400 * 365).default(300),
    /** iat = now + iatOffsetSeconds (negative = issued in the past). */
    iatOffsetSeconds: z.number().int().min(-86_400 * 365).max(86_400 * 365).default(0),
    /** A private RSA JWK to sign with instead of the platform key (the signature then fails at the tool). */
    signingKey: z.record(z.string(), z.unknown()).optional(),
    /** Header kid: a string (e.g. an unknown kid), or null to leave it out. Defaults to the key's kid. */
    kid: z.string().nullable().optional(),
  })
  .refine((v) => !!v.authUrl !== !!v.login, { message: 'give either authUrl or login' });
export type MintIdTokenRequest = z.infer<typeof mintIdTokenSchema>;

export const testLaunchQuerySchema = launchQuerySchema;
