import {describe, expect, it} from 'vitest';

import {Formatter, MISSING, pickLocale} from './format';

// Intl output uses narrow and regular no-break spaces in some locales.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('Formatter', () => {
  const gb = new Formatter('en-GB', 'GBP', 'Europe/London');

  it('formats money in the shop currency and the merchant locale', () => {
    expect(gb.money(1234.5)).toBe('£1,234.50');
    expect(plain(new Formatter('de-DE', 'EUR').money(1234.5))).toBe('1.234,50 €');
    expect(new Formatter('en-US', 'JPY').money(1234.5)).toBe('¥1,235');
    expect(new Formatter('en-US', 'usd').money(-3)).toBe('-$3.00');
  });

  it('shows a dash, never NaN or zero, for missing figures', () => {
    for (const v of [undefined, null, Number.NaN, Infinity]) {
      expect(gb.money(v)).toBe(MISSING);
      expect(gb.percent(v)).toBe(MISSING);
      expect(gb.integer(v)).toBe(MISSING);
      expect(gb.ratio(v)).toBe(MISSING);
      expect(gb.days(v)).toBe(MISSING);
      expect(gb.pValue(v)).toBe(MISSING);
    }
    expect(gb.date(undefined)).toBe(MISSING);
    expect(gb.date('not a date')).toBe(MISSING);
    expect(gb.month('')).toBe(MISSING);
  });

  it('falls back to plain decimals when the currency is unknown or missing', () => {
    expect(new Formatter('en-GB', 'XX1').money(5)).toBe('5.00');
    expect(new Formatter('en-GB').money(1234)).toBe('1,234.00');
  });

  it('formats shares as percentages with one decimal', () => {
    expect(gb.percent(0.1234)).toBe('12.3%');
    expect(gb.percent(1)).toBe('100.0%');
    expect(plain(new Formatter('fr-FR').percent(0.5))).toBe('50,0 %');
  });

  it('formats counts, ratios, days and p-values', () => {
    expect(gb.integer(1234567.4)).toBe('1,234,567');
    expect(gb.ratio(3.24)).toBe('3.2×');
    expect(gb.days(1)).toBe('1 day');
    expect(gb.days(12.6)).toBe('13 days');
    expect(gb.pValue(0.0312)).toBe('0.031');
    expect(gb.pValue(0.00001)).toBe('< 0.001');
    expect(gb.number(2.345)).toBe('2.35');
  });

  it('formats instants in the shop time zone and bare dates as calendar days', () => {
    // 23:30 UTC on 31 March is already 1 April in London (BST).
    expect(gb.date('2026-03-31T23:30:00Z')).toBe('1 Apr 2026');
    expect(new Formatter('en-GB', 'GBP', 'America/New_York').date('2026-03-31T23:30:00Z')).toBe('31 Mar 2026');
    expect(new Formatter('en-GB', 'GBP', 'Pacific/Kiritimati').date('2026-03-31')).toBe('31 Mar 2026');
    expect(plain(gb.dateTime('2026-01-15T09:05:00Z'))).toBe('15 Jan 2026, 09:05');
  });

  it('labels cohort months', () => {
    expect(gb.month('2011-01')).toBe('Jan 2011');
    expect(new Formatter('de-DE').month('2011-03')).toBe('März 2011');
    expect(gb.month('week 3')).toBe('week 3');
  });

  it('ignores an invalid time zone', () => {
    expect(new Formatter('en-GB', 'GBP', 'Mars/Olympus').timeZone).toBeUndefined();
  });
});

describe('pickLocale', () => {
  it('takes the first usable candidate', () => {
    expect(pickLocale([undefined, 'de-DE', 'en-GB'])).toBe('de-DE');
    expect(pickLocale([null, '', 'fr'])).toBe('fr');
    expect(pickLocale(['not a locale!!', 'en-GB'])).toBe('en-GB');
    expect(pickLocale([])).toBe('en');
  });
});
