import { z } from 'zod';

/**
 * The OIDC authentication request of an LTI launch (LTI 1.3 §5.1.1.2), from the query (GET) or form (POST).
 * Every field is optional here so that each missing one gets its own precise error; a field sent twice
 * (an array) is refused outright. Unknown parameters are ignored, as OIDC requires.
 */
const param = z.string({ error: 'must be given once, as text' }).optional();

export const authRequestSchema = z.object({
  scope: param,
  response_type: param,
  response_mode: param,
  prompt: param,
  client_id: param,
  redirect_uri: param,
  login_hint: param,
  lti_message_hint: param,
  nonce: param,
  state: param,
  lti_deployment_id: param,
  id_token_signed_response_alg: param,
});

export type AuthRequest = z.infer<typeof authRequestSchema>;
