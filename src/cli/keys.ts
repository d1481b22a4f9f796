import { parseArgs } from 'node:util';
import { loadRuntimeConfig } from '../config.js';
import { createLogger } from '../log.js';
import { keyStatus, rotateKeys, type KeyStatus } from '../models/submissions/key-rotation.service.js';
import { openDatabase } from '../runtime.js';
import { runCli } from './run.js';

const USAGE = `The keys that encrypt stored work, for the person who runs llm-assess.

  npm run keys -- status        how many stored texts each key id encrypted (and assessment texts still plaintext)
  npm run keys -- rotate [--batch-size <rows>]
                                re-encrypts everything not under the current key, a batch (200 rows) per
                                transaction, while the tool runs; stopped, it goes on where it was when run again
  npm run keys -- hmac-key      prints CONTENT_HMAC_KEY, the key that finds identical resubmissions (needed once
                                the key k1 is removed; keep it as secret as the encryption keys)

Rotating to a new key:
  1. Add the new key first in ENCRYPTION_KEYS and keep the old one after it, e.g. ENCRYPTION_KEYS=k2:<new>,k1:<old>
     (ENCRYPTION_KEY, if set, is the key k1 and may stay). New keys: openssl rand -base64 32.
  2. Restart every process (web and worker) with it: new work is then encrypted with k2, old work still read with k1.
     Restart them together: a process still without k2 cannot read what the others write with it.
  3. npm run keys -- rotate      (then: npm run keys -- status shows nothing under k1)
  4. Removing k1 (ENCRYPTION_KEY and/or the k1 entry): first set CONTENT_HMAC_KEY to what hmac-key prints, since it
     is derived from k1. Then drop the old key and restart. Keep the old key wherever your backups are: a backup
     taken before the rotation needs it.`;

function printStatus(status: KeyStatus): void {
  console.log(`Current key: ${status.currentId}`);
  const line = (what: string, counts: KeyStatus['submissions']) =>
    console.log(`${what}: ${counts.length ? counts.map((c) => `${c.keyId} ${c.rows}`).join(', ') : 'none'}`);
  line('Submissions', status.submissions);
  line('Assessment texts', status.assessmentTexts);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'batch-size': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  const [command] = positionals;
  if (!command || values.help) {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const batchSize = values['batch-size'] === undefined ? 200 : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    console.error(`--batch-size must be a whole number from 1 to 10000.\n\n${USAGE}`);
    return 1;
  }
  const config = loadRuntimeConfig();
  if (command === 'hmac-key') {
    console.log(config.encryptionKey.hmacKey.toString('base64'));
    return 0;
  }
  if (command !== 'status' && command !== 'rotate') {
    console.error(`Unknown command "${command}".\n\n${USAGE}`);
    return 1;
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'llm-assess', config.logFormat);
  const database = await openDatabase(config, logger, { attach: true });
  try {
    if (command === 'status') {
      printStatus(await keyStatus(database.db, config.encryptionKey));
      return 0;
    }
    console.log(`Re-encrypting under the key ${config.encryptionKey.currentId}, ${batchSize} rows per transaction.`);
    const run = await rotateKeys(database.db, config.encryptionKey, {
      batchSize,
      onProgress: (p) => console.log(`  ${p.table}: ${p.rotated} re-encrypted${p.unreadable ? `, ${p.unreadable} unreadable` : ''}`),
    });
    console.log(`Done: ${run.submissions.rotated} submissions and ${run.assessments.rotated} assessments re-encrypted.`);
    const unreadable = run.submissions.unreadable + run.assessments.unreadable;
    if (unreadable) console.log(`${unreadable} rows could not be decrypted with any configured key and were left as they are.`);
    printStatus(await keyStatus(database.db, config.encryptionKey));
    return unreadable ? 2 : 0;
  } finally {
    await database.close();
  }
}

runCli(main);
