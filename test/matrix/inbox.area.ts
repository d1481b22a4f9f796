import type { MatrixArea } from './types.js';

/**
 * Every role's inbox. Reading a notice is checked per person in test/notifications.inbox.test.ts (another person's
 * notice is "not found"); here an id nobody has answers 404 for every role.
 */
const area: MatrixArea = {
  name: 'inbox',
  routes: [
    { route: 'GET /inbox', allowed: ['student', 'instructor', 'administrator'], path: () => '/inbox' },
    { route: 'POST /inbox/read-all', allowed: ['student', 'instructor', 'administrator'], path: () => '/inbox/read-all', form: {} },
    { route: 'POST /inbox/:notificationId/read', allowed: ['student', 'instructor', 'administrator'], path: () => '/inbox/999999999/read', form: {}, okStatus: 404 },
  ],
};
export default area;
