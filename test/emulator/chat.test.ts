import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { gradingResultSchema } from '../../src/grading/result.schema.js';
import { responseFormatTokens, textTokens } from '../../src/emulator/chat/tokens.js';
import { countChatTokens, countTextTokens } from '../../src/providers/tokens.js';
import { COOKBOOK_CONVERSATION, COOKBOOK_PROMPT_TOKENS } from '../providers/helpers/cookbook.js';
import { call, gradingBody, instructedGradingBody, RUBRIC, submissionFor } from './helpers/emulator-client.js';

/** POST /v1/chat/completions: the API's request rules, and the simulated grader's answers. */

let emu: RunningEmulator;
let v1: string;

beforeAll(async () => {
  emu = await startEmulator({ timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
  v1 = emu.apiBaseUrl;
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => emu.reset());

type Completion = {
  model: string;
  choices: Array<{ message: { content: string | null; refusal: string | null }; finish_reason: string }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details: { cached_tokens: number }; completion_tokens_details: { reasoning_tokens: number } };
};

async function chat(body: unknown): Promise<{ status: number; body: Completion & { error?: Record<string, unknown> } }> {
  const res = await call(v1, 'POST', '/chat/completions', body);
  return { status: res.status, body: res.body as Completion & { error?: Record<string, unknown> } };
}

const STRONG = [
  '# The alliance system as the cause of the war',
  'My thesis is that the alliance system turned a regional crisis into a world war; the causes were structural.',
  'The historical evidence supports each claim: the July Crisis, the mobilisation timetables, and the sources cited by Clark and MacMillan.',
  '- Alliances bound the great powers together.\n- Militarism made mobilisation automatic.\n- Imperial rivalry raised tensions.',
  'In conclusion, the evidence from cited sources shows an arguable thesis holds: alliances, not accident, caused the war.',
].join('\n\n');

describe('request rules, as the API applies them', () => {
  const refused: Array<[string, Record<string, unknown>, number, Record<string, unknown>]> = [
    ['max_tokens on a reasoning model', gradingBody('x', 'gpt-5-mini', { max_tokens: 100, max_completion_tokens: undefined }), 400, { code: 'unsupported_parameter', param: 'max_tokens' }],
    ['a temperature on a reasoning model', gradingBody('x', 'o4-mini', { temperature: 0.2 }), 400, { code: 'unsupported_value', param: 'temperature', message: expect.stringMatching(/does not support 0.2/) }],
    ['an unknown parameter', gradingBody('x', 'gpt-4o-mini', { temprature: 0.2 }), 400, { code: 'unknown_parameter', message: 'Unrecognized request argument supplied: temprature' }],
    ['an unknown model', gradingBody('x', 'gpt-9'), 404, { code: 'model_not_found' }],
    ['no model', { messages: [{ role: 'user', content: 'hi' }] }, 400, { param: 'model' }],
    ['no messages', { model: 'gpt-4o-mini', messages: [] }, 400, { param: 'messages' }],
    ['a bad role', { model: 'gpt-4o-mini', messages: [{ role: 'robot', content: 'hi' }] }, 400, { param: 'messages.0.role' }],
    ['streaming', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }, 400, { param: 'stream' }],
    ['n > 1', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], n: 2 }, 400, { param: 'n' }],
    ['json_object without the word json', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_object' } }, 400, { param: 'messages' }],
    [
      'a strict schema without additionalProperties: false',
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema', json_schema: { name: 'x', strict: true, schema: { type: 'object', properties: { a: { type: 'object', properties: {}, required: [] } }, required: ['a'], additionalProperties: false } } } },
      400,
      { code: 'invalid_json_schema', message: "Invalid schema for response_format 'x': In context=('properties', 'a'), 'additionalProperties' is required to be supplied and to be false." },
    ],
    [
      'a strict schema missing a required key',
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema', json_schema: { name: 'x', strict: true, schema: { type: 'object', properties: { a: { type: 'string' } }, required: [], additionalProperties: false } } } },
      400,
      { code: 'invalid_json_schema', message: expect.stringMatching(/Missing 'a'/) },
    ],
    [
      'a strict schema whose root is not an object',
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema', json_schema: { name: 'x', strict: true, schema: { type: 'array' } } } },
      400,
      { code: 'invalid_json_schema' },
    ],
  ];
  for (const [name, body, status, error] of refused) {
    it(`refuses ${name}`, async () => {
      const res = await chat(body);
      expect(res.status).toBe(status);
      expect(res.body.error).toMatchObject(error);
    });
  }

  it('refuses a prompt longer than the context window', async () => {
    const res = await chat({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'word '.repeat(130_000) }] });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'context_length_exceeded', message: expect.stringMatching(/maximum context length is 128000 tokens/) });
  });

  it('refuses a prompt plus output limit beyond gpt-4’s 8,192-token window, and takes one that just fits', async () => {
    // The cookbook conversation is 129 prompt tokens on gpt-4 (as the API counted it): 129 + 8,063 = 8,192 fits.
    const fits = await chat({ model: 'gpt-4', messages: COOKBOOK_CONVERSATION, max_tokens: 8063 });
    expect([fits.status, fits.body.usage.prompt_tokens]).toEqual([200, 129]);
    const over = await chat({ model: 'gpt-4', messages: COOKBOOK_CONVERSATION, max_completion_tokens: 8064 });
    expect(over.status).toBe(400);
    expect(over.body.error).toEqual({
      message: "This model's maximum context length is 8192 tokens. However, you requested 8193 tokens (129 in the messages, 8064 in the completion). Please reduce the length of the messages or completion.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    });
    const long = await chat({ model: 'gpt-4-0613', messages: [{ role: 'user', content: 'word '.repeat(9000) }] });
    expect(long.body.error).toMatchObject({ code: 'context_length_exceeded', message: expect.stringMatching(/^This model's maximum context length is 8192 tokens\. However, your messages resulted in \d+ tokens\./) });
  });

  it('holds a reasoning model to its window for the prompt only (what it answers to prompt + limit is not known)', async () => {
    expect((await chat(gradingBody('x', 'gpt-5-nano', { max_completion_tokens: 400_000 }))).status).toBe(200);
  });

  it('refuses a JSON-schema response format on gpt-4 and gpt-3.5-turbo, which predate Structured Outputs, as the API does', async () => {
    for (const model of ['gpt-4', 'gpt-3.5-turbo-0125']) {
      const res = await chat(gradingBody('x', model));
      expect([model, res.status]).toEqual([model, 400]);
      expect(res.body.error).toEqual({
        message:
          "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model. Learn more about supported models at the Structured Outputs guide: https://platform.openai.com/docs/guides/structured-outputs",
        type: 'invalid_request_error',
        param: 'response_format',
        code: null,
      });
    }
  });

  it('accepts our own grading request (strict schema) and temperature 1 on a reasoning model', async () => {
    expect((await chat(gradingBody('x', 'gpt-4o-mini', { temperature: 0.2 }))).status).toBe(200);
    expect((await chat(gradingBody('x', 'gpt-5', { temperature: 1 }))).status).toBe(200);
  });
});

describe('the simulated grader', () => {
  it('answers the requested schema: total = sum of criteria, each within its range', async () => {
    const res = await chat(gradingBody(STRONG));
    const answer = gradingResultSchema(RUBRIC, 10).parse(JSON.parse(res.body.choices[0]?.message.content ?? 'null'));
    const sum = Object.values(answer.criteria).reduce((acc, c) => acc + c.score, 0);
    expect(answer.total_score).toBe(sum);
    expect(answer.reasoning).toMatch(/Simulated grader/);
  });

  it('is deterministic, and scores a strong essay above a weak one', async () => {
    const strong1 = await chat(gradingBody(STRONG));
    const strong2 = await chat(gradingBody(STRONG));
    expect(strong1.body.choices[0]?.message.content).toBe(strong2.body.choices[0]?.message.content);
    expect(strong1.body.usage).toEqual(strong2.body.usage);
    const weak = await chat(gradingBody('war bad'));
    const total = (r: typeof weak) => (JSON.parse(r.body.choices[0]?.message.content ?? '{}') as { total_score: number }).total_score;
    expect(total(strong1)).toBeGreaterThan(total(weak));
  });

  it('bills the cookbook conversation as the API did (124 prompt tokens on gpt-4o and gpt-4o-mini)', async () => {
    for (const model of ['gpt-4o', 'gpt-4o-mini']) {
      const res = await chat({ model, messages: COOKBOOK_CONVERSATION, temperature: 0, max_tokens: 1 });
      expect(res.status).toBe(200);
      expect(res.body.usage.prompt_tokens).toBe(COOKBOOK_PROMPT_TOKENS.o200k);
    }
  });

  it('serves gpt-4 and gpt-3.5-turbo: answers with the dated snapshot and bills the cookbook conversation as the API did (129)', async () => {
    const served: Array<[string, string]> = [['gpt-4', 'gpt-4-0613'], ['gpt-4-0613', 'gpt-4-0613'], ['gpt-3.5-turbo', 'gpt-3.5-turbo-0125'], ['gpt-3.5-turbo-0125', 'gpt-3.5-turbo-0125']];
    for (const [model, snapshot] of served) {
      const res = await chat({ model, messages: COOKBOOK_CONVERSATION, temperature: 0, max_tokens: 1 });
      expect([model, res.status, res.body.model, res.body.usage.prompt_tokens]).toEqual([model, 200, snapshot, COOKBOOK_PROMPT_TOKENS.cl100k]);
    }
  });

  it('bills the messages as the tool estimates them when no response format is sent', async () => {
    const { response_format: _omitted, ...body } = gradingBody(STRONG);
    const res = await chat(body);
    expect(res.status).toBe(200);
    // Two implementations of the cookbook's rules: the tool's (src/providers/tokens.ts) and the emulator's.
    expect(res.body.usage.prompt_tokens).toBe(countChatTokens('gpt-4o-mini', body.messages));
  });

  it('reports realistic usage: the schema adds prompt tokens, completion tokens are the answer’s', async () => {
    const body = gradingBody(STRONG);
    const res = await chat(body);
    const content = res.body.choices[0]?.message.content ?? '';
    const messagesOnly = countChatTokens('gpt-4o-mini', body.messages);
    // OpenAI's "Counting tokens" guide: schemas add tokens that local counts miss. How many is not documented; the
    // emulator adds its assumed measure (src/emulator/chat/tokens.ts) on top of the messages, which the tool counts.
    expect(res.body.usage.prompt_tokens).toBeGreaterThan(messagesOnly);
    expect(res.body.usage.prompt_tokens - messagesOnly).toBe(responseFormatTokens('gpt-4o-mini', body.response_format));
    expect(res.body.usage.completion_tokens).toBe(countTextTokens('gpt-4o-mini', content));
    expect(res.body.usage.completion_tokens).toBe(textTokens('gpt-4o-mini', content));
    expect(res.body.usage.total_tokens).toBe(res.body.usage.prompt_tokens + res.body.usage.completion_tokens);
  });

  it('cuts the answer at max_completion_tokens (finish_reason "length")', async () => {
    const res = await chat(gradingBody(STRONG, 'gpt-4o-mini', { max_completion_tokens: 20 }));
    expect(res.body.choices[0]?.finish_reason).toBe('length');
    expect(res.body.usage.completion_tokens).toBe(20);
    expect(() => JSON.parse(res.body.choices[0]?.message.content ?? '')).toThrow();
  });

  it('spends hidden reasoning tokens on reasoning models, inside completion_tokens', async () => {
    const res = await chat(gradingBody(STRONG, 'gpt-5-nano'));
    const { reasoning_tokens: reasoning } = res.body.usage.completion_tokens_details;
    expect(reasoning).toBeGreaterThanOrEqual(64);
    expect(res.body.usage.completion_tokens).toBe(reasoning + countTextTokens('gpt-5-nano', res.body.choices[0]?.message.content ?? ''));
    const starved = await chat(gradingBody(STRONG, 'gpt-5-nano', { max_completion_tokens: 40 }));
    expect(starved.body.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: '' } });
  });

  it('reports a long shared system prompt as cached, in steps of 128 tokens', async () => {
    const body = gradingBody(STRONG);
    body.messages[0] = { role: 'system', content: 'Grade fairly and explain each score. '.repeat(200) };
    const res = await chat(body);
    const cached = res.body.usage.prompt_tokens_details.cached_tokens;
    expect(cached).toBeGreaterThanOrEqual(1024);
    expect(cached % 128).toBe(0);
    expect((await chat(gradingBody(STRONG))).body.usage.prompt_tokens_details.cached_tokens).toBe(0);
  });

  describe('a model told the schema in its system message (gpt-4, gpt-3.5-turbo: no Structured Outputs)', () => {
    const contentOf = (r: Awaited<ReturnType<typeof chat>>) => r.body.choices[0]?.message.content ?? '';
    const FENCE = /^```json\n([\s\S]*)\n```$/;

    it('answers one JSON object filling the schema it was told, graded as the json_schema request is', async () => {
      const res = await chat(instructedGradingBody(STRONG));
      expect(res.status).toBe(200);
      expect(res.body.model).toBe('gpt-4-0613');
      const content = contentOf(res);
      const answer = gradingResultSchema(RUBRIC, 10).parse(JSON.parse(FENCE.exec(content)?.[1] ?? content));
      expect(answer.total_score).toBe(Object.values(answer.criteria).reduce((acc, c) => acc + c.score, 0));
      // The same grader as for a json_schema request: the same scores and feedback for the same essay.
      const strict = JSON.parse(contentOf(await chat(gradingBody(STRONG)))) as unknown;
      expect(answer).toEqual(strict);
      // No response format: billed the messages only, schema block included.
      expect(res.body.usage.prompt_tokens).toBe(countChatTokens('gpt-4', instructedGradingBody(STRONG).messages));
    });

    it('wraps about 1 answer in 10 in a ```json fence, the same answers every time, the JSON inside unchanged', async () => {
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => chat(instructedGradingBody(submissionFor(i), i % 2 ? 'gpt-4' : 'gpt-3.5-turbo'))));
      const fenced = answers.map(contentOf).filter((c) => FENCE.test(c));
      expect(fenced.length).toBeGreaterThan(0);
      expect(fenced.length).toBeLessThanOrEqual(10);
      for (const c of answers.map(contentOf)) {
        const json = FENCE.exec(c)?.[1] ?? c;
        expect(gradingResultSchema(RUBRIC, 10).safeParse(JSON.parse(json)).success).toBe(true);
        expect(json.startsWith('{')).toBe(true);
      }
      const again = await Promise.all(Array.from({ length: 40 }, (_, i) => chat(instructedGradingBody(submissionFor(i), i % 2 ? 'gpt-4' : 'gpt-3.5-turbo'))));
      expect(again.map(contentOf)).toEqual(answers.map(contentOf));
    });

    it('reads the schema from the text, under any tag that names a schema; without one it answers prose', async () => {
      const schema = { type: 'object', properties: { verdict: { type: 'string', enum: ['pass', 'fail'] } }, required: ['verdict'], additionalProperties: false };
      const told = await chat({ model: 'gpt-4', messages: [{ role: 'system', content: `Answer in JSON.\n<output_schema>${JSON.stringify(schema)}</output_schema>` }, { role: 'user', content: 'Is this fine?' }] });
      const content = contentOf(told);
      expect(JSON.parse(FENCE.exec(content)?.[1] ?? content)).toEqual({ verdict: 'pass' });
      const { messages } = instructedGradingBody(STRONG);
      const untold = await chat({ model: 'gpt-4', messages: [{ role: 'system', content: 'You are a fair, careful grader.' }, messages[1]] });
      expect(contentOf(untold)).toMatch(/^This is a simulated answer/);
      // Told in a user message rather than a system one: not an instruction the emulator follows.
      const inUser = await chat({ model: 'gpt-4', messages: [{ role: 'user', content: messages[0]!.content }] });
      expect(contentOf(inUser)).toMatch(/^This is a simulated answer/);
    });

    it('never fences an answer in JSON mode (json_object): the schema it was told, bare', async () => {
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => chat(instructedGradingBody(submissionFor(i), 'gpt-3.5-turbo', { response_format: { type: 'json_object' } }))));
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(gradingResultSchema(RUBRIC, 10).safeParse(JSON.parse(contentOf(a))).success).toBe(true);
      }
    });
  });

  it('answers other JSON schemas with a value that fits them', async () => {
    const schema = {
      type: 'object',
      properties: { label: { type: 'string', enum: ['pass', 'fail'] }, score: { type: 'integer', minimum: 1, maximum: 5 }, tags: { type: 'array', items: { type: 'string' } }, ok: { type: 'boolean' } },
      required: ['label', 'score', 'tags', 'ok'],
      additionalProperties: false,
    };
    const res = await chat({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'Classify this.' }], response_format: { type: 'json_schema', json_schema: { name: 'c', strict: true, schema } } });
    const value = JSON.parse(res.body.choices[0]?.message.content ?? '{}') as { label: string; score: number; tags: string[]; ok: boolean };
    expect(value.label).toBe('pass');
    expect(Number.isInteger(value.score) && value.score >= 1 && value.score <= 5).toBe(true);
    expect(value.tags.length).toBeGreaterThan(0);
    expect(typeof value.ok).toBe('boolean');
  });

  it('answers json_object and plain text requests too', async () => {
    const json = await chat({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Reply in JSON.' }], response_format: { type: 'json_object' } });
    expect(() => JSON.parse(json.body.choices[0]?.message.content ?? '')).not.toThrow();
    const text = await chat({ model: 'gpt-4o', messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello' }] }] });
    expect(text.body.choices[0]?.message.content).toMatch(/simulated answer/);
  });

  it('injects refusals, cut-off JSON and out-of-range scores when asked', async () => {
    emu.setFaults({ refusalRate: 1 });
    expect((await chat(gradingBody(STRONG))).body.choices[0]?.message).toMatchObject({ content: null, refusal: expect.any(String) });
    emu.setFaults({ malformedOutputRate: 1 });
    const cut = (await chat(gradingBody(STRONG))).body.choices[0];
    expect(cut?.finish_reason).toBe('length');
    expect(() => JSON.parse(cut?.message.content ?? '')).toThrow();
    emu.setFaults({ outOfRangeOutputRate: 1 });
    const high = JSON.parse((await chat(gradingBody(STRONG))).body.choices[0]?.message.content ?? '{}') as { criteria: Record<string, { score: number }>; total_score: number };
    expect(high.criteria.thesis?.score).toBe(5);
    expect(gradingResultSchema(RUBRIC, 10).safeParse(high).success).toBe(false);
  });

  it('injects real-time failures (429, 500, 503), counted down', async () => {
    for (const status of [429, 500, 503] as const) {
      emu.setFaults({ chatFailures: { count: 1, status } });
      expect((await chat(gradingBody('x'))).status).toBe(status);
      expect((await chat(gradingBody('x'))).status).toBe(200);
    }
  });
});
