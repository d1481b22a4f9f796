import type { MatrixArea } from './types.js';

/**
 * The administrator's cost report (issue 16, item 8): the page, its CSV, the platform's cost settings and a task's
 * minutes per assessment. Each form's sample changes the database (the settings or the task, and an audit row).
 */
const area: MatrixArea = {
  name: 'cost report',
  routes: [
    { route: 'GET /admin/costs/report', allowed: ['administrator'], path: () => '/admin/costs/report' },
    { route: 'GET /admin/costs/report.csv', allowed: ['administrator'], path: () => '/admin/costs/report.csv' },
    { route: 'POST /admin/costs/report/settings', allowed: ['administrator'], path: () => '/admin/costs/report/settings', form: { hourlyRate: '45', defaultMinutes: '10' } },
    // The home task: another platform's administrator gets 404 for it (test/costs.report.test.ts also tries a task of theirs from home).
    { route: 'POST /admin/costs/report/tasks/:taskId/minutes', allowed: ['administrator'], path: ({ taskId }) => `/admin/costs/report/tasks/${taskId}/minutes`, form: { minutes: '15' }, tenantScoped: true },
  ],
};
export default area;
