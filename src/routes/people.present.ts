import type { PersonExport } from '../models/privacy/person-data.service.js';
import { formatDateTime } from './present.js';

const when = (iso: string | null) => (iso ? formatDateTime(new Date(iso)) : '');

/** The export as the readable page shows it: dates for people, the model's result as short lines. */
export function presentExport(data: PersonExport) {
  return {
    person: { ...data.person, lastLaunch: when(data.person.lastLaunchAt), erased: when(data.person.erasedAt) },
    exportedAt: when(data.exportedAt),
    courses: data.courses,
    submissions: data.submissions.map((s) => ({ ...s, submitted: when(s.submittedAt), removed: when(s.removedAt) })),
    assessments: data.assessments.map((a) => ({
      ...a,
      decided: when(a.decidedAt),
      comments: typeof a.aiResult?.comments === 'string' ? a.aiResult.comments : '',
    })),
    queue: data.queue.map((q) => ({ ...q, queued: when(q.queuedAt) })),
    actions: data.actions.map((e) => ({ ...e, at: when(e.at) })),
    requests: data.requests.map((r) => ({ ...r, requested: when(r.requestedAt), completed: when(r.completedAt) })),
  };
}
