import { z } from 'zod';
import { CLAIM, ERRORMSG_LTIJS, MESSAGE_TYPE } from '../lti/claims.js';

export const deepLinkingFormSchema = z.object({
  JWT: z.string({ error: 'the form field "JWT" is required' }).min(1, 'the form field "JWT" is empty'),
});

/** The claims of an LtiDeepLinkingResponse (LTI Deep Linking 2.0 §4.2), checked after its signature. */
export const deepLinkingResponseSchema = z
  .object({
    nonce: z.string({ error: 'is required' }).min(1),
    [CLAIM.messageType]: z.literal(MESSAGE_TYPE.deepLinkingResponse, { error: `must be "${MESSAGE_TYPE.deepLinkingResponse}"` }),
    [CLAIM.version]: z.literal('1.3.0', { error: 'must be "1.3.0"' }),
    [CLAIM.deploymentId]: z.string({ error: 'is required' }).min(1),
    [CLAIM.data]: z.string({ error: 'is required: echo the data of the deep_linking_settings' }),
    [CLAIM.contentItems]: z.array(z.record(z.string(), z.unknown()), { error: 'must be an array' }).optional(),
    [CLAIM.msg]: z.string().optional(),
    [CLAIM.errormsg]: z.string().optional(),
    [ERRORMSG_LTIJS]: z.string().optional(),
    [CLAIM.log]: z.string().optional(),
    [CLAIM.errorlog]: z.string().optional(),
  })
  .passthrough();

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** The one content item type this platform accepts (accept_types: ["ltiResourceLink"]). */
export const resourceLinkItemSchema = z
  .object({
    type: z.literal('ltiResourceLink', { error: 'must be "ltiResourceLink" (the only accepted type)' }),
    title: z.string().max(255).optional(),
    text: z.string().max(10_000).optional(),
    url: httpUrl.optional(),
    custom: z.record(z.string(), z.string({ error: 'custom values must be strings' })).optional(),
    lineItem: z
      .object({
        label: z.string().trim().min(1).max(255).optional(),
        scoreMaximum: z.number().finite().positive('must be greater than 0'),
        resourceId: z.string().max(255).optional(),
        tag: z.string().max(255).optional(),
        gradesReleased: z.boolean().optional(),
      })
      .optional(),
  })
  .passthrough();
export type ResourceLinkItem = z.infer<typeof resourceLinkItemSchema>;
