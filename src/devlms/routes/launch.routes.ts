import { Router } from 'express';
import type { DevLmsContext } from '../context.js';
import { pageError } from '../http/errors.js';
import { parseWith } from '../http/validate.js';
import { LaunchError, loginInitiationUrl, resolveLaunch, type ResolvedLaunch } from '../lti/launch.service.js';
import { roleLabel } from '../lti/roles-label.js';
import { launchPage } from '../views/launch.view.js';
import { launchQuerySchema, type LaunchQuery } from './launch.schema.js';

/** Resolves `/launch/:login` input into a launch, turning LaunchError into the page error it stands for. */
export async function launchFor(ctx: DevLmsContext, login: string, query: LaunchQuery): Promise<ResolvedLaunch> {
  try {
    return await resolveLaunch(ctx.pool, { login, task: query.task, message: query.message, clientId: query.client, resourceLinkId: query.link });
  } catch (err) {
    if (err instanceof LaunchError) throw pageError(err.status, err.message);
    throw err;
  }
}

/** The LMS page that frames the tool: the first leg of a launch. */
export function launchRoutes(ctx: DevLmsContext): Router {
  const router = Router();
  router.get('/launch/:login', async (req, res) => {
    const query = parseWith(launchQuerySchema, req.query, (m) => pageError(400, `Invalid launch: ${m}.`));
    const launch = await launchFor(ctx, req.params.login, query);
    const title = launch.link?.title ?? 'Add an activity';
    res.set('Cache-Control', 'no-store').type('html').send(
      launchPage({
        courseTitle: launch.course.title,
        title,
        personName: launch.person.name,
        login: launch.person.login,
        role: roleLabel(launch.roles),
        toolName: launch.registration.name,
        loginUrl: await loginInitiationUrl(ctx, launch),
        modal: query.message === 'deep_linking',
      }),
    );
  });
  return router;
}
