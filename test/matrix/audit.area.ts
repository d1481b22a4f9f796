import type { MatrixArea } from './types.js';

/** The administrator's audit log (issue 17, item 7): the page, its CSV, and the integrity check. */
const area: MatrixArea = {
  name: 'audit',
  routes: [
    { route: 'GET /admin/audit', allowed: ['administrator'], path: () => '/admin/audit' },
    { route: 'GET /admin/audit.csv', allowed: ['administrator'], path: () => '/admin/audit.csv' },
    { route: 'POST /admin/audit/verify', allowed: ['administrator'], path: () => '/admin/audit/verify', form: {} },
  ],
};
export default area;
