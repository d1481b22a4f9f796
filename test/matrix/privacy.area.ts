import type { MatrixArea } from './types.js';

/** The institution's privacy defaults and limits (issue 17, item 5). */
const area: MatrixArea = {
  name: 'privacy',
  routes: [
    { route: 'GET /admin/privacy', allowed: ['administrator'], path: () => '/admin/privacy' },
    {
      route: 'POST /admin/privacy',
      allowed: ['administrator'],
      path: () => '/admin/privacy',
      form: { allowedProviders: 'openai', maxRetentionDays: '', defaultRetentionDays: '30', defaultAnonymize: 'on' },
    },
  ],
};
export default area;
