import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SEED } from '../../src/devlms/index.js';
import { accessToken, startHarness, TOKEN_SCOPES, type Harness } from './helpers/harness.js';

const MEMBERSHIPS = 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json';

interface Container {
  id: string;
  context: { id: string; label: string; title: string };
  members: { user_id: string; roles: string[]; status: string; name: string; given_name: string; family_name: string; email: string }[];
}

describe('dev LMS: Names and Role Provisioning Services', () => {
  let h: Harness;
  let token: string;
  let url: string;
  beforeAll(async () => {
    h = await startHarness();
    token = await accessToken(h, [TOKEN_SCOPES.membership]);
    url = `${h.url}/api/lti/courses/course-101/memberships`;
  });
  afterAll(async () => {
    await h.close();
  });
  const get = (u: string, t = token) => fetch(u, { headers: { authorization: `Bearer ${t}` } });

  it('lists the course members (not the unenrolled administrator) with the NRPS media type', async () => {
    const res = await get(`${url}?limit=100`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain(MEMBERSHIPS);
    expect(res.headers.get('link')).toBeNull();
    const body = (await res.json()) as Container;
    expect(body.id).toBe(url);
    expect(body.context).toEqual({ id: 'course-101', label: 'HIST 101', title: 'History 101: Revolutions' });
    expect(body.members.map((m) => m.user_id)).toEqual(SEED.people.filter((p) => p.courseRoles).map((p) => p.sub));
    expect(body.members[1]).toEqual({
      status: 'Active', name: 'Amara Okafor', given_name: 'Amara', family_name: 'Okafor', email: 'amara.okafor@example.edu',
      user_id: SEED.people[1].sub, lis_person_sourcedid: 'sis-student1', roles: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'],
    });
  });

  it('pages with Link rel="next" and filters by role (short name or full URI)', async () => {
    const seen: string[] = [];
    let next: string | null = `${url}?role=Learner&limit=2`;
    while (next) {
      const res = await get(next);
      seen.push(...((await res.json()) as Container).members.map((m) => m.name));
      const link = res.headers.get('link');
      next = link ? /<([^>]+)>; rel="next"/.exec(link)![1]! : null;
    }
    expect(seen).toEqual(['Amara Okafor', 'Ben Carter', 'Wei Chen']);
    const full = await get(`${url}?role=${encodeURIComponent('http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor')}`);
    expect(((await full.json()) as Container).members.map((m) => m.name)).toEqual(['Elena Park', 'Sam Okoye']);
  });

  it('checks scope, course, resource link and query', async () => {
    const ags = await accessToken(h, [TOKEN_SCOPES.lineItem]);
    expect((await get(url, ags)).status).toBe(403);
    expect((await fetch(url)).status).toBe(401);
    expect((await get(`${h.url}/api/lti/courses/nope/memberships`)).status).toBe(404);
    expect((await get(`${url}?rlid=${SEED.links[0].id}`)).status).toBe(200);
    const badLink = await get(`${url}?rlid=unknown`);
    expect(badLink.status).toBe(400);
    expect(await badLink.json()).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/rlid "unknown"/) });
    expect((await get(`${url}?limit=0`)).status).toBe(400);
  });

  it('fails while NRPS faults are pending', async () => {
    h.lms.devlms.setFaults({ nrps: { failNext: 1, status: 502 } });
    expect((await get(url)).status).toBe(502);
    expect((await get(url)).status).toBe(200);
  });
});
