import { describe, expect, it } from '@jest/globals';
import { anonymize, compileRoster, personalize, personalizeResult } from '../src/grading/anonymize-text.js';

const author = { name: 'Amara Okafor', givenName: 'Amara', familyName: 'Okafor', email: 'amara.okafor@example.edu', sub: 'aokafor7' };
const roster = compileRoster([
  author,
  { name: 'Will Young', givenName: 'Will', familyName: 'Young', sub: 'wy' },
  { name: 'Jan van der Berg', givenName: 'Jan', familyName: 'van der Berg', sub: 'jb' },
  { name: 'José García López', givenName: 'José', familyName: 'García López', sub: 'jg' },
]);

describe('anonymize', () => {
  it('replaces the author and classmates in any order with consistent placeholders, and maps them back', () => {
    const r = anonymize('Okafor, Amara with Will Young. Later Young and A. Okafor met van der Berg; Jose Garcia too. Young again.', author, roster);
    expect(r.text).toBe('[student] with [classmate 1]. Later [classmate 1] and [student] met [classmate 2]; [classmate 3] too. [classmate 1] again.');
    expect(r.mapping).toEqual({ '[student]': 'Amara Okafor', '[classmate 1]': 'Will Young', '[classmate 2]': 'Jan van der Berg', '[classmate 3]': 'José García López' });
  });

  it('leaves everyday words that are also names alone', () => {
    expect(anonymize('I will mark it; the rose is young. Will it rain?', author, roster).text).toBe('I will mark it; the rose is young. Will it rain?');
  });

  it('removes e-mail addresses, phones, ids, personal URLs and addresses, the same value as the same placeholder', () => {
    const r = anonymize(
      'Mail me at a.b@x.org or A.B@x.org, call +49 30 1234567 or 06 12 34 56 78. Student number: s1234567; login aokafor7. ' +
        'https://github.com/someone and https://en.wikipedia.org/wiki/Photosynthesis. I live at Hauptstraße 5a, 10115 Berlin.',
      author,
      roster,
    );
    expect(r.text).toBe(
      'Mail me at [email 1] or [email 1], call [phone 1] or [phone 2]. Student number: [id 1]; login [id 2]. ' +
        '[url 1] and https://en.wikipedia.org/wiki/Photosynthesis. I live at [address 1].',
    );
    expect(r.mapping['[address 1]']).toBe('Hauptstraße 5a, 10115 Berlin');
  });

  it('keeps years, page numbers, scores, prices, dates and standards', () => {
    const text = 'In 1998, see pp. 123-145; I scored 45/50 (90 %), paid €1,299.99 on 01.03.2024 at 14:30, per ISO 27001 and RFC 9110, 1000000 people.';
    expect(anonymize(text, author, roster).text).toBe(text);
  });

  it('is deterministic', () => {
    const text = 'Will Young and Amara wrote to jan@x.org, +33 6 12 34 56 78.';
    expect(anonymize(text, author, roster)).toEqual(anonymize(text, author, roster));
  });
});

describe('personalize', () => {
  const mapping = { '[student]': 'Amara Okafor', '[classmate 1]': 'Jan_van *Berg*', '[email 1]': 'a@b.org' };

  it('puts the originals back, leaves unknown placeholders, and escapes markdown in markdown text', () => {
    expect(personalize('[Student] and [classmate 1] ([email 1]); [classmate 9]', mapping)).toBe('Amara Okafor and Jan_van *Berg* (a@b.org); [classmate 9]');
    expect(personalize('[classmate 1]', mapping, { markdown: true })).toBe('Jan\\_van \\*Berg\\*');
  });

  it('personalizes every string of a result, the comments as markdown', () => {
    const result = { comments: '[classmate 1] helped', strengths: ['[student] argues well'], criteria: { a: { score: 3, justification: '[student]' } } };
    expect(personalizeResult(result, mapping)).toEqual({ comments: 'Jan\\_van \\*Berg\\* helped', strengths: ['Amara Okafor argues well'], criteria: { a: { score: 3, justification: 'Amara Okafor' } } });
  });
});
