// CSV exports of the lifetime-value page, built from the API's answer so the
// file holds exactly the numbers the page shows, every month included.

import type {LifetimeValue, LtvCurve, LtvPayback} from './api/types';
import {isNum} from './format';

export type Cell = string | number | boolean | null | undefined;

// csvCell quotes what needs quoting and defuses spreadsheet formulas: text
// starting with =, +, -, @, a tab or a carriage return would run when the
// merchant opens the file (product titles and discount codes are typed by
// people). Numbers are written plainly, to four decimals.
export function csvCell(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return isNum(v) ? String(Number(v.toFixed(4))) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: Cell[][]): string {
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

function paybackCells(p: LtvPayback | undefined): Cell[] {
  if (p?.state === 'reached') return ['reached', p.month];
  return [p?.state ?? '', ''];
}

const LTV_HEADER = [
  'dimension',
  'key',
  'title',
  'customers',
  'cac',
  'month_since_first_order',
  'customers_observed',
  'revenue_per_customer',
  'gross_profit_per_customer',
  'partial_month',
  'payback',
  'payback_month',
];

function curveRows(dimension: string, c: LtvCurve): Cell[][] {
  const n = Math.max(c.revenue?.length ?? 0, c.gross_profit?.length ?? 0);
  return Array.from({length: n}, (_, k) => [
    dimension,
    c.key,
    c.title,
    c.customers,
    c.cac,
    k,
    c.observed?.[k],
    c.revenue?.[k],
    c.gross_profit?.[k],
    false,
    ...paybackCells(c.payback),
  ]);
}

// ltvCsv is one row per curve and month since the first order: the cohorts
// (whose last month may be partial), every customer, and the curves by first
// product, discount code and source.
export function ltvCsv(d: LifetimeValue): string {
  const rows: Cell[][] = [LTV_HEADER];
  for (const co of d.cohorts ?? []) {
    const n = Math.max(co.revenue?.length ?? 0, co.gross_profit?.length ?? 0);
    for (let k = 0; k < n; k++) {
      rows.push([
        'cohort',
        co.cohort,
        co.cohort,
        co.customers,
        co.cac,
        k,
        co.customers,
        co.revenue?.[k],
        co.gross_profit?.[k],
        co.partial === true && k === n - 1,
        ...paybackCells(co.payback),
      ]);
    }
  }
  if (d.overall) rows.push(...curveRows('all', d.overall));
  for (const c of d.by_first_product ?? []) rows.push(...curveRows('first_product', c));
  for (const c of d.by_discount_code ?? []) rows.push(...curveRows('discount_code', c));
  for (const c of d.by_source ?? []) rows.push(...curveRows('source', c));
  return toCsv(rows);
}

// steadyCsv is one row per acquisition cohort: its customers and how many
// of them order at a steady interval.
export function steadyCsv(d: LifetimeValue): string {
  const rows: Cell[][] = [['cohort', 'customers', 'steady_customers', 'steady_share', 'steady_on_schedule']];
  for (const co of d.cohorts ?? []) {
    const share = isNum(co.customers) && co.customers > 0 && isNum(co.steady) ? co.steady / co.customers : null;
    rows.push([co.cohort, co.customers, co.steady, share, co.steady_on_schedule]);
  }
  return toCsv(rows);
}
