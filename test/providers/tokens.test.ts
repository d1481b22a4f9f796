import { describe, expect, it } from '@jest/globals';
import * as cl100k from 'gpt-tokenizer/encoding/cl100k_base';
import * as o200k from 'gpt-tokenizer/encoding/o200k_base';
import * as gpt4oModel from 'gpt-tokenizer/model/gpt-4o';
import { buildMessages } from '../../src/grading/messages.js';
import { isKnownModel, listModels } from '../../src/providers/pricing.js';
import {
  ANTHROPIC_FORCED_TOOL_TOKENS,
  countChatTokens,
  countRequestTokens,
  countTextTokens,
  DEFAULT_OUTPUT_FRACTION, ANSWER_BASE_TOKENS, ANSWER_TOKENS_PER_CRITERION,
  encodingForModel,
  estimateOutputTokens,
  truncateToTokens,
} from '../../src/providers/tokens.js';
import { COOKBOOK_CONVERSATION, COOKBOOK_PROMPT_TOKENS, COOKBOOK_STRINGS } from './helpers/cookbook.js';

const rubric = [
  { id: 'thesis', name: 'Thesis', description: 'States a clear, arguable thesis.', maxPoints: 4 },
  { id: 'evidence', name: 'Evidence', description: 'Uses sources — quotations, data — to support claims.', maxPoints: 6 },
];

const graded = buildMessages(
  {
    template: 'Task: {task_title}\n{task_description}\n\nRubric:\n{task_criteria}\nMaximum: {max_score}\n\n{student_submission}',
    systemInstructions: 'You are a careful, fair grader. Réponds en français si le devoir est en français.',
    graderInstructions: 'Be strict on evidence.',
    rubric,
    maxScore: 10,
  },
  { title: 'Causes of the First World War', description: 'Explain the main causes in 500 words.' },
  'The war began in 1914.\n\n- Alliances 🤝\n- Militarism\n\nEmpires (帝国) competed; 1,234 soldiers… "quoted" text.',
);

const samples: Array<{ name: string; messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }> }> = [
  { name: 'a grading request built by buildMessages', messages: graded },
  { name: 'one short user message', messages: [{ role: 'user', content: 'Hello!' }] },
  {
    name: 'a conversation with code and whitespace',
    messages: [
      { role: 'system', content: 'Answer in JSON.' },
      { role: 'user', content: 'function f(x) {\n  return x ** 2;\n}\n\n\t// why?' },
      { role: 'assistant', content: '{"answer": "it squares x"}' },
    ],
  },
];

describe('countChatTokens and countTextTokens give the counts OpenAI published (cookbook, How to count tokens with tiktoken)', () => {
  it('counts the cookbook conversation as the API did: 124 on gpt-4o and gpt-4o-mini, 129 on gpt-4 and gpt-3.5-turbo', () => {
    expect(countChatTokens('gpt-4o', COOKBOOK_CONVERSATION)).toBe(COOKBOOK_PROMPT_TOKENS.o200k);
    expect(countChatTokens('gpt-4o-mini', COOKBOOK_CONVERSATION)).toBe(COOKBOOK_PROMPT_TOKENS.o200k);
    expect(countChatTokens('gpt-4', COOKBOOK_CONVERSATION)).toBe(COOKBOOK_PROMPT_TOKENS.cl100k);
    expect(countChatTokens('gpt-3.5-turbo', COOKBOOK_CONVERSATION)).toBe(COOKBOOK_PROMPT_TOKENS.cl100k);
  });

  it('counts the cookbook’s example strings as it lists them, in both encodings', () => {
    for (const { text, o200k, cl100k } of COOKBOOK_STRINGS) {
      expect([text, countTextTokens('gpt-4o-mini', text)]).toEqual([text, o200k.length]);
      expect([text, countTextTokens('gpt-4', text)]).toEqual([text, cl100k.length]);
    }
  });
});

describe('countChatTokens equals gpt-tokenizer’s own chat count', () => {
  for (const model of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1-nano', 'gpt-5', 'gpt-5.5', 'o4-mini']) {
    for (const sample of samples) {
      it(`${model}: ${sample.name}`, () => {
        expect(countChatTokens(model, sample.messages)).toBe(o200k.encodeChat(sample.messages, 'gpt-4o').length);
      });
    }
  }
  for (const model of ['gpt-4', 'gpt-3.5-turbo']) {
    for (const sample of samples) {
      it(`${model} (cl100k_base): ${sample.name}`, () => {
        expect(countChatTokens(model, sample.messages)).toBe(cl100k.encodeChat(sample.messages, 'gpt-4').length);
      });
    }
  }

  it('counts a name as its tokens plus one (cookbook rule), as gpt-tokenizer’s chat-completion counter does', () => {
    const messages = [
      { role: 'system', content: 'You grade essays.' },
      { role: 'user', name: 'example_user', content: 'Grade this: "Cats are mammals."' },
    ];
    const countChatCompletionTokens = gpt4oModel.countChatCompletionTokens;
    expect(countChatCompletionTokens).toBeDefined();
    expect(countChatTokens('gpt-4o', messages)).toBe(countChatCompletionTokens?.({ messages: messages as never }));
  });

  it('is the cookbook arithmetic: content and role tokens + 3 per message + 3 priming', () => {
    const messages = [{ role: 'user', content: 'Hello world' }];
    // "Hello world" = 2 tokens, "user" = 1 token: 2 + 1 + 3 + 3 = 9.
    expect(o200k.encode('Hello world')).toHaveLength(2);
    expect(countChatTokens('gpt-4o-mini', messages)).toBe(9);
  });

  it('counts text that looks like special tokens as plain text (as the API does) instead of throwing', () => {
    const text = 'ignore this <|endoftext|> and <|im_start|>';
    expect(countTextTokens('gpt-4o', text)).toBe(o200k.encode(text, { disallowedSpecial: new Set() }).length);
    expect(() => countChatTokens('gpt-4o', [{ role: 'user', content: text }])).not.toThrow();
  });

  it('reads content given as text parts', () => {
    const parts = [{ role: 'user', content: [{ type: 'text', text: 'Hello ' }, { type: 'text', text: 'world' }] }];
    expect(countChatTokens('gpt-4o', parts)).toBe(countChatTokens('gpt-4o', [{ role: 'user', content: 'Hello world' }]));
  });
});

describe('countTextTokens and truncateToTokens', () => {
  it('equal the encoding’s own token count', () => {
    const text = graded[1]?.content ?? '';
    expect(countTextTokens('gpt-4o-mini', text)).toBe(o200k.encode(text).length);
    expect(countTextTokens('gpt-4', text)).toBe(cl100k.encode(text).length);
    expect(countTextTokens('gpt-4o', '')).toBe(0);
  });

  it('cut a text to its first N tokens', () => {
    const text = 'one two three four five six';
    const cut = truncateToTokens('gpt-4o', text, 3);
    expect(countTextTokens('gpt-4o', cut)).toBe(3);
    expect(text.startsWith(cut)).toBe(true);
    expect(truncateToTokens('gpt-4o', text, 100)).toBe(text);
  });
});

describe('encodingForModel', () => {
  it('maps model families to their encoding', () => {
    expect(encodingForModel('gpt-4o-mini-2024-07-18')).toBe('o200k_base');
    expect(encodingForModel('gpt-4.1')).toBe('o200k_base');
    expect(encodingForModel('o4-mini')).toBe('o200k_base');
    expect(encodingForModel('gpt-5.4-mini')).toBe('o200k_base');
    expect(encodingForModel('ft:gpt-4o-mini-2024-07-18:acme::abc123')).toBe('o200k_base');
    expect(encodingForModel('gpt-4-turbo')).toBe('cl100k_base');
    expect(encodingForModel('gpt-3.5-turbo-0125')).toBe('cl100k_base');
  });

  it('refuses a model it cannot count', () => {
    expect(() => encodingForModel('llama-3')).toThrow(/No tokenizer is known for model "llama-3"/);
    expect(() => countChatTokens('llama-3', [{ role: 'user', content: 'x' }])).toThrow(/No tokenizer/);
  });

  it('approximates Claude models with o200k_base, and adds the forced tool\'s system prompt to a schema', () => {
    expect(encodingForModel('claude-haiku-4-5')).toBe('o200k_base');
    const messages = [{ role: 'user', content: 'Grade this.' }];
    const format = { type: 'json_schema', json_schema: { schema: { type: 'object', properties: { score: { type: 'number' } } } } };
    const claude = countRequestTokens('claude-haiku-4-5', messages, format);
    expect(claude).toBe(countRequestTokens('gpt-4o-mini', messages, format) + ANTHROPIC_FORCED_TOOL_TOKENS);
    expect(countRequestTokens('claude-haiku-4-5', messages)).toBe(countRequestTokens('gpt-4o-mini', messages));
  });
});

describe('the priced models count with their family’s encoding', () => {
  it('counts gpt-4 and gpt-3.5-turbo, and the snapshots the API reports, with cl100k_base, not gpt-4o’s o200k_base', () => {
    // The cookbook lists this text as 9 cl100k_base tokens and 8 o200k_base tokens.
    const text = 'お誕生日おめでとう';
    const published = COOKBOOK_STRINGS.find((s) => s.text === text);
    expect([published?.cl100k.length, published?.o200k.length]).toEqual([9, 8]);
    for (const id of ['gpt-4', 'gpt-4-0613', 'gpt-3.5-turbo', 'gpt-3.5-turbo-0125']) {
      expect([id, isKnownModel(id), encodingForModel(id), countTextTokens(id, text)]).toEqual([id, true, 'cl100k_base', 9]);
      expect([id, countChatTokens(id, COOKBOOK_CONVERSATION)]).toEqual([id, COOKBOOK_PROMPT_TOKENS.cl100k]);
    }
    expect(countTextTokens('gpt-4o', text)).toBe(8);
    expect(countChatTokens('gpt-4o', COOKBOOK_CONVERSATION)).toBe(COOKBOOK_PROMPT_TOKENS.o200k);
  });

  it('knows the encoding of every model and alias in the price list', () => {
    for (const m of listModels()) {
      for (const id of [m.model, ...m.aliases]) expect(() => encodingForModel(id)).not.toThrow();
    }
  });
});

describe('estimateOutputTokens', () => {
  it('uses the observed mean when there is history, capped at max tokens', () => {
    expect(estimateOutputTokens(1500, 412.3)).toBe(413);
    expect(estimateOutputTokens(500, 900)).toBe(500);
  });

  it('falls back to a fixed share of max tokens without history', () => {
    expect(DEFAULT_OUTPUT_FRACTION).toBe(0.6);
    expect(estimateOutputTokens(1500)).toBe(900);
    expect(estimateOutputTokens(1500, null)).toBe(900);
    expect(estimateOutputTokens(1500, 0)).toBe(900);
    expect(estimateOutputTokens(1500, Number.NaN)).toBe(900);
    expect(estimateOutputTokens(1)).toBe(1);
  });

  it("without history, expects the grading answer's shape for its rubric, capped at max tokens", () => {
    expect(ANSWER_BASE_TOKENS + 3 * ANSWER_TOKENS_PER_CRITERION).toBe(465);
    expect(estimateOutputTokens(4000, null, 3)).toBe(465);
    expect(estimateOutputTokens(4000, undefined, 0)).toBe(2400); // no rubric size known: the share of max tokens
    expect(estimateOutputTokens(400, null, 3)).toBe(400);
    // History wins over the shape.
    expect(estimateOutputTokens(4000, 212.2, 3)).toBe(213);
  });

  it('rejects a max below one token', () => {
    expect(() => estimateOutputTokens(0)).toThrow(/at least 1/);
  });
});
