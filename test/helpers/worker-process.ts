import { spawn, type ChildProcess } from 'node:child_process';
import type pg from 'pg';
import { ROLE } from '../../src/devlms/lti/claims.js';

/** A worker as deployed: `node src/server.ts` in its own OS process, with the environment given (ROLE=worker). */
export interface WorkerProcess {
  child: ChildProcess;
  /** What it printed (the last `keep` characters). */
  out: () => string;
  exited: Promise<number | null>;
}

export function startWorkerProcess(env: Record<string, string | undefined>, keep = 100_000): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { ...process.env, ...env, ROLE: 'worker' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const add = (d: Buffer) => (out = (out + d).slice(-keep));
  child.stdout!.on('data', add);
  child.stderr!.on('data', add);
  return { child, out: () => out, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

/** The tool's students (by LTI sub) as people of the dev LMS's course `course-101`, so it takes their scores. */
export async function enrolInDevLms(lmsPool: pg.Pool, subs: string[]): Promise<void> {
  await lmsPool.query(
    `insert into devlms.users (login, sub, name, given_name, family_name, email, institution_roles, position)
     select s, s, 'Student ' || s, 'Student', s, s || '@example.edu', '{}', 5000 + ordinality from unnest($1::text[]) with ordinality s`,
    [subs],
  );
  await lmsPool.query(`insert into devlms.memberships (context_id, login, roles) select 'course-101', s, $2 from unnest($1::text[]) s`, [subs, [ROLE.learner]]);
}
