/** Every table, for drizzle's typed queries and for drizzle-kit, which generates the versioned migrations. */
export * from './tenancy/tenancy.table.js';
export * from './tasks/tasks.table.js';
export * from './prompts/prompts.table.js';
export * from './prompts/ab-tests.table.js';
export * from './submissions/submissions.table.js';
export * from './queue/queue.table.js';
export * from './batches/batches.table.js';
export * from './batches/batch-requests.table.js';
export * from './assessments/assessments.table.js';
export * from './budgets/budgets.table.js';
export * from './privacy/privacy.table.js';
export * from './audit/audit.table.js';
export * from './notifications/notifications.table.js';
export * from './appeals/appeals.table.js';
export * from './metrics/metrics.table.js';
export * from './schedules/schedules.table.js';
