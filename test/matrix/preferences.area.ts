import type { MatrixArea } from './types.js';

/** Every role's own e-mail preferences. */
const area: MatrixArea = {
  name: 'e-mail preferences',
  routes: [
    { route: 'GET /preferences', allowed: ['student', 'instructor', 'administrator'], path: () => '/preferences' },
    { route: 'POST /preferences', allowed: ['student', 'instructor', 'administrator'], path: () => '/preferences', form: { frequency: 'daily' } },
  ],
};
export default area;
