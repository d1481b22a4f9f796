import { z } from 'zod';
import type { TaskInput } from '../../grading/messages.js';
import { Invalid } from '../../errors.js';
import { promptBodySchema, validateDraft, type PromptContent } from './prompt-draft.js';

/**
 * A prompt for `npm run eval -- --prompt <file>`: the JSON API's prompt body (template, instructions, model,
 * temperature, max output tokens, rubric with ids, max score) plus the task it grades (`task: {title, description}`),
 * checked by the same rules as the editor. The rubric's ids are what the labelled set's `criteria` name.
 */
const evalPromptSchema = promptBodySchema.omit({ note: true, baseVersion: true }).extend({
  task: z.strictObject({ title: z.string().trim().min(1, 'task.title is required.').max(300), description: z.string().max(20_000).default('') }, { error: 'task: {"title", "description"} is required.' }),
});

export function parseEvalPrompt(text: string): { content: PromptContent; task: TaskInput } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw Invalid({ prompt: 'not JSON' }, `The prompt file is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = evalPromptSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw Invalid({ prompt: problems[0]! }, `The prompt file cannot be used:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const p = parsed.data;
  const draft = validateDraft({
    template: p.template,
    systemInstructions: p.systemInstructions,
    graderInstructions: p.graderInstructions,
    model: p.model,
    temperature: p.temperature,
    maxOutputTokens: p.maxOutputTokens,
    rubric: p.rubric.map((c) => ({ id: c.id ?? null, name: c.name, description: c.description, maxPoints: c.maxPoints })),
    maxScoreMode: p.maxScore == null ? 'sum' : 'custom',
    maxScore: p.maxScore ?? null,
  });
  if (!draft.ok) {
    throw Invalid(draft.fields, `The prompt file cannot be used:\n${Object.entries(draft.fields).map(([k, m]) => `  - ${k}: ${m}`).join('\n')}`);
  }
  const d = draft.draft;
  return {
    content: { template: d.template, systemInstructions: d.systemInstructions, graderInstructions: d.graderInstructions, model: d.model, temperature: d.temperature, maxOutputTokens: d.maxOutputTokens, rubric: d.rubric, maxScore: d.maxScore },
    task: { title: p.task.title, description: p.task.description },
  };
}
