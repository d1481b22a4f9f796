import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'drizzle-orm';
import { startStack, type Stack } from './helpers/stack.js';
import { addActivityByDeepLinking } from './helpers/launches.js';
import { textOf } from './helpers/html.js';

/**
 * Issue 15, item 2: in Moodle a task placed by deep linking ended up in two activities (placed twice, or an
 * activity duplicated), both carrying the task's id; the first launch of the second one silently made a second,
 * empty task. The dev LMS duplicates an activity as Moodle does: same custom parameters, a copy of the column.
 */
describe('two LMS activities carrying one task id', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  const tasksTitled = async (title: string) =>
    (await stack.db.db.execute<{ id: number; resource_link_id: string | null; line_item_url: string | null }>(sql`select id, resource_link_id, line_item_url from tasks where title like ${`${title}%`} order by id`)).rows;

  /** The dev LMS activity's launch number (`?task=n`) and its Duplicate form, from the course page. */
  async function activity(title: string): Promise<{ number: string; duplicate: string }> {
    const page = await stack.browser().request(`${stack.devlmsUrl}/`);
    const titles = [...page.html.matchAll(/<th scope="col">Task (\d+): ([^<]+)<\/th>/g)].map((m) => ({ number: m[1]!, title: m[2]! }));
    const number = titles.find((t) => t.title === title)?.number;
    const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const duplicate = page.html.match(new RegExp(`<form method="post" action="([^"]+)" class="inline"><button[^>]*aria-label="Duplicate ${escaped}"`))?.[1];
    if (!number || !duplicate) throw new Error(`no activity "${title}" on the dev LMS course page`);
    return { number, duplicate };
  }

  const duplicate = async (title: string) => {
    const answer = await stack.browser().request(`${stack.devlmsUrl}${(await activity(title)).duplicate}`, { method: 'POST', form: {} });
    expect(answer.status).toBe(200);
    expect(textOf(answer.html)).toContain(`${title} (copy)`);
  };

  it('opens the same task from the copy of a launched activity, and keeps its gradebook column', async () => {
    await addActivityByDeepLinking(stack, stack.browser(), { title: 'Duplicated essay', maxScore: 20 });
    const original = await activity('Duplicated essay');
    const first = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: original.number });
    const [task] = await tasksTitled('Duplicated essay');
    expect(task!.line_item_url).not.toBeNull();
    expect(new URL(first.home.url).pathname).toBe(`/student/tasks/${task!.id}`);

    await duplicate('Duplicated essay');
    const copy = await activity('Duplicated essay (copy)');
    for (const login of ['student2', 'instructor']) {
      const session = await stack.browser().launch(stack.devlmsUrl, login, { task: copy.number });
      expect(new URL(session.home.url).pathname).toBe(login === 'instructor' ? `/instructor/tasks/${task!.id}` : `/student/tasks/${task!.id}`);
    }
    // One task, still bound to the first activity and its column: grades do not move to the copy's column.
    expect(await tasksTitled('Duplicated essay')).toEqual([task]);
  });

  it('makes one task when the copy is launched before the original', async () => {
    await addActivityByDeepLinking(stack, stack.browser(), { title: 'Copied before launch', maxScore: 10 });
    await duplicate('Copied before launch');
    const copy = await activity('Copied before launch (copy)');
    const original = await activity('Copied before launch');
    const a = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: copy.number });
    const b = await stack.browser().launch(stack.devlmsUrl, 'student1', { task: original.number });
    const tasks = await tasksTitled('Copied before launch');
    expect(tasks).toHaveLength(1);
    expect(new URL(a.home.url).pathname).toBe(`/student/tasks/${tasks[0]!.id}`);
    expect(new URL(b.home.url).pathname).toBe(`/student/tasks/${tasks[0]!.id}`);
  });

  it('still gives a link it did not make its own task on its first launch, once', async () => {
    const before = (await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from tasks`)).rows[0]!.n;
    await stack.browser().launch(stack.devlmsUrl, 'student1', { task: '2' });
    await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '2' });
    const after = (await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from tasks`)).rows[0]!.n;
    expect(after - before).toBe(1);
  });
});
