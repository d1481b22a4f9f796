import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import { actorOf, allow, courseOf } from '../lti/actor.js';
import { HttpError } from '../errors.js';
import { render } from '../http/render.js';
import { getCoursePrivacy, getPlatformPrivacy, type CoursePrivacy } from '../models/privacy/privacy.repository.js';
import { PROVIDERS } from '../models/privacy/privacy.table.js';
import { CURRENT_CONSENT } from '../models/privacy/consent.js';
import { listCourseConsent } from '../models/privacy/consent.repository.js';
import { formatDateTime } from './present.js';
import { updateCoursePrivacy } from '../models/privacy/privacy.service.js';
import { privacyForm } from '../models/privacy/privacy.schema.js';
import { parseInput } from '../validation.js';

/** Course settings: whether student work may be assessed by an LLM at all, and how it is protected. */
export function settingsRoutes(deps: { db: RootDb }): Router {
  const router = Router();
  router.use(['/instructor/settings', '/instructor/consent'], allow('instructor'));

  /** Who has agreed to LLM assessment in the course, who withdrew, and who has not been asked or not agreed yet. */
  router.get('/instructor/consent', async (req, res) => {
    const courseId = courseOf(actorOf(res));
    const [privacy, lines] = await Promise.all([getCoursePrivacy(deps.db, courseId), listCourseConsent(deps.db, courseId)]);
    const students = lines.map((l) => ({
      name: l.name || l.sub,
      status: l.givenAt && !l.withdrawnAt ? (l.wordingVersion === CURRENT_CONSENT.version ? 'agreed' : 'agreed to older words: asked again') : l.withdrawnAt ? 'withdrew' : 'not yet',
      when: l.withdrawnAt ? formatDateTime(l.withdrawnAt) : l.givenAt ? formatDateTime(l.givenAt) : '',
      standing: Boolean(l.givenAt && !l.withdrawnAt && l.wordingVersion === CURRENT_CONSENT.version),
    }));
    render(req, res, 'pages/instructor/consent', { title: 'Consent', required: privacy.consentRequired, students, missing: students.filter((s) => !s.standing).length, wording: CURRENT_CONSENT.text });
  });

  // The form offers what the institution allows (its providers, its longest retention).
  const show = async (req: Request, res: Response, privacy: CoursePrivacy, options: { fields?: Record<string, string>; saved?: boolean; status?: number } = {}) => {
    const limits = await getPlatformPrivacy(deps.db, actorOf(res).platformId);
    render(req, res, 'pages/instructor/settings', { title: 'Course settings', privacy, limits, providers: PROVIDERS, fields: options.fields ?? {}, saved: options.saved ?? false }, { status: options.status, fragment: 'partials/instructor/_settings-form' });
  };

  router.get('/instructor/settings', async (req, res) => {
    await show(req, res, await getCoursePrivacy(deps.db, courseOf(actorOf(res))));
  });

  router.post('/instructor/settings', async (req, res) => {
    const actor = actorOf(res);
    const courseId = courseOf(actor);
    try {
      const input = parseInput(privacyForm, req.body);
      const privacy = await deps.db.transaction((tx) => updateCoursePrivacy(tx, { platformId: actor.platformId, courseId, userId: actor.userId }, input));
      await show(req, res, privacy, { saved: true });
    } catch (err) {
      if (err instanceof HttpError && err.status === 422) {
        return show(req, res, { ...(await getCoursePrivacy(deps.db, courseId)) }, { fields: err.fields, status: 422 });
      }
      throw err;
    }
  });
  return router;
}
