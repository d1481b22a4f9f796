import { z } from 'zod';

const param = z.string({ error: 'must be given once, as text' }).optional();

/** The client-credentials token request (RFC 6749 §4.4 with an RFC 7523 client assertion); each field checked in turn. */
export const tokenRequestSchema = z.object({
  grant_type: param,
  client_assertion_type: param,
  client_assertion: param,
  scope: param,
});

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
