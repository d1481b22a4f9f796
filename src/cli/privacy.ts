import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadRuntimeConfig } from '../config.js';
import { HttpError, NotFound } from '../errors.js';
import { createLogger } from '../log.js';
import { verifyAuditChain } from '../models/audit/audit-chain.service.js';
import { findPersonBySub } from '../models/privacy/person-data.repository.js';
import { carryOutErasures, exportPerson, scheduleErasure } from '../models/privacy/person-data.service.js';
import { applyRetention } from '../models/privacy/retention.service.js';
import { openDatabase } from '../runtime.js';
import { runCli } from './run.js';

const USAGE = `A person's data, retention and the audit log, for the person who runs llm-assess.

  npm run privacy -- export --platform <id> --sub <LMS user id> [--out <file.json>]
                          everything held about the person (stdout, or the file)
  npm run privacy -- delete --platform <id> --sub <LMS user id>
                          deletes the person's data now (work still at a provider: when its batch ends)
  npm run privacy -- retention     applies every course's retention policy now (the daily job does it too)
  npm run privacy -- verify-audit  recomputes the audit log's hash chain

Platform ids: npm run lti -- list.`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { platform: { type: 'string' }, sub: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command] = positionals;
  if (!command || values.help) {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const config = loadRuntimeConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'llm-assess', config.logFormat);
  const database = await openDatabase(config, logger, { attach: true });
  const db = database.db;
  try {
    const person = async () => {
      if (!values.platform || !/^[1-9]\d{0,9}$/.test(values.platform) || !values.sub) throw new HttpError(400, 'usage', `--platform <id> and --sub <LMS user id> are required.\n\n${USAGE}`);
      const found = await findPersonBySub(db, Number(values.platform), values.sub);
      if (!found) throw NotFound(`A person with LMS user id ${values.sub} on platform ${values.platform}`);
      return found;
    };
    switch (command) {
      case 'export': {
        const p = await person();
        const json = JSON.stringify(await exportPerson(db, config, p.platformId, p.id), null, 2);
        if (values.out) writeFileSync(values.out, json, { mode: 0o600 });
        else console.log(json);
        if (values.out) console.log(`Exported person ${p.id} to ${values.out}.`);
        return 0;
      }
      case 'delete': {
        const p = await person();
        const requestId = await db.transaction((tx) => scheduleErasure(tx, { platformId: p.platformId, userId: null, source: 'cli' }, p.id));
        const run = await carryOutErasures(db);
        console.log(run.waiting ? `Request ${requestId}: deletion waits for work at a provider; the daily job finishes it.` : `Request ${requestId}: the person's data was deleted.`);
        return 0;
      }
      case 'retention': {
        const run = await applyRetention(db);
        console.log(`Content removed: ${run.submissions} submissions, ${run.assessments} assessments, in ${run.courses.size} courses.`);
        return 0;
      }
      case 'verify-audit': {
        const check = await verifyAuditChain(db);
        console.log(check.intact ? `The audit log is intact (${check.checked} sealed entries).` : `The audit log was altered: entry ${check.brokenAt.id} (chain position ${check.brokenAt.seq}) does not follow the one before it.`);
        return check.intact ? 0 : 2;
      }
      default:
        console.error(`Unknown command "${command}".\n\n${USAGE}`);
        return 1;
    }
  } finally {
    await database.close();
  }
}

runCli(main);
