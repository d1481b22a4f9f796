import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import { SEED } from '../src/devlms/seed.js';
import { demoCourseFrom, seedDemoCourse } from '../src/models/prompts/demo-seed.js';
import { findPlatform } from '../src/models/tenancy/platforms.repository.js';

/** `npm run demo`'s seed: the dev course ready to grade, without overriding anything an instructor chose. */
describe('demo seed of the dev course', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('allows LLM assessment and gives each assignment a library prompt, once; launches find the seeded tasks', async () => {
    const reg = stack.devlms.devlms.toolRegistration();
    const platform = (await findPlatform(stack.db.db, reg.issuer, reg.clientId))!;
    const demo = demoCourseFrom(SEED, platform.id, reg.deploymentId);
    const first = await stack.db.db.transaction((tx) => seedDemoCourse(tx, demo));
    expect(first.promptsSeeded).toBe(2);
    expect(first.tasks.map((t) => [t.title, t.taskType, t.maxScore])).toEqual([
      ['Essay: Causes of the French Revolution', 'essay', 100],
      ['Short answer: The Boston Tea Party', 'short_answer', 10],
    ]);

    // The instructor archives one prompt and turns LLM assessment off; a second seed (a restart) changes nothing.
    const instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '2' });
    const shortAnswer = first.tasks[1]!;
    expect(new URL(instructor.home.url).pathname).toBe(`/instructor/tasks/${shortAnswer.id}`);
    const page = await instructor.get(`/instructor/tasks/${shortAnswer.id}/prompt`);
    expect(page.html).toContain('Version <strong>1</strong> is active');
    expect(page.html).toContain('Demo: the built-in &#34;Short answer&#34; template');
    expect((await instructor.post(`/instructor/tasks/${shortAnswer.id}/prompt/archive`, {}, { htmx: true })).status).toBe(200);
    expect((await instructor.post('/instructor/settings', { anonymize: 'on' }, { htmx: true })).status).toBe(200);

    const again = await stack.db.db.transaction((tx) => seedDemoCourse(tx, demo));
    expect(again.promptsSeeded).toBe(0);
    expect(again.tasks.map((t) => t.id)).toEqual(first.tasks.map((t) => t.id));
    const state = await stack.db.db.execute<{ llm_allowed: boolean; versions: number; archived: number }>(sql`
      select (select llm_allowed from course_privacy where course_id = ${first.courseId}) as llm_allowed,
             (select count(*)::int from prompt_versions) as versions,
             (select count(*)::int from prompts where status = 'archived') as archived`);
    expect(state.rows[0]).toEqual({ llm_allowed: false, versions: 2, archived: 1 });
  });
});
