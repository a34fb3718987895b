// Numbers as a person types them into a form: in the shop's locale
// ("1.234,5" in Germany, "1 234,5" in France, "1,234.5" in the UK), with
// the other common separator understood where it cannot be a thousands
// separator ("12.5" in Germany), and never JavaScript's own notations
// ("1e3", "0x10", "Infinity"), which Number() would quietly accept.

export type Parsed = {value: number; error?: undefined} | {value?: undefined; error: string};

export interface Separators {
  decimal: string;
  group: string;
}

// separators are the locale's decimal and thousands separators.
export function separators(locale: string): Separators {
  const parts = new Intl.NumberFormat(locale, {useGrouping: true}).formatToParts(12345.6);
  return {
    decimal: parts.find((p) => p.type === 'decimal')?.value ?? '.',
    group: parts.find((p) => p.type === 'group')?.value ?? ',',
  };
}

// example writes 1234.5 the locale's way, for messages.
export function example(locale: string, value = 12.5): string {
  return new Intl.NumberFormat(locale, {maximumFractionDigits: 2, useGrouping: false}).format(value);
}

const SPACES = /[\s\u00a0\u202f'\u2019]/g;

// parseNumber reads text typed in the locale. Empty text is an error; the
// caller decides whether a field may be left empty.
export function parseNumber(text: string, locale: string): Parsed {
  const raw = text.trim();
  const like = example(locale);
  if (raw === '') return {error: `Enter a number, like ${like}.`};
  if (/[eE]/.test(raw) && /\d/.test(raw)) {
    return {error: `Write the number in full, like ${example(locale, 1000)}; "${raw}" is exponent notation.`};
  }
  const {decimal, group} = separators(locale);
  let s = raw.replace(SPACES, '');
  let sign = 1;
  if (/^[-\u2212]/.test(s)) {
    sign = -1;
    s = s.slice(1);
  } else if (s.startsWith('+')) {
    s = s.slice(1);
  }
  if (!/^[0-9.,]+$/.test(s) || !/[0-9]/.test(s)) return {error: `Enter a number, like ${like}.`};
  const other = decimal === ',' ? '.' : ',';
  const groupSep = group === '.' || group === ',' ? group : other;
  let whole: string;
  let frac = '';
  if (s.includes(decimal)) {
    const at = s.lastIndexOf(decimal);
    whole = s.slice(0, at);
    frac = s.slice(at + 1);
    if (frac.includes(other) || frac.includes(decimal)) return {error: `Use one decimal separator, like ${like}.`};
  } else {
    const pieces = s.split(other);
    // "12.5" in a locale with a decimal comma: one separator that cannot
    // group thousands (not followed by exactly three digits, or after a
    // leading 0) is the person's decimal point.
    if (pieces.length === 2 && (pieces[1].length !== 3 || pieces[0] === '0' || pieces[0] === '')) {
      whole = pieces[0];
      frac = pieces[1];
    } else {
      whole = s;
    }
  }
  if (whole.includes(groupSep) || whole.includes(other)) {
    const groups = whole.split(new RegExp(`[${escape(groupSep)}${escape(other)}]`));
    if (groups[0] === '' || groups[0].length > 3 || groups.slice(1).some((g) => g.length !== 3)) {
      return {error: `Enter a number, like ${like}.`};
    }
    whole = groups.join('');
  }
  if (!/^[0-9]*$/.test(whole) || !/^[0-9]*$/.test(frac) || whole + frac === '') return {error: `Enter a number, like ${like}.`};
  const value = sign * Number(`${whole || '0'}.${frac || '0'}`);
  if (!Number.isFinite(value)) return {error: `Enter a number, like ${like}.`};
  return {value};
}

function escape(c: string): string {
  return c.replace(/[\\\]^-]/g, '\\$&');
}

// formatInput writes a stored number back into a text field the locale's
// way, without thousands separators (they only get in the way of editing).
export function formatInput(value: number, locale: string, maxFractionDigits = 2): string {
  return new Intl.NumberFormat(locale, {maximumFractionDigits: maxFractionDigits, useGrouping: false}).format(value);
}
