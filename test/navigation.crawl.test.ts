import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { crawl, type Visit } from './helpers/crawl.js';
import type { Who } from './matrix/types.js';
import { startWorld, type World } from './security/world.js';

/**
 * Every link and every GET form of every page, as each role, without JavaScript (issue 15, item 1): in Moodle the
 * review filter and the agreement form answered 401 `no_session`, because a GET form drops its action's query —
 * the launch token with it. The world is the security suite's (each area's records exist), so the pages show
 * their lists, filters and links, not empty states.
 */
describe('navigation without JavaScript keeps the session', () => {
  let world: World;
  const walks = {} as Record<Who, Awaited<ReturnType<typeof crawl>>>;

  beforeAll(async () => {
    world = await startWorld();
    for (const who of ['student', 'instructor', 'administrator'] as const) {
      const session = world.sessions[who];
      walks[who] = await crawl(session.browser, session.home.url);
    }
  }, 240_000);
  afterAll(async () => {
    await world?.close();
  });

  const describeVisit = (v: Visit) => `${v.status} ${v.kind} ${new URL(v.url).pathname}${new URL(v.url).search.replace(/ltik=[^&]+/, 'ltik=…')} (from ${v.from})`;

  it.each(['student', 'instructor', 'administrator'] as const)('%s: no link or GET form ends the session (401) or fails (5xx)', (who) => {
    const bad = walks[who].visits.filter((v) => v.status === 401 || v.status >= 500).map(describeVisit);
    expect(bad).toEqual([]);
  });

  it.each(['student', 'instructor', 'administrator'] as const)('%s: every POST form carries the launch token without JavaScript', (who) => {
    expect(walks[who].tokenless).toEqual([]);
  });

  it('walks the filter forms that lost the token in Moodle, and the pages behind the links', () => {
    const reached = (who: Who, kind: Visit['kind'], path: string) => walks[who].visits.some((v) => v.kind === kind && new URL(v.url).pathname === path && v.status === 200);
    expect(reached('instructor', 'form', '/instructor/review')).toBe(true);
    expect(reached('instructor', 'form', '/instructor/analytics')).toBe(true);
    expect(reached('administrator', 'form', '/admin/queue')).toBe(true);
    expect(reached('instructor', 'link', '/instructor/review')).toBe(true);
    expect(walks.instructor.visits.some((v) => /^\/instructor\/review\/\d+$/.test(new URL(v.url).pathname) && v.status === 200)).toBe(true);
    expect(walks.student.visits.some((v) => /^\/student\/tasks\/\d+$/.test(new URL(v.url).pathname) && v.status === 200)).toBe(true);
    for (const who of ['student', 'instructor', 'administrator'] as const) expect(walks[who].visits.length).toBeGreaterThan(3);
  });
});
