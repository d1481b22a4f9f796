import { Router, type Request, type Response } from 'express';
import type { RootDb } from '../db/db.js';
import { actorOf, allow } from '../lti/actor.js';
import { render } from '../http/render.js';
import { parseInput } from '../validation.js';
import { listAuditActions, listAuditEntries, type AuditFilter } from '../models/audit/audit.repository.js';
import { checkAuditChain } from '../models/audit/audit-chain.service.js';
import { listCourses } from '../models/budgets/budgets.repository.js';
import { HttpError } from '../errors.js';
import { auditQuery, type AuditQuery } from './audit.schema.js';
import { auditCsv, presentAuditEntry } from './audit.present.js';
import { withDeps } from './handlers.js';

type AuditDeps = { db: RootDb };

const PAGE = 50;
/** A CSV holds at most this many entries; a narrower filter gets the rest. */
const CSV_LIMIT = 50_000;

/**
 * The administrator's audit log (issue 17, item 7): who did what, where, with which provider, when — filtered,
 * paged, downloadable as CSV, and checked against its hash chain. Scoped to the administrator's platform.
 */
export function auditRoutes(deps: AuditDeps): Router {
  const on = withDeps(deps);
  const router = Router();
  router.use(['/admin/audit', '/admin/audit.csv'], allow('administrator'));
  router.get('/admin/audit', on(showLog));
  router.get('/admin/audit.csv', on(downloadCsv));
  router.post('/admin/audit/verify', on(verifyChain));
  return router;
}

function filterOf(q: AuditQuery): AuditFilter {
  return { actor: q.actor, action: q.action, courseId: q.courseId, provider: q.provider, from: q.from, to: q.to };
}

async function page(deps: AuditDeps, req: Request, res: Response, extra: { query?: AuditQuery; fields?: Record<string, string>; check?: unknown; status?: number; fragment?: string } = {}): Promise<void> {
  const { platformId } = actorOf(res);
  const query = extra.query ?? {};
  const rows = extra.fields ? [] : await listAuditEntries(deps.db, platformId, filterOf(query as AuditQuery), { beforeId: (query as AuditQuery).before, limit: PAGE + 1 });
  const entries = rows.slice(0, PAGE).map(presentAuditEntry);
  const next = rows.length > PAGE ? entries[entries.length - 1]!.id : null;
  const [actions, courses] = await Promise.all([listAuditActions(deps.db, platformId), listCourses(deps.db, platformId)]);
  const values = Object.fromEntries(['actor', 'action', 'courseId', 'provider', 'from', 'to'].map((k) => [k, typeof req.query[k] === 'string' ? (req.query[k] as string) : '']));
  render(
    req,
    res,
    'pages/admin/audit',
    { title: 'Audit log', entries, next, actions, families: [...new Set(actions.map((a) => a.split('.')[0]!))], courses, values, fields: extra.fields ?? {}, check: extra.check ?? null },
    { status: extra.status, fragment: extra.fragment ?? 'partials/admin/_audit-entries' },
  );
}

async function showLog(deps: AuditDeps, req: Request, res: Response): Promise<void> {
  try {
    await page(deps, req, res, { query: parseInput(auditQuery, req.query) });
  } catch (err) {
    if (err instanceof HttpError && err.status === 422) return page(deps, req, res, { fields: err.fields, status: 422 });
    throw err;
  }
}

async function downloadCsv(deps: AuditDeps, req: Request, res: Response): Promise<void> {
  const { platformId } = actorOf(res);
  const query = parseInput(auditQuery, req.query);
  const entries = await listAuditEntries(deps.db, platformId, filterOf(query), { beforeId: query.before, limit: CSV_LIMIT });
  res.status(200).type('text/csv; charset=utf-8').attachment('audit-log.csv').send(`\uFEFF${auditCsv(entries)}`);
}

/**
 * Recomputes the whole chain; tells this platform which of its entries broke it, and only that another's did. The
 * check itself is recorded (who checked, and what they were told), as a data-protection review expects.
 */
async function verifyChain(deps: AuditDeps, req: Request, res: Response): Promise<void> {
  const { platformId, userId } = actorOf(res);
  const result = await checkAuditChain(deps.db, { platformId, userId });
  const check = result.intact
    ? { intact: true, message: 'The audit log is intact: every sealed entry follows the one before it in the hash chain.' }
    : {
        intact: false,
        message:
          result.brokenAt.platformId === platformId
            ? `The audit log was altered: entry #${result.brokenAt.id} (or the one before it) was changed or removed outside the application.`
            : 'The audit log was altered at an entry of another platform: tell the person who runs llm-assess.',
      };
  await page(deps, req, res, { query: {} as AuditQuery, check, fragment: 'partials/admin/_audit-check' });
}
