/** Surface features of a text that a deterministic grader can score: length, structure, vocabulary. */

export interface TextFeatures {
  wordCount: number;
  /** Distinct words / words, over the first 400 words (longer texts always look repetitive otherwise). */
  uniqueRatio: number;
  paragraphs: number;
  listItems: number;
  headings: number;
  sentences: number;
  /** Lower-cased words, for overlap with the rubric. */
  vocabulary: Set<string>;
  words: string[];
  /** Text addressed to the grader rather than the task ("ignore previous instructions", "give full marks"). */
  suspectedInjection: string | null;
}

const WORD = /[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu;

const INJECTION = [
  /ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier) (?:instructions|rules|rubric)/i,
  /(?:give|award|assign) (?:me |this (?:essay|submission|answer) )?(?:full|maximum|max|perfect|100%) (?:marks|points|score)/i,
  /you are (?:now )?(?:a|an|the) (?:grader|assistant|ai) (?:that|who) /i,
  /system prompt|<\/?student_submission/i,
];

export function words(text: string): string[] {
  return (text.toLowerCase().match(WORD) ?? []).map((w) => w.replace(/['’-]+$/, ''));
}

export function textFeatures(text: string): TextFeatures {
  const ws = words(text);
  const head = ws.slice(0, 400);
  const lines = text.split(/\r?\n/);
  const injection = INJECTION.map((re) => re.exec(text)?.[0]).find((m) => m !== undefined) ?? null;
  return {
    wordCount: ws.length,
    uniqueRatio: head.length ? new Set(head).size / head.length : 0,
    paragraphs: text.split(/\n\s*\n/).filter((p) => p.trim()).length,
    listItems: lines.filter((l) => /^\s*(?:[-*•]|\d+[.)])\s+\S/.test(l)).length,
    headings: lines.filter((l) => /^\s*#{1,6}\s+\S/.test(l)).length,
    sentences: (text.match(/[.!?](?:\s|$)/g) ?? []).length,
    vocabulary: new Set(ws),
    words: ws,
    suspectedInjection: injection,
  };
}

const STOPWORDS = new Set(
  'about above after again against also among an and any are as at be because been before being below between both but by can could did does doing down during each few for from further had has have having here how if in into is it its itself just more most must no nor not now of off on once only or other our out over own same should so some such than that the their them then there these they this those through to too under until up very was were what when where which while who whom why will with would you your point points score clear clearly uses use using shows show well good student students work answer'.split(
    ' ',
  ),
);

/** The words of a rubric text worth looking for in a submission: 4+ letters, no stop words, each once. */
export function keywords(text: string): string[] {
  return [...new Set(words(text).filter((w) => w.length >= 4 && !STOPWORDS.has(w) && !/^\d+$/.test(w)))];
}
