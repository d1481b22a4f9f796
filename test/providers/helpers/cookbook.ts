/**
 * Counts OpenAI published, for tests of both token counters (the tool's estimate and the emulator's usage): from
 * the OpenAI cookbook, "How to count tokens with tiktoken" (openai/openai-cookbook,
 * examples/How_to_count_tokens_with_tiktoken.ipynb, the version covering gpt-4o and gpt-4o-mini). Copied by hand
 * from the notebook's outputs; never computed with either counter.
 */

/** Sections 3 and 5: example strings and their token ids in each encoding. */
export const COOKBOOK_STRINGS: ReadonlyArray<{ text: string; o200k: number[]; cl100k: number[] }> = [
  { text: 'tiktoken is great!', o200k: [83, 8251, 2488, 382, 2212, 0], cl100k: [83, 1609, 5963, 374, 2294, 0] },
  {
    text: 'antidisestablishmentarianism',
    o200k: [493, 129901, 376, 160388, 21203, 2367],
    cl100k: [519, 85342, 34500, 479, 8997, 2191],
  },
  { text: '2 + 2 = 4', o200k: [17, 659, 220, 17, 314, 220, 19], cl100k: [17, 489, 220, 17, 284, 220, 19] },
  {
    text: 'お誕生日おめでとう',
    o200k: [8930, 9697, 243, 128225, 8930, 17693, 4344, 48669],
    cl100k: [33334, 45918, 243, 21990, 9080, 33334, 62004, 16556, 78699],
  },
];

/**
 * Section 6: the example conversation. The notebook's output shows the API's `usage.prompt_tokens` for it:
 * 124 on gpt-4o and gpt-4o-mini (o200k_base), 129 on gpt-4, gpt-4-0613 and gpt-3.5-turbo (cl100k_base).
 */
export const COOKBOOK_CONVERSATION: ReadonlyArray<{ role: 'system' | 'user'; name?: string; content: string }> = [
  { role: 'system', content: 'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.' },
  { role: 'system', name: 'example_user', content: 'New synergies will help drive top-line growth.' },
  { role: 'system', name: 'example_assistant', content: 'Things working well together will increase revenue.' },
  { role: 'system', name: 'example_user', content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." },
  { role: 'system', name: 'example_assistant', content: "Let's talk later when we're less busy about how to do better." },
  { role: 'user', content: "This late pivot means we don't have time to boil the ocean for the client deliverable." },
];

export const COOKBOOK_PROMPT_TOKENS = { o200k: 124, cl100k: 129 } as const;
