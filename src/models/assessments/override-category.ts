/**
 * What was wrong with the model's grade, when an instructor changes it: data beside the free-text reason, so the
 * Agreement page can count them per criterion and prompt version (what to fix in the prompt) and the monitoring page
 * per platform. Not personal: retention leaves it, as it leaves the scores.
 */
export const OVERRIDE_CATEGORIES = ['too_harsh', 'too_lenient', 'missed_criterion', 'misread', 'off_topic', 'other'] as const;
export type OverrideCategory = (typeof OVERRIDE_CATEGORIES)[number];

export const OVERRIDE_CATEGORY_LABELS: Record<OverrideCategory, string> = {
  too_harsh: 'Too harsh',
  too_lenient: 'Too lenient',
  missed_criterion: 'Missed a criterion',
  misread: 'Misread the work',
  off_topic: 'Off-topic feedback',
  other: 'Other',
};

/** Overrides decided before categories existed carry none. */
export const UNCATEGORIZED_LABEL = 'Not categorized (decided before categories)';

export function overrideCategoryLabel(c: string | null | undefined): string {
  return c && c in OVERRIDE_CATEGORY_LABELS ? OVERRIDE_CATEGORY_LABELS[c as OverrideCategory] : UNCATEGORIZED_LABEL;
}
