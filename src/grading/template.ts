/**
 * The grading prompt template language: `{variable}` inserts a value, `{{` and `}}` write literal braces.
 * Small on purpose: instructors write it, so every mistake must get a message that points at the spot.
 */

export const TEMPLATE_VARIABLES = {
  student_submission: 'The student\'s submission, delimited as data',
  task_title: 'The task title',
  task_description: 'The task description',
  task_criteria: 'The rubric, rendered as text',
  max_score: 'The maximum score of the task',
} as const;

export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;
export const MAX_TEMPLATE_CHARS = 20_000;

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'var'; name: TemplateVariable };

export class TemplateError extends Error {
  constructor(message: string, readonly position?: number) {
    super(message);
    this.name = 'TemplateError';
  }
}

/**
 * A template language: its variables (name → what it inserts), those a template must use (with why), its length
 * limit. Grading prompts are one; notification wordings (src/models/notifications/events.ts) are another.
 */
export interface TemplateLanguage<V extends string> {
  variables: Readonly<Record<V, string>>;
  required: ReadonlyArray<{ name: V; why: string }>;
  maxChars: number;
}

export type PartOf<V extends string> = { kind: 'text'; text: string } | { kind: 'var'; name: V };

const GRADING: TemplateLanguage<TemplateVariable> = {
  variables: TEMPLATE_VARIABLES,
  required: [{ name: 'student_submission', why: 'without it the model never sees the work it grades' }],
  maxChars: MAX_TEMPLATE_CHARS,
};

/** Parses a grading prompt template, or throws a TemplateError saying what is wrong and where. */
export function parseTemplate(template: string): TemplatePart[] {
  return parseTemplateOf(GRADING, template);
}

/** Parses a template of `language`, or throws a TemplateError saying what is wrong and where. */
export function parseTemplateOf<V extends string>(language: TemplateLanguage<V>, template: string): PartOf<V>[] {
  const isVariable = (name: string): name is V => Object.prototype.hasOwnProperty.call(language.variables, name);
  const known = () => Object.keys(language.variables).map((v) => `{${v}}`).join(', ');
  if (template.trim() === '') throw new TemplateError('The template is empty.');
  if (template.length > language.maxChars) {
    throw new TemplateError(`The template has ${template.length.toLocaleString('en')} characters; the limit is ${language.maxChars.toLocaleString('en')}.`);
  }
  const parts: PartOf<V>[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const ch = template[i];
    if (ch === '{' && template[i + 1] === '{') {
      text += '{';
      i += 2;
    } else if (ch === '}' && template[i + 1] === '}') {
      text += '}';
      i += 2;
    } else if (ch === '{') {
      const end = template.indexOf('}', i + 1);
      const nextOpen = template.indexOf('{', i + 1);
      if (end === -1 || (nextOpen !== -1 && nextOpen < end)) {
        throw new TemplateError(`Unbalanced brace: "{" at character ${i + 1} is never closed (write "{{" for a literal brace).`, i);
      }
      const name = template.slice(i + 1, end).trim();
      if (!isVariable(name)) throw new TemplateError(`Unknown variable {${name}} at character ${i + 1}. Known variables: ${known()}.`, i);
      if (text) parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'var', name });
      i = end + 1;
    } else if (ch === '}') {
      throw new TemplateError(`Unbalanced brace: "}" at character ${i + 1} has no opening "{" (write "}}" for a literal brace).`, i);
    } else {
      text += ch;
      i += 1;
    }
  }
  if (text) parts.push({ kind: 'text', text });
  for (const { name, why } of language.required) {
    if (!parts.some((p) => p.kind === 'var' && p.name === name)) throw new TemplateError(`The template must contain {${name}}: ${why}.`);
  }
  return parts;
}

export function renderTemplate<V extends string>(parts: PartOf<V>[], values: Readonly<Record<V, string>>): string {
  return parts.map((p) => (p.kind === 'text' ? p.text : values[p.name])).join('');
}
