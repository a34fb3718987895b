import {describe, expect, it} from 'vitest';

import {formatInput, parseNumber} from './numberInput';

describe('parseNumber reads numbers as people write them', () => {
  it.each([
    ['en-GB', '45', 45],
    ['en-GB', ' 12.5 ', 12.5],
    ['en-GB', '1,234.56', 1234.56],
    ['en-GB', '1,000', 1000],
    ['en-GB', '12,5', 12.5], // a comma that cannot group thousands
    ['en-GB', '.5', 0.5],
    ['en-GB', '-3', -3],
    ['de-DE', '12,5', 12.5],
    ['de-DE', '1.234,56', 1234.56],
    ['de-DE', '1.000', 1000],
    ['de-DE', '12.5', 12.5], // the dot typed as a decimal point
    ['de-DE', '0.125', 0.125],
    ['fr-FR', '1 234,5', 1234.5],
    ['fr-FR', '1\u202f234,5', 1234.5],
    ['de-CH', "1'234.5", 1234.5],
  ])('%s %j -> %d', (locale, text, want) => {
    expect(parseNumber(text, locale)).toEqual({value: want});
  });

  it.each([
    ['en-GB', '1e3', /exponent notation/],
    ['en-GB', '2E-1', /exponent notation/],
    ['de-DE', '1e3', /Write the number in full, like 1000/],
    ['en-GB', '', /Enter a number, like 12\.5/],
    ['de-DE', 'abc', /Enter a number, like 12,5/],
    ['en-GB', '0x10', /Enter a number/],
    ['en-GB', 'Infinity', /Enter a number/],
    ['en-GB', '12,34,5', /Enter a number/],
    ['en-GB', '1.2.3', /Enter a number|one decimal separator/],
    ['en-GB', '45%', /Enter a number/],
  ])('%s refuses %j', (locale, text, message) => {
    const got = parseNumber(text, locale);
    expect(got.value).toBeUndefined();
    expect(got.error).toMatch(message);
  });

  it('writes numbers back the locale way, without grouping', () => {
    expect(formatInput(1234.5, 'de-DE')).toBe('1234,5');
    expect(formatInput(45, 'en-GB')).toBe('45');
    expect(formatInput(0.1 + 0.2, 'en-GB')).toBe('0.3');
  });
});
