import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cutToTokens,
  encodeText,
  encodingOf,
  messageListTokens,
  promptTokens,
  responseFormatTokens,
  SCHEMA_FRAMING_TOKENS,
  textTokens,
} from '../../src/emulator/chat/tokens.js';
import { buildMessages } from '../../src/grading/messages.js';
import { responseFormatFor } from '../../src/grading/result.schema.js';
import { listModels } from '../../src/providers/pricing.js';
import { countChatTokens, countTextTokens } from '../../src/providers/tokens.js';
import { COOKBOOK_CONVERSATION, COOKBOOK_PROMPT_TOKENS, COOKBOOK_STRINGS } from '../providers/helpers/cookbook.js';
import { RUBRIC, TEMPLATE } from './helpers/emulator-client.js';

/**
 * The emulator's token accounting (src/emulator/chat/tokens.ts): against counts OpenAI published, and against the
 * tool's estimator (src/providers/tokens.ts) as a second, separate implementation of the same documented rules.
 */

describe('documented counts (OpenAI cookbook, "How to count tokens with tiktoken")', () => {
  for (const { text, o200k, cl100k } of COOKBOOK_STRINGS) {
    it(`encodes ${JSON.stringify(text)} to the token ids the cookbook lists`, () => {
      expect(encodeText('gpt-4o-mini', text)).toEqual(o200k);
      expect(encodeText('gpt-4', text)).toEqual(cl100k);
    });
  }

  it('counts the cookbook conversation as the API did: 124 prompt tokens on gpt-4o(-mini), 129 on gpt-4 and gpt-3.5-turbo', () => {
    expect(COOKBOOK_PROMPT_TOKENS).toEqual({ o200k: 124, cl100k: 129 });
    expect(messageListTokens('gpt-4o', COOKBOOK_CONVERSATION)).toBe(124);
    expect(messageListTokens('gpt-4o-mini', COOKBOOK_CONVERSATION)).toBe(124);
    expect(messageListTokens('gpt-4', COOKBOOK_CONVERSATION)).toBe(129);
    expect(messageListTokens('gpt-3.5-turbo', COOKBOOK_CONVERSATION)).toBe(129);
  });

  it('is the cookbook arithmetic: 3 per message + role + content, +1 and its tokens for a name, +3 reply priming', () => {
    // "tiktoken is great!" is 6 tokens (cookbook); "user" and "system" are one token each.
    expect(textTokens('gpt-4o', 'user')).toBe(1);
    expect(textTokens('gpt-4o', 'system')).toBe(1);
    expect(messageListTokens('gpt-4o', [{ role: 'user', content: 'tiktoken is great!' }])).toBe(3 + 1 + 6 + 3);
    const named = messageListTokens('gpt-4o', [{ role: 'user', name: 'example_user', content: 'tiktoken is great!' }]);
    expect(named).toBe(3 + 1 + 6 + 3 + textTokens('gpt-4o', 'example_user') + 1);
    expect(messageListTokens('gpt-4o', [])).toBe(3);
  });
});

describe('encodings', () => {
  it('reads gpt-4 and gpt-3.5-turbo with cl100k_base and every other model the emulator serves with o200k_base', () => {
    const cl100k = ['gpt-4', 'gpt-4-0613', 'gpt-3.5-turbo', 'gpt-3.5-turbo-0125'];
    const served = listModels(undefined, 'openai').flatMap(({ model, aliases }) => [model, ...aliases]);
    expect(served).toEqual(expect.arrayContaining(cl100k));
    for (const id of served) expect([id, encodingOf(id)]).toEqual([id, cl100k.includes(id) ? 'cl100k_base' : 'o200k_base']);
  });

  it('reads gpt-4 and gpt-3.5-turbo with cl100k_base, a fine-tuned model like its base, and refuses an unknown family', () => {
    expect(encodingOf('gpt-4-turbo')).toBe('cl100k_base');
    expect(encodingOf('gpt-4-0613')).toBe('cl100k_base');
    expect(encodingOf('gpt-3.5-turbo-0125')).toBe('cl100k_base');
    expect(encodingOf('gpt-4.1-nano-2025-04-14')).toBe('o200k_base');
    expect(encodingOf('chatgpt-4o-latest')).toBe('o200k_base');
    expect(encodingOf('ft:gpt-4o-mini-2024-07-18:acme::abc123')).toBe('o200k_base');
    expect(() => encodingOf('claude-haiku-4-5')).toThrow(/no tokenizer for model "claude-haiku-4-5"/);
  });

  it('counts text that looks like a special token as plain text, and cuts a text at a token limit', () => {
    expect(textTokens('gpt-4o', 'a <|endoftext|> b')).toBeGreaterThan(3);
    const text = 'one two three four five six';
    expect(textTokens('gpt-4o', cutToTokens('gpt-4o', text, 3))).toBe(3);
    expect(cutToTokens('gpt-4o', text, 100)).toBe(text);
  });
});

describe('response format tokens (assumed measure: compact schema without required/additionalProperties/$schema, + 9)', () => {
  const small = {
    type: 'json_schema' as const,
    json_schema: {
      name: 'answer',
      strict: true,
      schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false },
    },
  };

  it('adds the schema’s tokens plus the framing', () => {
    // {"type":"object","properties":{"answer":{"type":"string"}}} is 14 o200k tokens.
    expect(textTokens('gpt-4o', '{"type":"object","properties":{"answer":{"type":"string"}}}')).toBe(14);
    expect(responseFormatTokens('gpt-4o', small)).toBe(14 + SCHEMA_FRAMING_TOKENS);
    expect(promptTokens('gpt-4o', [{ role: 'user', content: 'tiktoken is great!' }], small)).toBe(13 + 23);
  });

  it('keeps property names and literal values that happen to be keywords', () => {
    const schema = {
      type: 'object',
      properties: { required: { type: 'boolean' }, mode: { type: 'string', enum: ['additionalProperties'] } },
      required: ['required', 'mode'],
      additionalProperties: false,
    };
    const counted = '{"type":"object","properties":{"required":{"type":"boolean"},"mode":{"type":"string","enum":["additionalProperties"]}}}';
    expect(responseFormatTokens('gpt-4o', { type: 'json_schema', json_schema: { name: 'x', strict: true, schema } })).toBe(textTokens('gpt-4o', counted) + SCHEMA_FRAMING_TOKENS);
  });

  it('adds nothing for text, json_object or no response format', () => {
    expect(responseFormatTokens('gpt-4o', { type: 'text' })).toBe(0);
    expect(responseFormatTokens('gpt-4o', { type: 'json_object' })).toBe(0);
    expect(responseFormatTokens('gpt-4o', null)).toBe(0);
  });
});

describe('the tool’s estimate (src/providers/tokens.ts) and the emulator’s count agree on messages', () => {
  const grading = buildMessages(
    {
      template: TEMPLATE,
      systemInstructions: 'You are a careful, fair grader. Réponds en français si le devoir est en français.',
      graderInstructions: 'Be strict on evidence.',
      rubric: RUBRIC,
      maxScore: 10,
    },
    { title: 'Causes of the First World War', description: 'Explain the main causes in 500 words.' },
    'The war began in 1914.\n\n- Alliances 🤝\n- Militarism\n\nEmpires (帝国) competed; 1,234 soldiers… "quoted" text <|endoftext|>.',
  );
  const lists = [
    { name: 'a grading request', messages: grading },
    { name: 'the cookbook conversation (names)', messages: COOKBOOK_CONVERSATION },
    { name: 'text parts and a developer message', messages: [{ role: 'developer', content: 'Answer in JSON.' }, { role: 'user', content: [{ type: 'text', text: 'Hello ' }, { type: 'text', text: 'world' }] }] },
  ];
  for (const model of ['gpt-4o-mini', 'gpt-4.1-nano', 'gpt-5-mini', 'o4-mini', 'gpt-4', 'gpt-3.5-turbo']) {
    for (const { name, messages } of lists) {
      it(`${model}: ${name}`, () => {
        expect(messageListTokens(model, messages)).toBe(countChatTokens(model, messages));
      });
    }
  }

  it('and on plain text (completion tokens)', () => {
    for (const { text } of COOKBOOK_STRINGS) {
      expect(textTokens('gpt-4o-mini', text)).toBe(countTextTokens('gpt-4o-mini', text));
      expect(textTokens('gpt-4', text)).toBe(countTextTokens('gpt-4', text));
    }
  });

  it('differ by exactly the schema tokens when a response format is sent, which the tool does not estimate', () => {
    const format = responseFormatFor(RUBRIC, 10);
    const billed = promptTokens('gpt-4o-mini', grading, format);
    expect(billed).toBeGreaterThan(countChatTokens('gpt-4o-mini', grading));
    expect(billed - countChatTokens('gpt-4o-mini', grading)).toBe(responseFormatTokens('gpt-4o-mini', format));
  });
});

describe('independence', () => {
  it('no emulator module imports the tool’s token counting', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/emulator');
    const sources = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    expect(sources.length).toBeGreaterThan(10);
    const offenders = sources.filter((f) => /(from|import|require)\s*\(?\s*['"][^'"]*providers\/(tokens|estimate|index)(\.js)?['"]/.test(readFileSync(path.join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
