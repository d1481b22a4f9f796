import { z } from 'zod';
import { pagingQuery } from '../http/paging.js';

/**
 * AGS 2.0 request bodies and queries. Unknown fields are refused unless they are extension fields (names that
 * are URLs, like Canvas's `https://canvas.instructure.com/lti/submission_type`): a misspelt `scoreMax` must fail
 * loudly here, not be ignored as a lenient LMS would.
 */
const isoDateTime = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone' });

function refuseUnknownFields(known: readonly string[]) {
  return (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
    for (const key of Object.keys(value)) {
      if (!known.includes(key) && !key.includes('://')) ctx.addIssue({ code: 'custom', path: [key], message: 'is not a field of this media type' });
    }
  };
}

const LINE_ITEM_FIELDS = ['id', 'label', 'scoreMaximum', 'resourceLinkId', 'resourceId', 'tag', 'startDateTime', 'endDateTime', 'gradesReleased'];

export const lineItemBodySchema = z
  .object({
    id: z.string().optional(),
    label: z.string().trim().min(1, 'is required').max(255),
    scoreMaximum: z.number().finite().positive('must be greater than 0'),
    resourceLinkId: z.string().min(1).optional(),
    resourceId: z.string().max(255).optional(),
    tag: z.string().max(255).optional(),
    startDateTime: isoDateTime.optional(),
    endDateTime: isoDateTime.optional(),
    gradesReleased: z.boolean().optional(),
  })
  .catchall(z.unknown())
  .superRefine(refuseUnknownFields(LINE_ITEM_FIELDS))
  .superRefine((v, ctx) => {
    if (v.startDateTime && v.endDateTime && Date.parse(v.endDateTime) < Date.parse(v.startDateTime)) {
      ctx.addIssue({ code: 'custom', path: ['endDateTime'], message: 'is before startDateTime' });
    }
  });
export type LineItemBody = z.infer<typeof lineItemBodySchema>;

export const ACTIVITY_PROGRESS = ['Initialized', 'Started', 'InProgress', 'Submitted', 'Completed'] as const;
export const GRADING_PROGRESS = ['FullyGraded', 'Pending', 'PendingManual', 'Failed', 'NotReady'] as const;

const SCORE_FIELDS = ['userId', 'scoreGiven', 'scoreMaximum', 'comment', 'activityProgress', 'gradingProgress', 'timestamp', 'submission'];

export const scoreBodySchema = z
  .object({
    userId: z.string().min(1, 'is required'),
    scoreGiven: z.number().finite().min(0, 'must be 0 or more').optional(),
    scoreMaximum: z.number().finite().positive('must be greater than 0').optional(),
    comment: z.string().max(100_000).optional(),
    activityProgress: z.enum(ACTIVITY_PROGRESS),
    gradingProgress: z.enum(GRADING_PROGRESS),
    timestamp: isoDateTime,
    submission: z.strictObject({ startedAt: isoDateTime.optional(), submittedAt: isoDateTime.optional() }).optional(),
  })
  .catchall(z.unknown())
  .superRefine(refuseUnknownFields(SCORE_FIELDS))
  .superRefine((v, ctx) => {
    if (v.scoreGiven !== undefined && v.scoreMaximum === undefined) {
      ctx.addIssue({ code: 'custom', path: ['scoreMaximum'], message: 'is required when scoreGiven is given' });
    }
  });
export type ScoreBody = z.infer<typeof scoreBodySchema>;

const filter = z.string({ error: 'must be given once, as text' }).min(1).optional();

export const lineItemsQuerySchema = z.strictObject({
  resource_link_id: filter,
  resource_id: filter,
  tag: filter,
  ...pagingQuery,
});

export const resultsQuerySchema = z.strictObject({ user_id: filter, ...pagingQuery });

export const lineItemIdSchema = z.string().regex(/^\d{1,9}$/).transform(Number);
