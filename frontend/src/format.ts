// Number and date formatting in the shop's currency and the merchant's
// locale. Missing or non-finite values render as an em dash so a partial API
// answer never shows "NaN" or "$0.00" where there is no figure.

import type {Num} from './api/types';

export const MISSING = '—';

export function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

// pickLocale prefers App Bridge's locale, then Shopify's ?locale= query
// parameter, then the browser's language.
export function pickLocale(candidates: (string | null | undefined)[]): string {
  for (const c of candidates) {
    if (!c) continue;
    try {
      const [supported] = Intl.NumberFormat.supportedLocalesOf(c);
      if (supported) return supported;
    } catch {
      // An ill-formed tag: try the next one.
    }
  }
  return 'en';
}

function validCurrency(code: string | undefined): string | undefined {
  if (!code || !/^[A-Za-z]{3}$/.test(code)) return undefined;
  try {
    new Intl.NumberFormat('en', {style: 'currency', currency: code});
    return code.toUpperCase();
  } catch {
    return undefined;
  }
}

function validTimeZone(tz: string | undefined): string | undefined {
  if (!tz) return undefined;
  try {
    new Intl.DateTimeFormat('en', {timeZone: tz});
    return tz;
  } catch {
    return undefined;
  }
}

export class Formatter {
  readonly locale: string;
  readonly currency?: string;
  readonly timeZone?: string;
  private readonly moneyFmt: Intl.NumberFormat;
  private readonly moneyShortFmt: Intl.NumberFormat;
  private readonly intFmt: Intl.NumberFormat;
  private readonly pctFmt: Intl.NumberFormat;

  constructor(locale: string, currency?: string, timeZone?: string) {
    this.locale = pickLocale([locale]);
    this.currency = validCurrency(currency);
    this.timeZone = validTimeZone(timeZone);
    this.moneyFmt = this.currency
      ? new Intl.NumberFormat(this.locale, {style: 'currency', currency: this.currency})
      : new Intl.NumberFormat(this.locale, {minimumFractionDigits: 2, maximumFractionDigits: 2});
    this.moneyShortFmt = this.currency
      ? new Intl.NumberFormat(this.locale, {style: 'currency', currency: this.currency, notation: 'compact', maximumFractionDigits: 1})
      : new Intl.NumberFormat(this.locale, {notation: 'compact', maximumFractionDigits: 1});
    this.intFmt = new Intl.NumberFormat(this.locale, {maximumFractionDigits: 0});
    this.pctFmt = new Intl.NumberFormat(this.locale, {style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1});
  }

  money(v: Num): string {
    return isNum(v) ? this.moneyFmt.format(v) : MISSING;
  }

  // moneyCompact is for chart axes and dense heatmap cells.
  moneyCompact(v: Num): string {
    return isNum(v) ? this.moneyShortFmt.format(v) : MISSING;
  }

  integer(v: Num): string {
    return isNum(v) ? this.intFmt.format(v) : MISSING;
  }

  // number is a plain figure with at most two decimals (counts, scores).
  number(v: Num): string {
    if (!isNum(v)) return MISSING;
    return new Intl.NumberFormat(this.locale, {maximumFractionDigits: 2}).format(v);
  }

  decimal(v: Num, digits = 2): string {
    if (!isNum(v)) return MISSING;
    return new Intl.NumberFormat(this.locale, {minimumFractionDigits: digits, maximumFractionDigits: digits}).format(v);
  }

  // percent takes a share between 0 and 1.
  percent(v: Num): string {
    return isNum(v) ? this.pctFmt.format(v) : MISSING;
  }

  // wholePercent is a share rounded to a whole percent, for dense grids.
  wholePercent(v: Num): string {
    return isNum(v) ? new Intl.NumberFormat(this.locale, {style: 'percent', maximumFractionDigits: 0}).format(v) : MISSING;
  }

  // ratio renders a multiple such as CLV:CAC ("3.2×").
  ratio(v: Num): string {
    return isNum(v) ? `${this.decimal(v, 1)}×` : MISSING;
  }

  days(v: Num): string {
    if (!isNum(v)) return MISSING;
    const n = new Intl.NumberFormat(this.locale, {maximumFractionDigits: 0}).format(v);
    return `${n} ${Math.round(v) === 1 ? 'day' : 'days'}`;
  }

  pValue(v: Num): string {
    if (!isNum(v)) return MISSING;
    if (v < 0.001) return `< ${new Intl.NumberFormat(this.locale, {minimumFractionDigits: 3}).format(0.001)}`;
    return this.decimal(v, 3);
  }

  date(v: string | null | undefined): string {
    const d = parseDate(v);
    if (!d) return MISSING;
    // A bare date ("2026-03-01") is a calendar day: show it as is, not
    // shifted into the shop's time zone.
    const timeZone = isBareDate(v) ? 'UTC' : this.timeZone;
    return new Intl.DateTimeFormat(this.locale, {dateStyle: 'medium', timeZone}).format(d);
  }

  dateTime(v: string | null | undefined): string {
    const d = parseDate(v);
    if (!d) return MISSING;
    return new Intl.DateTimeFormat(this.locale, {dateStyle: 'medium', timeStyle: 'short', timeZone: this.timeZone}).format(d);
  }

  // month renders a "YYYY-MM" cohort or calendar month as "Jan 2011".
  month(v: string | null | undefined): string {
    const m = /^(\d{4})-(\d{2})/.exec(v ?? '');
    if (!m) return v || MISSING;
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
    return new Intl.DateTimeFormat(this.locale, {month: 'short', year: 'numeric', timeZone: 'UTC'}).format(d);
  }
}

const BARE_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isBareDate(v: string | null | undefined): boolean {
  return !!v && BARE_DATE.test(v);
}

function parseDate(v: string | null | undefined): Date | undefined {
  if (!v) return undefined;
  const bare = BARE_DATE.exec(v);
  if (bare) return new Date(Date.UTC(Number(bare[1]), Number(bare[2]) - 1, Number(bare[3]), 12));
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
