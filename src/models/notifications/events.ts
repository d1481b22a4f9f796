import { parseTemplateOf, renderTemplate, TemplateError, type PartOf, type TemplateLanguage } from '../../grading/template.js';

/**
 * What the tool tells people, and in which words. Each event names who gets it, the variables its wording may use
 * and its default wording; an administrator may reword any of them for their platform (notification_templates),
 * in the grading prompts' template language (`{variable}`, `{{` for a brace), checked the same way.
 */

const VARIABLES = {
  course_title: 'The course title',
  task_title: 'The task title',
  attempt: 'The attempt number',
  eta: 'When feedback is expected ("in about 3 hours")',
  typical_time: 'How long a batch usually takes here',
  priority_note: 'What the student can do about a delay (empty when nothing)',
  score: 'The score the student may see',
  max_score: 'The task\'s maximum score',
  results: 'How many results wait ("3 results")',
  error: 'Why the work could not be graded',
  scope: 'The budget\'s scope (the platform, or a course)',
  threshold: 'The share of the budget used, in percent',
  month: 'The budget\'s month',
  spent: 'Spent and committed, in dollars',
  limit: 'The budget\'s limit, in dollars',
  consequence: 'What happens now (empty below the limit)',
  actor: 'Who did it',
  batch_id: 'The batch number',
  batch_status: 'How the batch ended (failed, expired…)',
  reason: 'The provider\'s reason',
  requests: 'How many requests the batch held',
} as const;
type Variable = keyof typeof VARIABLES;

export type Audience = 'student' | 'instructor' | 'administrator';

interface EventSpec<V extends Variable> {
  label: string;
  audience: Audience[];
  variables: readonly V[];
  subject: string;
  body: string;
}

const event = <V extends Variable>(spec: EventSpec<V>) => spec;

export const EVENTS = {
  queued: event({
    label: 'Work received and queued',
    audience: ['student'],
    variables: ['course_title', 'task_title', 'attempt', 'eta'],
    subject: 'Your work on “{task_title}” is in the grading queue',
    body: 'Attempt {attempt} was received. Feedback is expected {eta}; you will be told when it is ready.',
  }),
  processing_started: event({
    label: 'Grading started',
    audience: ['student'],
    variables: ['course_title', 'task_title', 'attempt', 'typical_time'],
    subject: 'Your work on “{task_title}” is being graded',
    body: 'Attempt {attempt} was sent for grading. Results usually take {typical_time}.',
  }),
  feedback_ready: event({
    label: 'Feedback ready',
    audience: ['student'],
    variables: ['course_title', 'task_title', 'attempt', 'score', 'max_score'],
    subject: 'Your feedback on “{task_title}” is ready',
    body: 'Attempt {attempt}: {score} / {max_score}',
  }),
  delayed: event({
    label: 'Feedback delayed',
    audience: ['student'],
    variables: ['course_title', 'task_title', 'attempt', 'eta', 'priority_note'],
    subject: 'Feedback on “{task_title}” is taking longer than expected',
    body: 'Attempt {attempt} is still waiting to be graded. The new estimate: {eta}. {priority_note}',
  }),
  reviews_waiting: event({
    label: 'Results waiting for review (daily digest)',
    audience: ['instructor'],
    variables: ['course_title', 'results'],
    subject: '{results} waiting for your review in {course_title}',
    body: 'Open Review to approve, change or reject them; students see their feedback once you decide.',
  }),
  dead_letter: event({
    label: 'Work that could not be graded',
    audience: ['instructor', 'administrator'],
    variables: ['course_title', 'task_title', 'attempt', 'error'],
    subject: 'Work on “{task_title}” could not be graded',
    body: 'Attempt {attempt} failed for good: {error} Retry it or grade it by hand from the task page.',
  }),
  budget_alert: event({
    label: 'Budget thresholds',
    audience: ['administrator'],
    variables: ['scope', 'threshold', 'month', 'spent', 'limit', 'consequence'],
    subject: 'Budget of {scope}: {threshold}% of {month} used',
    body: '{spent} of {limit} is spent or committed to batches in flight. {consequence}',
  }),
  budget_frozen: event({
    label: 'Budget frozen',
    audience: ['administrator'],
    variables: ['scope', 'month', 'actor'],
    subject: 'Budget of {scope} frozen for {month}',
    body: '{actor} froze it: nothing more is sent for this scope until it is unfrozen.',
  }),
  batch_failed: event({
    label: 'Batch failed or expired',
    audience: ['administrator'],
    variables: ['batch_id', 'batch_status', 'requests', 'reason'],
    subject: 'Batch #{batch_id} {batch_status}',
    body: 'The batch of {requests} requests ended {batch_status}: {reason} Work it did not finish went back to the queue or failed, as the batch page shows.',
  }),
} as const;

export type EventKind = keyof typeof EVENTS;
export type VarsOf<K extends EventKind> = Record<(typeof EVENTS)[K]['variables'][number], string>;
export const EVENT_KINDS = Object.keys(EVENTS) as EventKind[];

export const isEventKind = (kind: string): kind is EventKind => Object.prototype.hasOwnProperty.call(EVENTS, kind);

export const SUBJECT_MAX_CHARS = 200;
export const BODY_MAX_CHARS = 2_000;

function languageOf(kind: EventKind, maxChars: number): TemplateLanguage<Variable> {
  const variables = Object.fromEntries(EVENTS[kind].variables.map((v) => [v, VARIABLES[v]])) as Record<Variable, string>;
  return { variables, required: [], maxChars };
}

export interface Wording {
  subject: string;
  body: string;
}

export interface ParsedWording {
  subject: PartOf<Variable>[];
  body: PartOf<Variable>[];
}

/**
 * Checks a wording of `kind`: unknown variables, unbalanced braces, length, a subject on one line. Throws a
 * TemplateError whose message says which field and where.
 */
export function parseWording(kind: EventKind, w: Wording): ParsedWording {
  const field = (name: 'subject' | 'body', text: string, max: number) => {
    try {
      if (name === 'subject' && /[\r\n]/.test(text)) throw new TemplateError('The subject must be one line.');
      return parseTemplateOf(languageOf(kind, max), text);
    } catch (err) {
      if (err instanceof TemplateError) throw new WordingError(name, err.message);
      throw err;
    }
  };
  return { subject: field('subject', w.subject, SUBJECT_MAX_CHARS), body: field('body', w.body, BODY_MAX_CHARS) };
}

export class WordingError extends TemplateError {
  constructor(readonly field: 'subject' | 'body', message: string) {
    super(message);
    this.name = 'WordingError';
  }
}

/** The variables an event's wording may use, with what each inserts (the template editor lists them). */
export function variablesOf(kind: EventKind): Array<{ name: string; description: string }> {
  return EVENTS[kind].variables.map((v) => ({ name: v, description: VARIABLES[v] }));
}

/** A notice's subject and body in a wording, spaces tidied where an empty variable left them. */
export function renderWording(parsed: ParsedWording, vars: Partial<Record<Variable, string>>): Wording {
  const values = new Proxy(vars, { get: (t, k: string) => t[k as Variable] ?? '' }) as Record<Variable, string>;
  const tidy = (s: string) => s.replace(/[ \t]+/g, ' ').replace(/ +([.,;:!?])/g, '$1').trim();
  return { subject: tidy(renderTemplate(parsed.subject, values)), body: tidy(renderTemplate(parsed.body, values)) };
}

export const DEFAULT_WORDINGS: Record<EventKind, ParsedWording> = Object.fromEntries(
  EVENT_KINDS.map((k) => [k, parseWording(k, EVENTS[k])]),
) as Record<EventKind, ParsedWording>;
