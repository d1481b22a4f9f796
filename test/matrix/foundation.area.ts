import type { MatrixArea } from './types.js';

/** Role homes, the admin panel's foundation pages, platform management, deep linking and the session API. */
const area: MatrixArea = {
  name: 'foundation',
  routes: [
    { route: 'GET /student', allowed: ['student'], path: () => '/student' },
    { route: 'GET /student/tasks/:taskId', allowed: ['student'], path: ({ taskId }) => `/student/tasks/${taskId}`, tenantScoped: true },
    { route: 'GET /instructor', allowed: ['instructor'], path: () => '/instructor' },
    { route: 'GET /instructor/tasks/:taskId', allowed: ['instructor'], path: ({ taskId }) => `/instructor/tasks/${taskId}`, tenantScoped: true },
    { route: 'GET /admin', allowed: ['administrator'], path: () => '/admin' },
    { route: 'GET /admin/queue', allowed: ['administrator'], path: () => '/admin/queue' },
    { route: 'GET /admin/batches', allowed: ['administrator'], path: () => '/admin/batches' },
    { route: 'GET /admin/platforms', allowed: ['administrator'], path: () => '/admin/platforms' },
    { route: 'POST /admin/platforms/deployments', allowed: ['administrator'], path: () => '/admin/platforms/deployments', form: { deploymentId: 'matrix-extra' } },
    { route: 'POST /admin/platforms/deployments/remove', allowed: ['administrator'], path: () => '/admin/platforms/deployments/remove', form: { deploymentId: 'matrix-extra' } },
    { route: 'POST /admin/registration-invites', allowed: ['administrator'], path: () => '/admin/registration-invites', form: { note: 'matrix', becomes: 'platform' } },
    { route: 'GET /deep-linking', allowed: ['instructor', 'administrator'], path: () => '/deep-linking', deepLinkingOnly: true },
    { route: 'POST /deep-linking', allowed: ['instructor', 'administrator'], path: () => '/deep-linking', form: { taskId: 'new', title: 'x', maxScore: '10' }, deepLinkingOnly: true },
    { route: 'GET /api/session', allowed: ['student', 'instructor', 'administrator'], path: () => '/api/session' },
  ],
};
export default area;
