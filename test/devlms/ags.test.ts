import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SEED } from '../../src/devlms/index.js';
import { accessToken, startHarness, TOKEN_SCOPES, type Harness } from './helpers/harness.js';

const LINE_ITEM = 'application/vnd.ims.lis.v2.lineitem+json';
const CONTAINER = 'application/vnd.ims.lis.v2.lineitemcontainer+json';
const SCORE = 'application/vnd.ims.lis.v1.score+json';
const RESULTS = 'application/vnd.ims.lis.v2.resultcontainer+json';
const sub = (login: string) => SEED.people.find((p) => p.login === login)!.sub;

interface LineItemJson {
  id: string;
  label: string;
  scoreMaximum: number;
  resourceLinkId?: string;
  resourceId?: string;
  tag?: string;
}

describe('dev LMS: Assignment and Grade Services', () => {
  let h: Harness;
  let all: string;
  let readonly: string;
  let scoreOnly: string;
  let resultsOnly: string;
  let lineItems: string;

  beforeAll(async () => {
    h = await startHarness();
    all = await accessToken(h, [TOKEN_SCOPES.lineItem, TOKEN_SCOPES.score, TOKEN_SCOPES.resultReadonly]);
    readonly = await accessToken(h, [TOKEN_SCOPES.lineItemReadonly]);
    scoreOnly = await accessToken(h, [TOKEN_SCOPES.score]);
    resultsOnly = await accessToken(h, [TOKEN_SCOPES.resultReadonly]);
    lineItems = `${h.url}/api/lti/courses/course-101/line_items`;
  });
  afterAll(async () => {
    await h.close();
  });

  const get = (url: string, token: string) => fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const send = (method: string, url: string, token: string, type: string, body: unknown) =>
    fetch(url, { method, headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: JSON.stringify(body) });
  const postScore = (lineItemUrl: string, body: Record<string, unknown>, token = all) => send('POST', `${lineItemUrl}/scores`, token, SCORE, body);
  const score = (login: string, scoreGiven: number, timestamp: string, comment = 'Well argued.') => ({
    userId: sub(login), scoreGiven, scoreMaximum: 100, comment, activityProgress: 'Completed', gradingProgress: 'FullyGraded', timestamp,
  });
  async function errorOf(res: Response, status: number): Promise<string> {
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: string; error_description: string };
    return `${body.error}: ${body.error_description}`;
  }

  it('requires a Bearer token with the right scope', async () => {
    const none = await fetch(lineItems);
    expect(await errorOf(none, 401)).toMatch(/invalid_token: .*Authorization: Bearer/);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await errorOf(await get(lineItems, 'forged-token'), 401)).toMatch(/unknown or has expired/);
    const wrong = await get(lineItems, scoreOnly);
    expect(await errorOf(wrong, 403)).toMatch(/insufficient_scope: .*lineitem/);
    expect(wrong.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    expect(await errorOf(await send('POST', lineItems, readonly, LINE_ITEM, { label: 'x', scoreMaximum: 1 }), 403)).toMatch(/insufficient_scope/);
  });

  it('lists the seeded line items (read-only scope is enough) and filters them', async () => {
    const res = await get(lineItems, readonly);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain(CONTAINER);
    const items = (await res.json()) as LineItemJson[];
    expect(items).toEqual([
      { id: expect.stringMatching(new RegExp(`^${lineItems}/\\d+$`)), label: 'Essay: Causes of the French Revolution', scoreMaximum: 100, resourceLinkId: SEED.links[0].id, resourceId: 'hist101-essay-french-revolution', tag: 'essay' },
      { id: expect.any(String), label: 'Short answer: The Boston Tea Party', scoreMaximum: 10, resourceLinkId: SEED.links[1].id, resourceId: 'hist101-short-answer-boston-tea-party', tag: 'short-answer' },
    ]);
    const byLink = (await (await get(`${lineItems}?resource_link_id=${SEED.links[1].id}`, readonly)).json()) as LineItemJson[];
    expect(byLink.map((i) => i.tag)).toEqual(['short-answer']);
    const byTag = (await (await get(`${lineItems}?tag=essay`, readonly)).json()) as LineItemJson[];
    expect(byTag.map((i) => i.tag)).toEqual(['essay']);
    const byResource = (await (await get(`${lineItems}?resource_id=nope`, readonly)).json()) as LineItemJson[];
    expect(byResource).toEqual([]);
    expect(await errorOf(await get(`${lineItems}?resourceLinkId=x`, readonly), 400)).toMatch(/resourceLinkId/);
    expect(await errorOf(await get(`${h.url}/api/lti/courses/course-999/line_items`, readonly), 404)).toMatch(/no course "course-999"/);
  });

  it('creates line items, validating the body and its media type', async () => {
    const res = await send('POST', lineItems, all, LINE_ITEM, { label: 'Quiz 1', scoreMaximum: 5, resourceId: 'quiz-1', tag: 'quiz', resourceLinkId: SEED.links[0].id });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toContain(LINE_ITEM);
    const created = (await res.json()) as LineItemJson;
    expect(res.headers.get('location')).toBe(created.id);
    expect(created).toEqual({ id: expect.any(String), label: 'Quiz 1', scoreMaximum: 5, resourceId: 'quiz-1', tag: 'quiz', resourceLinkId: SEED.links[0].id });

    const bad: [unknown, RegExp][] = [
      [{ scoreMaximum: 5 }, /label/],
      [{ label: 'x', scoreMaximum: 0 }, /scoreMaximum: must be greater than 0/],
      [{ label: 'x', scoreMaximum: 5, scoreMax: 5 }, /scoreMax: is not a field/],
      [{ label: 'x', scoreMaximum: 5, resourceLinkId: 'no-such-link' }, /resourceLinkId "no-such-link" is not a link/],
      [{ label: 'x', scoreMaximum: 5, id: 'https://x' }, /assigned by the platform/],
      [{ label: 'x', scoreMaximum: 5, startDateTime: 'tomorrow' }, /startDateTime/],
    ];
    for (const [body, message] of bad) expect(await errorOf(await send('POST', lineItems, all, LINE_ITEM, body), 400)).toMatch(message);
    expect(await errorOf(await send('POST', lineItems, all, 'application/json', { label: 'x', scoreMaximum: 1 }), 415)).toMatch(/Content-Type: application\/vnd.ims.lis.v2.lineitem\+json/);
    const malformed = await fetch(lineItems, { method: 'POST', headers: { authorization: `Bearer ${all}`, 'content-type': LINE_ITEM }, body: '{"label":' });
    expect(await errorOf(malformed, 400)).toMatch(/not valid JSON/);
    // Extension fields (URL names) are accepted, as Canvas sends them.
    const ext = await send('POST', lineItems, all, LINE_ITEM, { label: 'Ext', scoreMaximum: 1, 'https://canvas.instructure.com/lti/submission_type': { type: 'none' } });
    expect(ext.status).toBe(201);
  });

  it('pages the container with Link rel="next", keeping the filters', async () => {
    for (const n of [1, 2, 3]) expect((await send('POST', lineItems, all, LINE_ITEM, { label: `Paged ${n}`, scoreMaximum: 1, tag: 'paged' })).status).toBe(201);
    const labels: string[] = [];
    let next: string | null = `${lineItems}?tag=paged&limit=2`;
    let pages = 0;
    while (next) {
      const res = await get(next, readonly);
      labels.push(...((await res.json()) as LineItemJson[]).map((i) => i.label));
      const link = res.headers.get('link');
      next = link ? /<([^>]+)>; rel="next"/.exec(link)![1]! : null;
      if (next) expect(next).toContain('tag=paged');
      pages += 1;
    }
    expect(pages).toBe(2);
    expect(labels).toEqual(['Paged 1', 'Paged 2', 'Paged 3']);
  });

  it('gets, updates and deletes one line item', async () => {
    const created = (await (await send('POST', lineItems, all, LINE_ITEM, { label: 'To edit', scoreMaximum: 20 })).json()) as LineItemJson;
    const got = await get(created.id, readonly);
    expect(got.headers.get('content-type')).toContain(LINE_ITEM);
    expect(await got.json()).toEqual(created);

    const put = await send('PUT', created.id, all, LINE_ITEM, { id: created.id, label: 'Edited', scoreMaximum: 25, tag: 'edited' });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ id: created.id, label: 'Edited', scoreMaximum: 25, tag: 'edited' });
    expect(await errorOf(await send('PUT', created.id, all, LINE_ITEM, { id: `${lineItems}/1`, label: 'x', scoreMaximum: 1 }), 400)).toMatch(/is not this line item/);
    expect(await errorOf(await send('PUT', created.id, readonly, LINE_ITEM, { label: 'x', scoreMaximum: 1 }), 403)).toMatch(/insufficient_scope/);

    const del = await fetch(created.id, { method: 'DELETE', headers: { authorization: `Bearer ${all}` } });
    expect(del.status).toBe(204);
    expect(await errorOf(await get(created.id, readonly), 404)).toMatch(/does not exist/);
    expect(await errorOf(await get(`${lineItems}/abc`, readonly), 404)).toMatch(/does not exist/);
  });

  describe('scores and results', () => {
    let essay: string;
    beforeAll(async () => {
      const items = (await (await get(`${lineItems}?tag=essay`, readonly)).json()) as LineItemJson[];
      essay = items[0]!.id;
    });

    it('stores a score, ignores an older one, and accepts a newer one', async () => {
      const first = await postScore(essay, score('student1', 80, '2030-01-01T10:00:00.000Z', 'First grading.'));
      expect(first.status).toBe(204);
      expect(first.headers.get('devlms-score')).toBe('accepted');
      const older = await postScore(essay, score('student1', 10, '2030-01-01T09:00:00Z', 'Stale.'));
      expect(older.status).toBe(204);
      expect(older.headers.get('devlms-score')).toBe('ignored-older-timestamp');
      const newer = await postScore(essay, score('student1', 90, '2030-01-01T11:30:00+01:00', 'Regraded after review.'));
      expect(newer.headers.get('devlms-score')).toBe('accepted');
      const progress = await postScore(essay, { userId: sub('student2'), activityProgress: 'Submitted', gradingProgress: 'Pending', timestamp: '2030-01-01T10:00:00Z' });
      expect(progress.status).toBe(204);
    });

    it('refuses non-members, bad values and the wrong scope', async () => {
      const ts = '2030-02-01T10:00:00Z';
      expect(await errorOf(await postScore(essay, score('admin', 5, ts)), 422)).toMatch(/unknown_user: .*not an active member/);
      expect(await errorOf(await postScore(essay, { ...score('student1', 5, ts), userId: 'stranger' }), 422)).toMatch(/not an active member/);
      const bad: [Record<string, unknown>, RegExp][] = [
        [{ ...score('student1', -1, ts) }, /scoreGiven: must be 0 or more/],
        [{ ...score('student1', 5, ts), scoreMaximum: 0 }, /scoreMaximum: must be greater than 0/],
        [{ ...score('student1', 5, ts), scoreMaximum: undefined }, /scoreMaximum: is required when scoreGiven/],
        [{ ...score('student1', 5, ts), activityProgress: 'Done' }, /activityProgress/],
        [{ ...score('student1', 5, ts), gradingProgress: 'Graded' }, /gradingProgress/],
        [{ ...score('student1', 5, ts), timestamp: '2030-02-01 10:00' }, /timestamp: must be an ISO 8601/],
        [{ ...score('student1', 5, ts), timestamp: '2030-02-01T10:00:00' }, /timestamp: must be an ISO 8601 date-time with a time zone/],
        [{ ...score('student1', 5, ts), userId: undefined }, /userId/],
        [{ ...score('student1', 5, ts), grade: 5 }, /grade: is not a field/],
      ];
      for (const [body, message] of bad) expect(await errorOf(await postScore(essay, body), 400)).toMatch(message);
      expect(await errorOf(await send('POST', `${essay}/scores`, all, 'application/json', score('student1', 5, ts)), 415)).toMatch(/score\+json/);
      expect(await errorOf(await postScore(essay, score('student1', 5, ts), readonly), 403)).toMatch(/scope\/score/);
    });

    it('reports results: the latest score per user, rescaled to the line item, paged and filterable', async () => {
      const res = await get(`${essay}/results`, resultsOnly);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(RESULTS);
      const results = (await res.json()) as Record<string, unknown>[];
      expect(results).toEqual(
        expect.arrayContaining([
          { id: `${essay}/results/${sub('student1')}`, scoreOf: essay, userId: sub('student1'), resultScore: 90, resultMaximum: 100, comment: 'Regraded after review.', timestamp: '2030-01-01T10:30:00.000Z' },
          { id: `${essay}/results/${sub('student2')}`, scoreOf: essay, userId: sub('student2'), resultMaximum: 100, timestamp: '2030-01-01T10:00:00.000Z' },
        ]),
      );
      expect(results).toHaveLength(2);
      const one = await get(`${essay}/results?user_id=${sub('student2')}`, resultsOnly);
      expect(((await one.json()) as unknown[]).length).toBe(1);
      const paged = await get(`${essay}/results?limit=1`, resultsOnly);
      expect(paged.headers.get('link')).toMatch(/results\?limit=1&page=2>; rel="next"/);
      expect(await errorOf(await get(`${essay}/results`, readonly), 403)).toMatch(/result\.readonly/);
    });

    it('lists every accepted score at /api/scores and shows the latest in the gradebook, escaped', async () => {
      const scores = (await (await fetch(`${h.url}/api/scores`)).json()) as Record<string, unknown>[];
      expect(scores.map((s) => [s.login, s.scoreGiven, s.comment])).toEqual([
        ['student1', 80, 'First grading.'],
        ['student1', 90, 'Regraded after review.'],
        ['student2', null, null],
      ]);
      expect(scores[0]).toEqual({
        id: expect.any(Number), lineItemId: essay, lineItemLabel: 'Essay: Causes of the French Revolution', contextId: 'course-101',
        clientId: 'llm-assess-dev', userId: sub('student1'), login: 'student1', scoreGiven: 80, scoreMaximum: 100, comment: 'First grading.',
        activityProgress: 'Completed', gradingProgress: 'FullyGraded', timestamp: '2030-01-01T10:00:00.000Z', receivedAt: expect.any(String),
      });
      await postScore(essay, score('student3', 70, '2030-01-01T10:00:00Z', '<script>alert(1)</script>'));
      const html = await (await fetch(`${h.url}/gradebook`)).text();
      expect(html).toContain('<h1>Gradebook: History 101: Revolutions</h1>');
      expect(html).toContain('<strong>90 / 100</strong>');
      expect(html).toContain('Regraded after review.');
      expect(html).not.toContain('Stale.');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).not.toContain('<script>alert(1)');
    });
  });

  it('answers 500 for the next N AGS calls when faults are injected, then recovers', async () => {
    const set = await fetch(`${h.url}/__faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ags: { failNext: 2 } }) });
    expect(await set.json()).toEqual({ ags: { failNext: 2, status: 500 } });
    expect(await errorOf(await get(lineItems, readonly), 500)).toMatch(/server_error: Injected fault on ags \(1 more/);
    expect((await get(lineItems, readonly)).status).toBe(500);
    expect((await get(lineItems, readonly)).status).toBe(200);
    const bad = await fetch(`${h.url}/__faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ags: { failNext: -1 } }) });
    expect(bad.status).toBe(400);
    h.lms.devlms.setFaults({ ags: { failNext: 1, status: 429 } });
    expect((await get(lineItems, readonly)).status).toBe(429);
    expect(h.lms.devlms.faults()).toEqual({ ags: { failNext: 0, status: 429 } });
  });
});
