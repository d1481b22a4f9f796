/**
 * LTI custom parameter substitution: a value that is exactly a known `$Variable` is replaced; an unknown
 * variable is passed unchanged, as the LTI spec requires, so a tool can see it is not supported here.
 */
export type SubstitutionValues = Record<string, string | undefined>;

export const SUPPORTED_VARIABLES = [
  'User.id',
  'User.username',
  'Person.name.full',
  'Person.name.given',
  'Person.name.family',
  'Person.email.primary',
  'Context.id',
  'Context.label',
  'Context.title',
  'ResourceLink.id',
  'ResourceLink.title',
  'ResourceLink.description',
] as const;

export function substitute(custom: Record<string, string>, values: SubstitutionValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(custom)) {
    const replacement = value.startsWith('$') ? values[value.slice(1)] : undefined;
    out[key] = replacement ?? value;
  }
  return out;
}
