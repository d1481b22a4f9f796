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
export const REQUIRED_VARIABLES: TemplateVariable[] = ['student_submission'];
export const MAX_TEMPLATE_CHARS = 20_000;

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'var'; name: TemplateVariable };

export class TemplateError extends Error {
  constructor(message: string, readonly position?: number) {
    super(message);
    this.name = 'TemplateError';
  }
}

function isVariable(name: string): name is TemplateVariable {
  return Object.prototype.hasOwnProperty.call(TEMPLATE_VARIABLES, name);
}

/** Parses a template, or throws a TemplateError saying what is wrong and where. */
export function parseTemplate(template: string): TemplatePart[] {
  if (template.trim() === '') throw new TemplateError('The template is empty.');
  if (template.length > MAX_TEMPLATE_CHARS) {
    throw new TemplateError(`The template has ${template.length.toLocaleString('en')} characters; the limit is ${MAX_TEMPLATE_CHARS.toLocaleString('en')}.`);
  }
  const parts: TemplatePart[] = [];
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
      if (!isVariable(name)) {
        throw new TemplateError(
          `Unknown variable {${name}} at character ${i + 1}. Known variables: ${Object.keys(TEMPLATE_VARIABLES).map((v) => `{${v}}`).join(', ')}.`,
          i,
        );
      }
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
  for (const required of REQUIRED_VARIABLES) {
    if (!parts.some((p) => p.kind === 'var' && p.name === required)) {
      throw new TemplateError(`The template must contain {${required}}: without it the model never sees the work it grades.`);
    }
  }
  return parts;
}

export function renderTemplate(parts: TemplatePart[], values: Record<TemplateVariable, string>): string {
  return parts.map((p) => (p.kind === 'text' ? p.text : values[p.name])).join('');
}
