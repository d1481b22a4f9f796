import { Router } from 'express';
import type { DevLmsContext } from '../context.js';
import { listCourseLineItems } from '../db/line-items.repository.js';
import { firstCourse, listMembers } from '../db/people.repository.js';
import { listAllScores, listCourseLatestScores } from '../db/scores.repository.js';
import { pageError } from '../http/errors.js';
import { ROLE } from '../lti/claims.js';
import { gradebookPage } from '../views/gradebook.view.js';

/** The gradebook page, and every posted score as JSON (the contract tool tests read: GET /api/scores). */
export function gradebookRoutes(ctx: DevLmsContext): Router {
  const router = Router();

  router.get('/gradebook', async (_req, res) => {
    const course = await firstCourse(ctx.pool);
    if (!course) throw pageError(404, 'The LMS has no course yet: call seed() first.');
    const [lineItems, learners, scores] = await Promise.all([
      listCourseLineItems(ctx.pool, course.contextId),
      listMembers(ctx.pool, course.contextId, { role: ROLE.learner, limit: 10_000, offset: 0 }),
      listCourseLatestScores(ctx.pool, course.contextId),
    ]);
    const latest = new Map(scores.map((s) => [`${s.lineItemId} ${s.userSub}`, s]));
    res.type('html').send(
      gradebookPage({
        courseTitle: course.title,
        lineItems,
        students: learners.members.map((m) => ({
          login: m.login,
          name: m.name,
          cells: lineItems.map((li) => {
            const s = latest.get(`${li.id} ${m.sub}`);
            if (!s) return null;
            return {
              score: s.scoreGiven === null ? '—' : `${s.scoreGiven} / ${s.scoreMaximum ?? li.scoreMaximum}`,
              comment: s.comment,
              progress: `${s.activityProgress}, ${s.gradingProgress}`,
            };
          }),
        })),
      }),
    );
  });

  router.get('/api/scores', async (_req, res) => {
    const scores = await listAllScores(ctx.pool);
    res.set('Cache-Control', 'no-store').json(
      scores.map((s) => ({
        id: s.id,
        lineItemId: ctx.endpoints.lineItem(s.contextId, s.lineItemId),
        lineItemLabel: s.lineItemLabel,
        contextId: s.contextId,
        clientId: s.clientId,
        userId: s.userSub,
        login: s.login,
        scoreGiven: s.scoreGiven,
        scoreMaximum: s.scoreMaximum,
        comment: s.comment,
        activityProgress: s.activityProgress,
        gradingProgress: s.gradingProgress,
        timestamp: s.timestamp.toISOString(),
        receivedAt: s.receivedAt.toISOString(),
      })),
    );
  });
  return router;
}
