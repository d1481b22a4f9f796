import type { Queryable } from './queryable.js';

export type ActivityProgress = 'Initialized' | 'Started' | 'InProgress' | 'Submitted' | 'Completed';
export type GradingProgress = 'FullyGraded' | 'Pending' | 'PendingManual' | 'Failed' | 'NotReady';

export interface ScoreInput {
  lineItemId: number;
  clientId: string;
  userSub: string;
  scoreGiven: number | null;
  scoreMaximum: number | null;
  comment: string | null;
  activityProgress: ActivityProgress;
  gradingProgress: GradingProgress;
  timestamp: Date;
}

export interface Score extends ScoreInput {
  id: number;
  receivedAt: Date;
}

interface Row {
  id: number;
  line_item_id: number;
  client_id: string;
  user_sub: string;
  score_given: number | null;
  score_maximum: number | null;
  comment: string | null;
  activity_progress: ActivityProgress;
  grading_progress: GradingProgress;
  timestamp: Date;
  received_at: Date;
}

const COLUMNS = 'id, line_item_id, client_id, user_sub, score_given, score_maximum, comment, activity_progress, grading_progress, timestamp, received_at';

function toScore(r: Row): Score {
  return {
    id: r.id,
    lineItemId: r.line_item_id,
    clientId: r.client_id,
    userSub: r.user_sub,
    scoreGiven: r.score_given,
    scoreMaximum: r.score_maximum,
    comment: r.comment,
    activityProgress: r.activity_progress,
    gradingProgress: r.grading_progress,
    timestamp: r.timestamp,
    receivedAt: r.received_at,
  };
}

/**
 * Stores the score unless one with a later timestamp is already stored for this user and line item: AGS says
 * the platform must not let an older update replace a newer one. Call with the line item row locked
 * (lockLineItem) so two concurrent scores are compared one after the other.
 */
export async function insertScoreUnlessOlder(q: Queryable, s: ScoreInput): Promise<Score | null> {
  const res = await q.query<Row>(
    `insert into devlms.scores (line_item_id, client_id, user_sub, score_given, score_maximum, comment, activity_progress, grading_progress, timestamp)
     select $1, $2, $3, $4, $5, $6, $7, $8, $9
     where not exists (select 1 from devlms.scores where line_item_id = $1 and user_sub = $3 and timestamp > $9)
     returning ${COLUMNS}`,
    [s.lineItemId, s.clientId, s.userSub, s.scoreGiven, s.scoreMaximum, s.comment, s.activityProgress, s.gradingProgress, s.timestamp],
  );
  return res.rows[0] ? toScore(res.rows[0]) : null;
}

/** The latest score of each user for a line item (the AGS "result"), a page at a time. */
export async function listLatestScores(
  q: Queryable,
  lineItemId: number,
  opts: { userSub?: string; limit: number; offset: number },
): Promise<{ scores: Score[]; hasMore: boolean }> {
  const res = await q.query<Row>(
    `select * from (
       select distinct on (user_sub) ${COLUMNS} from devlms.scores
       where line_item_id = $1 and ($2::text is null or user_sub = $2)
       order by user_sub, timestamp desc, id desc
     ) latest order by user_sub limit $3 offset $4`,
    [lineItemId, opts.userSub ?? null, opts.limit + 1, opts.offset],
  );
  return { scores: res.rows.slice(0, opts.limit).map(toScore), hasMore: res.rows.length > opts.limit };
}

/** The latest score per (line item, user) in a course, for the gradebook. */
export async function listCourseLatestScores(q: Queryable, contextId: string): Promise<Score[]> {
  const res = await q.query<Row>(
    `select distinct on (s.line_item_id, s.user_sub) ${COLUMNS.split(', ').map((c) => `s.${c}`).join(', ')}
     from devlms.scores s join devlms.line_items li on li.id = s.line_item_id
     where li.context_id = $1
     order by s.line_item_id, s.user_sub, s.timestamp desc, s.id desc`,
    [contextId],
  );
  return res.rows.map(toScore);
}

export interface PostedScore extends Score {
  lineItemLabel: string;
  contextId: string;
  login: string | null;
}

/** Every score ever accepted, oldest first, with its line item and the user's login (for /api/scores). */
export async function listAllScores(q: Queryable): Promise<PostedScore[]> {
  const res = await q.query<Row & { label: string; context_id: string; login: string | null }>(
    `select ${COLUMNS.split(', ').map((c) => `s.${c}`).join(', ')}, li.label, li.context_id, u.login
     from devlms.scores s join devlms.line_items li on li.id = s.line_item_id left join devlms.users u on u.sub = s.user_sub
     order by s.id`,
  );
  return res.rows.map((r) => ({ ...toScore(r), lineItemLabel: r.label, contextId: r.context_id, login: r.login }));
}
