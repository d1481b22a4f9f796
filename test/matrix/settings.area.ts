import type { MatrixArea } from './types.js';

const area: MatrixArea = {
  name: 'course settings',
  routes: [
    { route: 'GET /instructor/settings', allowed: ['instructor'], path: () => '/instructor/settings' },
    { route: 'GET /instructor/consent', allowed: ['instructor'], path: () => '/instructor/consent' },
    { route: 'POST /instructor/settings', allowed: ['instructor'], path: () => '/instructor/settings', form: { llmAllowed: 'on', anonymize: 'on', retentionDays: '' } },
  ],
};
export default area;
