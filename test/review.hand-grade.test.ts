import { describe, expect, it } from '@jest/globals';
import { handGradeOf } from '../src/models/assessments/review.service.js';
import type { RubricCriterion } from '../src/grading/rubric.js';

const RUBRIC: RubricCriterion[] = [
  { id: 'a', name: 'A', description: '', maxPoints: 6 },
  { id: 'b', name: 'B', description: '', maxPoints: 4 },
];

/** One rule for a score a person gives: every criterion (the score is their sum) or none (the overall score alone). */
describe('handGradeOf', () => {
  it('makes the score the sum of the criteria, typed or left empty', () => {
    expect(handGradeOf(RUBRIC, 10, { criteria: { a: 2.5, b: 0.75 } })).toEqual({ grade: { score: 3.25, criteria: { a: 2.5, b: 0.75 } } });
    expect(handGradeOf(RUBRIC, 10, { score: 3.25, criteria: { a: 2.5, b: 0.75 } })).toEqual({ grade: { score: 3.25, criteria: { a: 2.5, b: 0.75 } } });
  });

  it('refuses a score that is not the sum of the criteria given (the "1 / 10" beside criteria worth 3.25)', () => {
    expect(handGradeOf(RUBRIC, 10, { score: 1, criteria: { a: 2.5, b: 0.75 } })).toEqual({ fields: { score: expect.stringContaining('The criteria add up to 3.25') } });
  });

  it('refuses some criteria without the others, naming each missing one', () => {
    expect(handGradeOf(RUBRIC, 10, { score: 5, criteria: { a: 3 } })).toEqual({ fields: { 'criteria.b': expect.stringContaining('Give every criterion its points') } });
  });

  it('changes the overall score alone when no criterion is given', () => {
    expect(handGradeOf(RUBRIC, 10, { score: 7 })).toEqual({ grade: { score: 7, criteria: null } });
    expect(handGradeOf([], 10, { score: 7, criteria: {} })).toEqual({ grade: { score: 7, criteria: null } });
    expect(handGradeOf(RUBRIC, 10, {})).toEqual({ fields: { score: 'Enter the score you give.' } });
  });

  it('refuses scores and points out of range, and criteria not in the rubric, and sums over the maximum', () => {
    expect(handGradeOf(RUBRIC, 10, { score: 11 })).toEqual({ fields: { score: 'The score must be from 0 to 10.' } });
    expect(handGradeOf(RUBRIC, 10, { score: -1 })).toEqual({ fields: { score: 'The score must be from 0 to 10.' } });
    expect(handGradeOf(RUBRIC, 10, { criteria: { a: 7, b: 1 } })).toEqual({ fields: { 'criteria.a': 'From 0 to 6.' } });
    expect(handGradeOf(RUBRIC, 10, { criteria: { a: 1, b: 1, z: 1 } })).toEqual({ fields: { 'criteria.z': 'This criterion is not in the rubric.' } });
    // A rubric worth more than the assessment's maximum (a task whose maximum was lowered): the sum is capped.
    expect(handGradeOf(RUBRIC, 8, { criteria: { a: 6, b: 4 } })).toEqual({ fields: { score: 'The criteria add up to 10, more than the maximum score of 8.' } });
  });
});
