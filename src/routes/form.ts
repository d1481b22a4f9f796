/** Reading plain form posts (urlencoded or multipart), whose values are strings or, sent twice, arrays of them. */

export type FormBody = Record<string, unknown>;

/** A form value as text: the first one when a field was sent twice, '' when absent. */
export function formText(body: FormBody | undefined, name: string): string {
  const v = body?.[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return '';
}
