import { promptTokens as emulatorPromptTokens } from '../src/emulator/chat/tokens.js';
import { gradingJsonSchema, responseFormatFor } from '../src/grading/result.schema.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { startStack, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { decode, promptForm, seededTasks, VALID_PROMPT } from './helpers/prompts.js';
import { buildMessages } from '../src/grading/messages.js';
import { gradingResultSchema } from '../src/grading/result.schema.js';
import { countChatTokens, countSchemaTokens, estimateCostMicros, estimateOutputTokens } from '../src/providers/index.js';
import { formatUsd } from '../src/routes/prompts.present.js';

/** Preview and sample tests in the editor (through the OpenAI emulator), and the JSON API. */
describe('prompt preview, tests and API', () => {
  let stack: Stack;
  let instructor: ToolSession;
  let task: { id: number; title: string; courseId: number };
  let base: string;
  let api: string;
  const rubric = [
    { id: 'argument', name: 'Argument', description: 'A clear thesis, defended throughout.', maxPoints: 6 },
    { id: 'evidence', name: 'Evidence', description: 'At least two primary sources, used well.', maxPoints: 4 },
  ];
  const SAMPLE = 'The Revolution began because the Estates-General deadlocked.\n\nBread prices doubled in 1789.';

  beforeAll(async () => {
    // This file runs a dozen sample tests within a minute as one instructor: above the default per-person limit.
    stack = await startStack({ emulator: true, env: { RATE_LIMIT_SAMPLE_TESTS_PER_MINUTE: '100' } });
    instructor = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
    [task] = (await seededTasks(stack)) as [typeof task];
    base = `/instructor/tasks/${task.id}/prompt`;
    api = `/api/tasks/${task.id}/llm-prompt/`;
  });
  afterAll(async () => {
    await stack?.close();
  });

  const pre = (html: string, selector: RegExp) => decode(html.match(selector)?.[1] ?? '');

  it('previews exactly what is sent: the messages with the submission delimited, their exact token count and the costs', async () => {
    const res = await instructor.post(`${base}/preview`, promptForm({}, { 'samples[0]': SAMPLE, students: '30' }), { htmx: true });
    expect(res.status).toBe(200);
    const shown = [...res.html.matchAll(/<pre class="message-text" data-role="(\w+)">([\s\S]*?)<\/pre>/g)].map((m) => ({ role: m[1]!, content: decode(m[2]!) }));
    const expected = buildMessages(
      { template: VALID_PROMPT.template, systemInstructions: VALID_PROMPT.systemInstructions, graderInstructions: VALID_PROMPT.graderInstructions, rubric, maxScore: 10 },
      { title: task.title, description: (await stack.db.db.$client.query<{ description: string }>('select description from tasks where id = $1', [task.id])).rows[0]!.description },
      SAMPLE,
    );
    expect(shown).toEqual(expected);
    expect(shown[1]!.content).toContain(`<student_submission>\n${SAMPLE}\n</student_submission>`);
    expect(shown[0]!.content).toContain('Grader-only guidance (never shown to the student):\nBe strict about citations.');

    const inputTokens = Number(res.html.match(/data-input-tokens="(\d+)"/)?.[1]);
    // The messages and the answer's schema, as the API bills them: the emulator's own count agrees.
    expect(inputTokens).toBe(emulatorPromptTokens('gpt-4o-mini', shown, responseFormatFor(rubric, 10)));
    expect(inputTokens).toBe(countChatTokens('gpt-4o-mini', shown) + countSchemaTokens('gpt-4o-mini', gradingJsonSchema(rubric, 10)));
    expect(inputTokens).toBeGreaterThan(100);
    // No results yet: the answer's shape for the form's two criteria (300 + 2 × 55 = 410 tokens), not 60 % of 1,500.
    const outputTokens = estimateOutputTokens(1500, null, 2);
    expect(outputTokens).toBe(410);
    expect(res.html).toContain(`<td id="prompts-cost-batch">${formatUsd(estimateCostMicros({ inputTokens, outputTokens }, 'gpt-4o-mini', 'batch'))}</td>`);
    expect(res.html).toContain(`<td id="prompts-cost-standard">${formatUsd(estimateCostMicros({ inputTokens, outputTokens }, 'gpt-4o-mini', 'standard'))}</td>`);
    expect(res.html).toContain('<th scope="row">30 students</th>');
    // What a test on the pasted sample may cost at most (max output tokens, real-time prices), beside the cap.
    const worst = estimateCostMicros({ inputTokens, outputTokens: 1500 }, 'gpt-4o-mini', 'standard');
    expect(res.html).toContain(`<div id="prompts-test-budget" data-worst-cost-micros="${worst}" data-max-cost-micros="${stack.config.sampleTests.maxCostMicros}">`);
    expect(res.html).toContain(`costs at most <strong id="prompts-test-worst-cost">${formatUsd(worst)}</strong> at real-time prices`);
    expect(res.html).toContain('one test may cost up to <strong id="prompts-test-max-cost">$0.50</strong>.');
  });

  it('sends a strict JSON schema that is the zod schema of the result', async () => {
    const res = await instructor.post(`${base}/preview`, promptForm(), { htmx: true });
    const body = JSON.parse(pre(res.html, /<pre id="prompts-request-body">([\s\S]*?)<\/pre>/)) as { model: string; response_format: { type: string; json_schema: { name: string; strict: boolean; schema: Record<string, unknown> } } };
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.response_format.type).toBe('json_schema');
    expect(body.response_format.json_schema.strict).toBe(true);
    const fromZod = z.toJSONSchema(gradingResultSchema(rubric, 10), { target: 'draft-7' }) as Record<string, unknown>;
    delete fromZod.$schema;
    expect(body.response_format.json_schema.schema).toEqual(fromZod);
    expect(JSON.parse(pre(res.html, /<pre id="prompts-schema">([\s\S]*?)<\/pre>/))).toEqual(fromZod);
    // Strict mode: every object lists all its properties as required and allows nothing else.
    const walk = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (o.type === 'object') {
        expect(o.additionalProperties).toBe(false);
        expect([...((o.required as string[]) ?? [])].sort()).toEqual(Object.keys(o.properties as object).sort());
      }
      Object.values(o).forEach(walk);
    };
    walk(body.response_format.json_schema.schema);
    expect(Object.keys((fromZod.properties as Record<string, { properties: object }>).criteria!.properties)).toEqual(['argument', 'evidence']);
  });

  it('does not preview or test an invalid prompt, and says why', async () => {
    const preview = await instructor.post(`${base}/preview`, promptForm({ template: 'no variable' }), { htmx: true });
    expect(preview.status).toBe(422);
    expect(preview.html).toContain('<li data-field="template">The template must contain {student_submission}');
    const longPreview = await instructor.post(`${base}/preview`, promptForm({}, { 'samples[0]': 'x'.repeat(stack.config.submissionMaxChars + 1) }), { htmx: true });
    expect(longPreview.status).toBe(422);
    expect(longPreview.html).toContain('<li data-field="samples.0">Sample 1 has 100,001 characters');
    const noSample = await instructor.post(`${base}/test`, promptForm(), { htmx: true });
    expect(noSample.status).toBe(422);
    expect(noSample.html).toContain('Paste at least one sample submission to test the prompt on.');
    const tooLong = await instructor.post(`${base}/test`, promptForm({}, { 'samples[1]': 'x'.repeat(stack.config.submissionMaxChars + 1) }), { htmx: true });
    expect(tooLong.status).toBe(422);
    expect(tooLong.html).toContain('Sample 2 has 100,001 characters');
    const full = await instructor.post(`${base}/test`, promptForm({ temperature: '9' }, { 'samples[0]': SAMPLE }));
    expect(full.status).toBe(422);
    expect(full.html).toContain('<html');
  });

  it('grades samples now through the provider (the emulator), as the student would see them, with tokens, cost and latency', async () => {
    const res = await instructor.post(`${base}/test`, promptForm({}, { 'samples[0]': SAMPLE, 'samples[2]': 'Too short.' }), { htmx: true });
    expect(res.status).toBe(200);
    const results = [...res.html.matchAll(/<article class="card test-result test-(\w+)" data-sample="(\d)"/g)].map((m) => [m[2], m[1]]);
    expect(results.map((r) => r[0])).toEqual(['1', '3']);
    for (const [, status] of results) expect(['graded', 'flagged']).toContain(status);
    expect(res.html).toMatch(/<p class="score">Score: <strong>[\d.]+<\/strong> \/ 10<\/p>/);
    expect(res.html).toContain('<th scope="row">Argument</th>');
    expect(res.html).toMatch(/<dd class="test-cost">\$0\.\d+ <span class="muted">\(\$0\.\d+ in a batch\)<\/span><\/dd>/);
    expect(res.html).toMatch(/<dd class="test-latency">\d+ ms<\/dd>/);
    // A test writes nothing: no submission, queue item or assessment.
    const rows = await stack.db.db.$client.query<{ n: number }>('select (select count(*) from submissions) + (select count(*) from queue_items) + (select count(*) from assessments) as n');
    expect(Number(rows.rows[0]!.n)).toBe(0);
  });

  it('shows a provider failure as a sample that was not graded', async () => {
    stack.emulator!.setFaults({ chatFailures: { count: 2, status: 500 } });
    const res = await instructor.post(`${base}/test`, promptForm({}, { 'samples[0]': SAMPLE }), { htmx: true });
    stack.emulator!.setFaults({});
    expect(res.status).toBe(200);
    expect(res.html).toContain('Sample 1: Not graded');
    expect(res.html).toMatch(/<div class="alert alert-error" role="alert">[^<]+Gave up after 2 attempts\.<\/div>/);
  });

  it('never lets a <script> in a template, a sample or a result run: markdown is sanitized, text escaped', async () => {
    const evil = '<script>alert("x")</script><img src=x onerror=alert(1)>';
    const sample = await instructor.post(`${base}/test`, promptForm({}, { 'samples[0]': `${SAMPLE}\n\n${evil}` }), { htmx: true });
    expect(sample.status).toBe(200);
    expect(sample.html).not.toMatch(/<script|<img|<[^>]*onerror=/i);
    expect(sample.html).toContain('&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;');
    const preview = await instructor.post(`${base}/preview`, promptForm({ template: `# Title\n${evil}\n{student_submission}` }, { 'samples[0]': evil }), { htmx: true });
    expect(preview.html).not.toMatch(/<script|<img/i);
    expect(preview.html).toContain('&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;');
    const saved = await instructor.post(base, promptForm({ template: `# Title\n${evil}\n\n{student_submission}`, note: evil }), { htmx: true });
    expect(saved.html).toContain('Saved as version 1.');
    expect(saved.html).not.toMatch(/<script|<img/i);
    const version = await instructor.get(`${base}/versions/1`);
    expect(version.html).toContain('<h1>Title</h1>');
    // The layout's own scripts are the only script tags; the template's arrives as inert text.
    const scripts = version.html.match(/<script[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toMatch(/^<script src="\/(vendor|public\/js)\/[\w.-]+\.js" defer>$/);
    expect(version.html).not.toMatch(/<img|<[^>]*onerror=/i);
    expect(version.html).toContain('&lt;script&gt;');
  });

  describe('JSON API', () => {
    const body = { template: 'Grade {task_title}.\n{student_submission}', model: 'gpt-4o-mini', temperature: 0.1, maxOutputTokens: 1200, rubric: [{ name: 'Content', description: 'Says what happened', maxPoints: 5 }, { name: 'Style', maxPoints: 5 }], note: 'from the API' };

    it('reads, saves and archives the prompt of a task', async () => {
      const before = (await instructor.get(api)).json<{ status: string; activeVersion: { version: number } }>();
      expect(before.status).toBe('active');
      expect(before.activeVersion.version).toBe(1);

      const created = await instructor.request(api, { method: 'POST', json: { ...body, baseVersion: 1 } });
      expect(created.status).toBe(201);
      expect(created.json()).toMatchObject({ created: true, version: 2, prompt: { status: 'active', activeVersion: { version: 2, note: 'from the API', maxScore: 10 } } });
      const unchanged = await instructor.request(api, { method: 'POST', json: body });
      expect(unchanged.status).toBe(200);
      expect(unchanged.json()).toMatchObject({ created: false, version: 2 });

      const read = (await instructor.get(api)).json<{ activeVersion: { rubric: Array<{ id: string }>; author: { name: string }; responseFormat: { json_schema: { strict: boolean; schema: unknown } } }; versions: unknown[] }>();
      expect(read.versions).toHaveLength(2);
      expect(read.activeVersion.author.name).toBe('Elena Park');
      expect(read.activeVersion.rubric.map((c) => c.id)).toEqual(['content', 'style']);
      const fromZod = z.toJSONSchema(gradingResultSchema(read.activeVersion.rubric as never, 10), { target: 'draft-7' }) as Record<string, unknown>;
      delete fromZod.$schema;
      expect(read.activeVersion.responseFormat.json_schema).toMatchObject({ strict: true, schema: fromZod });
    });

    it('refuses invalid bodies with field messages, and stale saves, saving nothing', async () => {
      const cases: Array<[unknown, string, RegExp]> = [
        [{ ...body, template: 'No variable' }, 'template', /must contain \{student_submission\}/],
        [{ ...body, template: '{student_submission} {nope}' }, 'template', /Unknown variable \{nope\}/],
        [{ ...body, temperature: 3 }, 'temperature', /from 0 to 2/],
        [{ ...body, temperature: 'hot' }, 'temperature', /Temperature must be a number/],
        [{ ...body, maxOutputTokens: 20_000 }, 'maxOutputTokens', /from 1 to 16,000/],
        [{ ...body, model: 'gpt-nope' }, 'model', /not in the price list/],
        [{ ...body, rubric: [] }, 'rubric', /Add at least one criterion/],
        [{ ...body, surprise: true }, 'body', /Unrecognized key/],
      ];
      for (const [json, field, message] of cases) {
        const res = await instructor.request(api, { method: 'POST', json });
        expect(res.status).toBe(422);
        const error = res.json<{ error: { code: string; fields: Record<string, string> } }>().error;
        expect(error.code).toBe('invalid');
        expect(error.fields[field]).toMatch(message);
      }
      const stale = await instructor.request(api, { method: 'POST', json: { ...body, note: 'x', temperature: 0.5, baseVersion: 1 } });
      expect(stale.status).toBe(409);
      expect(stale.json<{ error: { code: string } }>().error.code).toBe('stale_version');
      expect((await instructor.get(api)).json<{ versions: unknown[] }>().versions).toHaveLength(2);
    });

    it('tests the active prompt, or one sent with the samples, through the provider', async () => {
      const res = await instructor.request(`${api}test/`, { method: 'POST', json: { samples: [SAMPLE, 'A second answer.'] } });
      expect(res.status).toBe(200);
      const run = res.json<{ model: string; results: Array<{ sample: number; status: string; score: number; result: { criteria: Record<string, unknown> }; costMicros: number; latencyMs: number; usage: { inputTokens: number } }> }>();
      expect(run.results.map((r) => r.sample)).toEqual([1, 2]);
      for (const r of run.results) {
        expect(['graded', 'flagged']).toContain(r.status);
        expect(Object.keys(r.result.criteria)).toEqual(['content', 'style']);
        expect(r.score).toBeLessThanOrEqual(10);
        expect(r.costMicros).toBeGreaterThan(0);
        expect(r.usage.inputTokens).toBeGreaterThan(0);
        expect(Number.isInteger(r.latencyMs)).toBe(true);
      }
      const other = await instructor.request(`${api}test/`, { method: 'POST', json: { samples: [SAMPLE], prompt: { ...body, note: undefined, rubric: [{ name: 'Only', maxPoints: 3 }] } } });
      expect(other.status).toBe(200);
      expect(Object.keys(other.json<{ results: Array<{ result: { criteria: object } }> }>().results[0]!.result.criteria)).toEqual(['only']);

      const bad = await instructor.request(`${api}test/`, { method: 'POST', json: { samples: [] } });
      expect(bad.status).toBe(422);
      expect(bad.json<{ error: { fields: Record<string, string> } }>().error.fields.samples).toBe('Send at least one sample submission.');
      const blank = await instructor.request(`${api}test/`, { method: 'POST', json: { samples: ['  '] } });
      expect(blank.json<{ error: { fields: Record<string, string> } }>().error.fields['samples.0']).toBe('Sample 1 is empty.');
      const badPrompt = await instructor.request(`${api}test/`, { method: 'POST', json: { samples: ['x'], prompt: { ...body, note: undefined, template: 'none' } } });
      expect(badPrompt.status).toBe(422);
      expect(Object.keys(badPrompt.json<{ error: { fields: object } }>().error.fields)).toEqual(['prompt.template']);
    });

    it('archives with DELETE, keeps the versions, and then has nothing to test', async () => {
      const res = await instructor.request(api, { method: 'DELETE' });
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ status: 'archived', activeVersion: null });
      expect(res.json<{ versions: unknown[] }>().versions).toHaveLength(2);
      const test = await instructor.request(`${api}test/`, { method: 'POST', json: { samples: [SAMPLE] } });
      expect(test.status).toBe(409);
      expect(test.json<{ error: { message: string } }>().error.message).toContain('no active prompt');
      const missing = await instructor.get('/api/tasks/999999/llm-prompt/');
      expect(missing.status).toBe(404);
      expect(missing.json<{ error: { code: string } }>().error.code).toBe('not_found');
    });
  });
});
