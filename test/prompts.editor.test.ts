import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eq, sql } from 'drizzle-orm';
import { queueItems } from '../src/models/queue/queue.table.js';
import { submissions } from '../src/models/submissions/submissions.table.js';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { launchWith, mintFor, OTHER_COURSE } from './helpers/launches.js';
import { decode, promptForm, seededTasks, VALID_PROMPT, versionRows } from './helpers/prompts.js';

/** The prompt editor: validation, versions, diff, rollback, copy, archive and the template library. */
describe('prompt editor', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let essay: { id: number; title: string; courseId: number };
  let shortAnswer: { id: number; title: string; courseId: number };
  let base: string;

  beforeAll(async () => {
    stack = await startStack();
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '2' });
    [essay, shortAnswer] = (await seededTasks(stack)) as [typeof essay, typeof shortAnswer];
    base = `/instructor/tasks/${essay.id}/prompt`;
  });
  afterAll(async () => {
    await stack?.close();
  });

  const versionCount = async () => (await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from prompt_versions`)).rows[0]!.n;

  it('opens on the built-in template for the task type, with the variable menu and a link from the task page', async () => {
    const task = await instructor.get(`/instructor/tasks/${essay.id}`);
    expect(task.html).toContain(`/instructor/tasks/${essay.id}/prompt?ltik=`);
    const page = await instructor.get(base);
    expect(page.status).toBe(200);
    expect(page.html).toContain('No prompt yet: the editor starts from the built-in');
    expect(page.html).toMatch(/data-insert="\{student_submission\}" data-insert-into="prompt-template"/);
    expect(page.html).toContain('data-insert="{task_criteria}"');
    expect(page.html).toContain('<script src="/public/js/prompts.js" defer></script>');
    expect(page.html).toContain('<option value="gpt-4o-mini" selected>');
    // Offered, saying they answer JSON by instruction (OpenAI has no Structured Outputs for them) and cost more.
    expect(page.html).toContain('<option value="gpt-4">gpt-4 — $30 in / $60 out per million tokens (batch $15 / $30) — answers JSON by instruction (no schema enforcement); 200× gpt-4o-mini&#39;s input price</option>');
    expect(page.html).toContain('<option value="gpt-3.5-turbo">gpt-3.5-turbo — $0.5 in / $1.5 out per million tokens (batch $0.25 / $0.75) — answers JSON by instruction (no schema enforcement); 3.3× gpt-4o-mini&#39;s input price</option>');
    expect(page.html).toMatch(/<option value="gpt-4o">gpt-4o — [^<—]*\)<\/option>/);
  });

  describe('refuses a bad prompt with a message beside the field, saving nothing', () => {
    const cases: Array<[string, Record<string, string>, string, RegExp]> = [
      ['an empty template', promptForm({ template: '   ' }), 'template', /The template is empty\./],
      ['a template without {student_submission}', promptForm({ template: 'Grade {task_title}.' }), 'template', /must contain \{student_submission\}/],
      ['an unknown variable', promptForm({ template: '{student_submission} {student_name}' }), 'template', /Unknown variable \{student_name\} at character 22/],
      ['an unclosed brace', promptForm({ template: '{student_submission} and {oops' }), 'template', /Unbalanced brace: &#34;\{&#34; at character 26 is never closed/],
      ['a stray closing brace', promptForm({ template: '{student_submission} }' }), 'template', /Unbalanced brace: &#34;\}&#34; at character 22 has no opening/],
      ['a template over 20,000 characters', promptForm({ template: `{student_submission}${'x'.repeat(20_000)}` }), 'template', /has 20,020 characters; the limit is 20,000/],
      ['a temperature above 2', promptForm({ temperature: '2.5' }), 'temperature', /Temperature must be a number from 0 to 2\./],
      ['a negative temperature', promptForm({ temperature: '-0.1' }), 'temperature', /Temperature must be a number from 0 to 2\./],
      ['zero max tokens', promptForm({ maxOutputTokens: '0' }), 'maxOutputTokens', /Max output tokens must be a whole number from 1 to 16,000\./],
      ['max tokens above 16,000', promptForm({ maxOutputTokens: '16001' }), 'maxOutputTokens', /Max output tokens must be a whole number from 1 to 16,000\./],
      ['a model not in the price list', promptForm({ model: 'gpt-99-ultra' }), 'model', /&#34;gpt-99-ultra&#34; is not in the price list, so its cost cannot be estimated\. Choose one of: gpt-4o-mini, gpt-4o, gpt-3\.5-turbo, gpt-4, /],
      ['a criterion without points', promptForm({ rubric: [{ name: 'Argument', description: '', maxPoints: '' }] }), 'rubric-0-maxPoints', /Enter the points criterion 1 is worth\./],
      ['no criteria', promptForm({ rubric: [] }), 'rubric', /Add at least one criterion/],
      ['a separate max score that is not a number', promptForm({ maxScoreMode: 'custom', maxScore: 'lots' }), 'maxScore', /The maximum score must be a number more than 0/],
    ];
    it.each(cases)('%s', async (_name, form, field, message) => {
      const res = await instructor.post(base, form, { htmx: true });
      expect(res.status).toBe(422);
      expect(res.html).toContain('Nothing was saved');
      // The message sits beside its field, which points at it; the typed values are kept.
      expect(res.html).toMatch(new RegExp(`${field === 'rubric' ? '' : 'aria-invalid="true" '}aria-describedby="${field}-error"`));
      const beside = res.html.match(new RegExp(`<p id="${field}-error" class="field-error">([^<]*)</p>`))?.[1] ?? '';
      expect(beside).toMatch(message);
      expect(res.html).not.toContain('<html'); // the page fragment only
      expect(await versionCount()).toBe(0);
    });
  });

  it('saves a version with author, time and note, and a save that changes nothing makes none', async () => {
    const res = await instructor.post(base, promptForm(), { htmx: true });
    expect(res.status).toBe(200);
    expect(res.html).toContain('Saved as version 1.');
    expect(res.html).toContain('<input type="hidden" name="baseVersion" value="1">');
    expect(res.html).toMatch(/<strong>Version 1<\/strong> <span class="badge badge-active">active<\/span>/);
    expect(res.html).toContain('Elena Park');
    expect(res.html).toContain('First version');
    const again = await instructor.post(base, promptForm({ baseVersion: '1', note: 'nothing new' }), { htmx: true });
    expect(again.html).toContain('No changes: version 1 is still the active version.');
    const rows = await versionRows(stack, essay.id);
    expect(rows.map((r) => [r.version, r.note, r.active])).toEqual([[1, 'First version', true]]);
    const audit = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from audit_log where action = 'prompt.saved'`);
    expect(audit.rows[0]!.n).toBe(1);
  });

  it('refuses a save on top of a version the author never saw (409), saving nothing', async () => {
    const stale = await instructor.post(base, promptForm({ baseVersion: '', note: 'from an old tab', temperature: '0.3' }), { htmx: true });
    expect(stale.status).toBe(409);
    expect(decode(stale.html)).toContain('Version 1 was saved while you were editing version (none)');
    expect(stale.html).toContain('from an old tab'); // the typed values are kept
    expect(await versionCount()).toBe(1);
  });

  it('adds and removes rubric rows without saving, keeping what was typed', async () => {
    const added = await instructor.post(`${base}/rubric`, promptForm({ baseVersion: '1', note: 'typed' }, { action: 'add-criterion' }), { htmx: true });
    expect(added.status).toBe(200);
    expect(added.html).toContain('id="criterion-2-name"');
    expect(added.html).toContain('value="typed"');
    const removed = await instructor.post(`${base}/rubric`, promptForm({ baseVersion: '1' }, { action: 'remove-criterion:0' }), { htmx: true });
    expect(removed.html).not.toContain('id="criterion-1-name"');
    expect(removed.html).toMatch(/id="criterion-0-name" name="rubric\[0\]\[name\]" value="Evidence"/);
    expect(await versionCount()).toBe(1);
  });

  it('keeps every version, shows the history and a diff between any two, and rolls back as a new version', async () => {
    const v2 = await instructor.post(
      base,
      promptForm({ baseVersion: '1', note: 'Stricter on evidence', template: `${VALID_PROMPT.template}\nCite the sources.`, rubric: [VALID_PROMPT.rubric[0]!, { ...VALID_PROMPT.rubric[1]!, maxPoints: '5' }] }),
      { htmx: true },
    );
    expect(v2.html).toContain('Saved as version 2.');
    const diff = await instructor.get(`${base}/diff?from=1&to=2`, { htmx: true });
    expect(diff.status).toBe(200);
    expect(diff.html).toContain('<span class="diff-added">+ Cite the sources.</span>');
    expect(diff.html).toContain('points 4 → 5');
    expect(diff.html).toMatch(/<th scope="row">Maximum score<\/th><td[^>]*>10<\/td><td[^>]*>11<\/td>/);
    const fullDiff = await instructor.get(`${base}/diff?from=2&to=1`);
    expect(fullDiff.html).toContain('<html');
    expect(fullDiff.html).toContain('<span class="diff-removed">- Cite the sources.</span>');

    // A version sends the schema frozen with it: a rollback sends exactly what version 1 sent, even if the schema
    // builder has changed since (simulated by marking version 1's frozen schema).
    await stack.db.db.execute(sql`update prompt_versions v set output_schema = output_schema || '{"description": "frozen with v1"}'::jsonb
      from prompts p where p.id = v.prompt_id and p.task_id = ${essay.id} and v.version = 1`);
    const rolled = await instructor.post(`${base}/rollback`, { version: '1' }, { htmx: true });
    expect(rolled.status).toBe(200);
    expect(rolled.html).toContain('Rolled back: version 3 is a copy of version 1 and is now active.');
    const rows = await versionRows(stack, essay.id);
    expect(rows.map((r) => [r.version, r.active, r.restored_from_version])).toEqual([[1, false, null], [2, false, null], [3, true, 1]]);
    expect(rows[2]!.template).toBe(rows[0]!.template);
    expect(rows[2]!.note).toBe('Rolled back to version 1');
    const schemas = await stack.db.db.execute<{ version: number; description: string | null }>(sql`
      select v.version, v.output_schema->>'description' as description from prompt_versions v join prompts p on p.id = v.prompt_id where p.task_id = ${essay.id} order by v.version`);
    expect(schemas.rows.map((r) => r.description)).toEqual(['frozen with v1', null, 'frozen with v1']);
    const same = await instructor.get(`${base}/diff?from=1&to=3`, { htmx: true });
    expect(same.html).toContain('The two versions send the same request.');
    const again = await instructor.post(`${base}/rollback`, { version: '3' }, { htmx: true });
    expect(again.html).toContain('nothing changed');

    const view = await instructor.get(`${base}/versions/2`);
    expect(view.status).toBe(200);
    expect(view.html).toContain('Stricter on evidence');
    const editFrom = await instructor.get(`${base}?from=2`, { htmx: true });
    expect(editFrom.html).toContain('Version 2 is in the editor.');
    expect(editFrom.html).toContain('Cite the sources.');
  });

  it('answers 404 for versions that do not exist', async () => {
    expect((await instructor.get(`${base}/versions/99`)).status).toBe(404);
    expect((await instructor.get(`${base}/diff?from=1&to=99`)).status).toBe(404);
    expect((await instructor.get(`${base}/diff?from=x&to=1`)).status).toBe(404);
    expect((await instructor.post(`${base}/rollback`, { version: '42' }, { htmx: true })).status).toBe(404);
    expect((await instructor.get(`${base}?from=42`)).status).toBe(404);
    expect((await instructor.get(`${base}?template=builtin:nope`)).status).toBe(404);
  });

  it('copies the active version to another task of a course the instructor teaches', async () => {
    const page = await instructor.get(base);
    expect(page.html).toContain(`<option value="${shortAnswer.id}">History 101: Revolutions — Short answer: The Boston Tea Party</option>`);
    const copied = await instructor.post(`${base}/copy`, { targetTaskId: String(shortAnswer.id) }, { htmx: true });
    expect(copied.status).toBe(200);
    expect(copied.html).toContain('Copied to &#34;History 101: Revolutions — Short answer: The Boston Tea Party&#34; as its version 1.');
    const rows = await versionRows(stack, shortAnswer.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.note).toBe(`Copied from ${essay.title} v3`);
    expect(rows[0]!.template).toBe((await versionRows(stack, essay.id))[0]!.template);

    // The same instructor teaching another course of the same LMS may copy there too.
    const other = await launchWith(stack, stack.browser(), 'instructor', { task: '1' }, OTHER_COURSE);
    const otherTask = (await stack.db.db.execute<{ id: number }>(sql`select t.id from tasks t join courses c on c.id = t.course_id where c.context_id = 'course-202'`)).rows[0]!.id;
    // That task is out of 7: the copied rubric's total is not, and the instructor is told (issue 18, item 2).
    await stack.db.db.execute(sql`update tasks set max_score = 7 where id = ${otherTask}`);
    const cross = await instructor.post(`${base}/copy`, { targetTaskId: String(otherTask) }, { htmx: true });
    expect(cross.html).toContain('Copied to &#34;Philosophy 202 — Philosophy essay&#34;');
    expect(cross.html).toMatch(/Its rubric totals [\d.]+ points, but that task is out of 7: scores would be scaled in its gradebook/);
    expect(other.ltik).toBeTruthy();
  });

  it('refuses to copy to a task of a course the instructor does not teach, or to the same task', async () => {
    // A course where the instructor is not enrolled: its task exists (a student launched it) but is not theirs.
    // Only the launch matters here (it records the course and task), not the student's page it leads to.
    const browser = stack.browser();
    const { authUrl } = await browser.startLogin(stack.devlmsUrl, 'student1', { task: '1' });
    const token = await mintFor(stack, authUrl, {
      set: {
        'https://purl.imsglobal.org/spec/lti/claim/context': { id: 'course-303', label: 'ECON 303', title: 'Economics 303', type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'] },
        'https://purl.imsglobal.org/spec/lti/claim/resource_link': { id: 'econ-303-essay', title: 'Economics essay' },
      },
    });
    await browser.request(token.redirect_uri, { form: { id_token: token.id_token, state: token.state } });
    const foreign = (await stack.db.db.execute<{ id: number }>(sql`select t.id from tasks t join courses c on c.id = t.course_id where c.context_id = 'course-303'`)).rows[0]!.id;
    const before = await versionCount();
    const refused = await instructor.post(`${base}/copy`, { targetTaskId: String(foreign) }, { htmx: true });
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('You can copy a prompt only to a task of a course you teach');
    const missing = await instructor.post(`${base}/copy`, { targetTaskId: '999999' }, { htmx: true });
    expect(missing.status).toBe(403);
    const self = await instructor.post(`${base}/copy`, { targetTaskId: String(essay.id) }, { htmx: true });
    expect(self.status).toBe(422);
    expect(self.html).toMatch(/<p id="targetTaskId-error" class="field-error">Choose another task/);
    const empty = await instructor.post(`${base}/copy`, { targetTaskId: '' }, { htmx: true });
    expect(empty.status).toBe(422);
    expect(empty.html).toContain('Choose the task to copy the prompt to.');
    expect(await versionCount()).toBe(before);
  });

  it('keeps a template library: built-in templates, and templates saved for the course', async () => {
    const page = await instructor.get(base);
    for (const name of ['Essay', 'Short answer', 'Code review', 'Reflection']) expect(page.html).toMatch(new RegExp(`<strong>${name}[^<]*</strong>`));
    const use = await instructor.get(`${base}?template=builtin:reflection`, { htmx: true });
    expect(use.html).toContain('is in the editor. Nothing is saved until you save.');

    const noName = await instructor.post(`${base}/templates`, promptForm({}, { templateName: ' ' }), { htmx: true });
    expect(noName.status).toBe(422);
    expect(noName.html).toMatch(/<p id="templateName-error" class="field-error">Give the template a name\.<\/p>/);
    const saved = await instructor.post(`${base}/templates`, promptForm({}, { templateName: 'HIST essays', templateDescription: 'Our essay rubric' }), { htmx: true });
    expect(saved.status).toBe(200);
    expect(saved.html).toContain('Saved the course template &#34;HIST essays&#34;.');
    const id = (await stack.db.db.execute<{ id: number }>(sql`select id from prompt_templates where name = 'HIST essays'`)).rows[0]!.id;
    expect(saved.html).toContain(`data-template="db:${id}"`);
    const twice = await instructor.post(`${base}/templates`, promptForm({}, { templateName: 'HIST essays' }), { htmx: true });
    expect(twice.status).toBe(422);
    expect(twice.html).toContain('already has a template named');
    const replaced = await instructor.post(`${base}/templates`, promptForm({}, { templateName: 'HIST essays', templateReplace: 'on' }), { htmx: true });
    expect(replaced.html).toContain('Replaced the course template');
    const badPrompt = await instructor.post(`${base}/templates`, promptForm({ template: 'no submission' }, { templateName: 'Broken' }), { htmx: true });
    expect(badPrompt.status).toBe(422);

    // Another course's instructor sees built-ins only, and cannot delete this course's template.
    const other = await launchWith(stack, stack.browser(), 'instructor', { task: '1' }, OTHER_COURSE);
    const otherTask = (await stack.db.db.execute<{ id: number }>(sql`select t.id from tasks t join courses c on c.id = t.course_id where c.context_id = 'course-202'`)).rows[0]!.id;
    const otherPage = await other.get(`/instructor/tasks/${otherTask}/prompt`);
    expect(otherPage.html).not.toContain('HIST essays');
    const steal = await other.post(`/instructor/tasks/${otherTask}/prompt/templates/${id}/delete`, {}, { htmx: true });
    expect(steal.status).toBe(404);

    const deleted = await instructor.post(`${base}/templates/${id}/delete`, promptForm(), { htmx: true });
    expect(deleted.html).toContain('Deleted the course template &#34;HIST essays&#34;.');
    expect(deleted.html).not.toContain(`data-template="db:${id}"`);
  });

  it('saves a version on gpt-4, and previews its request: no response format, the schema in the system message', async () => {
    const page = `/instructor/tasks/${shortAnswer.id}/prompt`;
    const before = await versionRows(stack, shortAnswer.id);
    const last = before.at(-1)?.version ?? 0;
    const form = promptForm({ model: 'gpt-4', baseVersion: last ? String(last) : '', note: 'Try gpt-4' });
    const saved = await instructor.post(page, form, { htmx: true });
    expect(saved.status).toBe(200);
    expect(saved.html).toContain(`Saved as version ${last + 1}.`);
    const rows = await versionRows(stack, shortAnswer.id);
    expect(rows.at(-1)).toMatchObject({ version: last + 1, model: 'gpt-4', active: true });

    const preview = await instructor.post(`${page}/preview`, form, { htmx: true });
    expect(preview.status).toBe(200);
    const body = JSON.parse(decode(preview.html.match(/<pre id="prompts-request-body">([\s\S]*?)<\/pre>/)![1]!)) as { model: string; messages: Array<{ role: string; content: string }> } & Record<string, unknown>;
    expect(body.model).toBe('gpt-4');
    expect(body).not.toHaveProperty('response_format');
    expect(body.messages[0]!.content).toMatch(/<response_json_schema>\n\{"type":"object".*\n<\/response_json_schema>$/s);

    // The JSON API says the same: no response format, the schema an answer must match.
    const api = (await instructor.get(`/api/tasks/${shortAnswer.id}/llm-prompt/`)).json<{ activeVersion: { model: string; responseFormat: unknown; outputSchema: { type: string } } }>();
    expect(api.activeVersion).toMatchObject({ model: 'gpt-4', responseFormat: null, outputSchema: { type: 'object' } });
  });

  it('offers Claude models only when the course approves Anthropic, holds them to a temperature of 1, and previews the Anthropic request', async () => {
    const page = `/instructor/tasks/${shortAnswer.id}/prompt`;
    const approve = (providers: string) =>
      stack.db.db.execute(sql`insert into course_privacy (course_id, approved_providers) values (${shortAnswer.courseId}, ${providers}::text[])
        on conflict (course_id) do update set approved_providers = excluded.approved_providers`);
    await approve('{openai}');
    const openaiOnly = await instructor.get(page);
    expect(openaiOnly.html).toContain('<optgroup label="OpenAI">');
    expect(openaiOnly.html).not.toContain('claude-haiku-4-5');
    const last = () => versionRows(stack, shortAnswer.id).then((rows) => String(rows.at(-1)?.version ?? ''));
    const refused = await instructor.post(page, promptForm({ model: 'claude-haiku-4-5', baseVersion: await last(), note: 'Claude' }), { htmx: true });
    expect(refused.status).toBe(422);
    expect(decode(refused.html)).toContain('claude-haiku-4-5 is a model of Anthropic, which this course may not use (its privacy settings approve OpenAI). Choose one of: gpt-4o-mini');

    await approve('{openai,anthropic}');
    const both = await instructor.get(page);
    expect(both.html).toMatch(/<optgroup label="Anthropic">\s*<option value="claude-haiku-4-5">claude-haiku-4-5 — \$1 in \/ \$5 out per million tokens \(batch \$0.5 \/ \$2.5\)<\/option>/);
    const hot = await instructor.post(page, promptForm({ model: 'claude-haiku-4-5', temperature: '1.5', baseVersion: await last(), note: 'Claude' }), { htmx: true });
    expect(hot.status).toBe(422);
    expect(hot.html).toContain('Temperature must be a number from 0 to 1 for Anthropic models.');
    const form = promptForm({ model: 'claude-haiku-4-5', temperature: '0.3', baseVersion: await last(), note: 'Claude' });
    const saved = await instructor.post(page, form, { htmx: true });
    expect(saved.status).toBe(200);
    const version = (await stack.db.db.execute<{ provider: string; model: string }>(sql`select v.provider, v.model from prompt_versions v join prompts p on p.active_version_id = v.id where p.task_id = ${shortAnswer.id}`)).rows[0];
    expect(version).toEqual({ provider: 'anthropic', model: 'claude-haiku-4-5' });

    const preview = await instructor.post(`${page}/preview`, form, { htmx: true });
    expect(preview.status).toBe(200);
    const body = JSON.parse(decode(preview.html.match(/<pre id="prompts-request-body">([\s\S]*?)<\/pre>/)![1]!)) as Record<string, unknown> & { system: Array<{ cache_control?: unknown }>; tools: Array<{ strict: boolean }> };
    expect(body).toMatchObject({ model: 'claude-haiku-4-5', temperature: 0.3, tool_choice: { type: 'tool', name: 'grading_result' } });
    expect(body.tools[0]!.strict).toBe(true);
    expect(body.system.at(-1)!.cache_control).toEqual({ type: 'ephemeral', ttl: '1h' });
    await approve('{openai}');
  });

  it('refuses to archive a prompt queue items still use, and archives it once they are done', async () => {
    const versionId = (await stack.db.db.execute<{ id: number }>(sql`select v.id from prompt_versions v join prompts p on p.id = v.prompt_id where p.task_id = ${essay.id} order by v.version desc limit 1`)).rows[0]!.id;
    // A submission waiting in the queue with the active version, as the submission flow leaves one.
    const student = (await stack.db.db.execute<{ id: number; platform_id: number }>(sql`select id, platform_id from users where sub like '%5e01'`)).rows[0]!;
    const [sub] = await stack.db.db.insert(submissions).values({ taskId: essay.id, courseId: essay.courseId, studentId: student.id, attempt: 1, charCount: 4, contentHmac: 'test' }).returning();
    await stack.db.db.insert(queueItems).values({
      platformId: student.platform_id, courseId: essay.courseId, taskId: essay.id, submissionId: sub!.id, promptVersionId: versionId,
      model: 'gpt-4o-mini', estInputTokens: 100, estOutputTokens: 100, estCostMicros: 100,
    });
    const refused = await instructor.post(`${base}/archive`, {}, { htmx: true });
    expect(refused.status).toBe(409);
    expect(refused.html).toContain('1 submission is still waiting to be graded with this prompt (version 3)');
    expect((await versionRows(stack, essay.id)).some((r) => r.active)).toBe(true);

    await stack.db.db.update(queueItems).set({ status: 'completed' }).where(eq(queueItems.promptVersionId, versionId));
    const archived = await instructor.post(`${base}/archive`, {}, { htmx: true });
    expect(archived.status).toBe(200);
    expect(archived.html).toContain('The prompt is archived');
    const rows = await versionRows(stack, essay.id);
    expect(rows).toHaveLength(3); // every version is kept
    expect(rows.some((r) => r.active)).toBe(false);
    const page = await instructor.get(base);
    expect(page.html).toContain('This prompt is archived. The editor shows version 3');
  });
});
