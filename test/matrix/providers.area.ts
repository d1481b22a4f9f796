import type { MatrixArea } from './types.js';

/** Providers (issue 20, item 6): each provider's health and the platform's failover policy. */
const FORM = { mode: 'automatic', first: 'openai', modelOpenai: '', modelAnthropic: '', slaMinutes: '720' };

const area: MatrixArea = {
  name: 'providers',
  routes: [
    { route: 'GET /admin/providers', allowed: ['administrator'], path: () => '/admin/providers' },
    { route: 'POST /admin/providers', allowed: ['administrator'], path: () => '/admin/providers', form: FORM },
  ],
};
export default area;
