import type { MatrixArea } from './types.js';

/** The administrator's monitoring page, its CSV, and the backfill of its days. */
const area: MatrixArea = {
  name: 'monitoring',
  routes: [
    { route: 'GET /admin/monitoring', allowed: ['administrator'], path: () => '/admin/monitoring' },
    { route: 'GET /admin/monitoring.csv', allowed: ['administrator'], path: () => '/admin/monitoring.csv' },
    { route: 'POST /admin/monitoring/rollup', allowed: ['administrator'], path: () => '/admin/monitoring/rollup?from=2026-11-01&to=2026-11-02', form: {} },
  ],
};
export default area;
