import { z } from 'zod';
import { MESSAGE_TYPE, SERVICE_SCOPES, TOOL_CONFIGURATION } from '../lti/claims.js';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const redirectUri = httpUrl.refine((u) => !u.includes('#'), 'must not contain a fragment');

const messageSchema = z
  .object({
    type: z.enum([MESSAGE_TYPE.resourceLink, MESSAGE_TYPE.deepLinking], { error: 'is not a message type this platform supports' }),
    target_link_uri: httpUrl.optional(),
    label: z.string().optional(),
    placements: z.array(z.string()).optional(),
    custom_parameters: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();

/** The tool's registration request (IMS LTI Dynamic Registration 1.0 §3.5, over OpenID Connect Dynamic Client Registration). */
export const registrationRequestSchema = z
  .object({
    application_type: z.literal('web').optional(),
    response_types: z.array(z.string()).refine((a) => a.includes('id_token'), 'must include "id_token"'),
    grant_types: z
      .array(z.string())
      .refine((a) => a.includes('implicit') && a.includes('client_credentials'), 'must include "implicit" and "client_credentials"'),
    initiate_login_uri: httpUrl,
    redirect_uris: z.array(redirectUri).min(1, 'must list at least one URI'),
    client_name: z.string().trim().min(1).max(255),
    jwks_uri: httpUrl,
    logo_uri: httpUrl.optional(),
    token_endpoint_auth_method: z.literal('private_key_jwt', { error: 'must be "private_key_jwt"' }),
    scope: z
      .string()
      .optional()
      .refine((s) => (s ?? '').split(' ').filter(Boolean).every((x) => SERVICE_SCOPES.includes(x)), 'contains a scope this platform does not support'),
    contacts: z.array(z.string()).optional(),
    [TOOL_CONFIGURATION]: z
      .object({
        domain: z.string().min(1),
        secondary_domains: z.array(z.string()).optional(),
        target_link_uri: httpUrl,
        custom_parameters: z.record(z.string(), z.string()).optional(),
        description: z.string().optional(),
        claims: z.array(z.string()).optional(),
        messages: z.array(messageSchema).optional(),
      })
      .passthrough(),
  })
  .passthrough();
export type RegistrationRequest = z.infer<typeof registrationRequestSchema>;

export const startRegistrationFormSchema = z.object({
  registration_url: httpUrl,
});
