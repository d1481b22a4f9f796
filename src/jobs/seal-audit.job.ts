import { z } from 'zod';
import { sealAuditLog } from '../models/audit/audit-chain.service.js';
import { defineJob } from './job.js';

/** Seals new audit rows into the hash chain every minute (src/models/audit/audit-chain.service.ts). */
export const sealAuditJob = defineJob({
  name: 'seal-audit-log',
  payload: z.object({}).passthrough(),
  every: '1 minute',
  async handle({ db, logger }) {
    const sealed = await sealAuditLog(db);
    if (sealed) logger.debug('audit rows sealed', { sealed });
  },
});
