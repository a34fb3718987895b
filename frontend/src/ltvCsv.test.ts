import {describe, expect, it} from 'vitest';

import type {LifetimeValue} from './api/types';
import {csvCell, ltvCsv, steadyCsv, toCsv} from './ltvCsv';

const LTV: LifetimeValue = {
  scored_at: '2024-04-15T03:00:00Z',
  available: true,
  partial_month: true,
  cac: 26,
  cohorts: [
    {cohort: '2024-01', customers: 2, cac: 35, revenue: [75, 125], gross_profit: [27.5, 47.5], partial: true, payback: {state: 'reached', month: 1}, steady: 1, steady_on_schedule: 1},
  ],
  overall: {key: 'all', title: 'All customers', customers: 5, cac: 26, observed: [4], revenue: [97.5], gross_profit: [34.75], payback: {state: 'reached', month: 0}, steady: 1},
  by_first_product: [{key: 'P1', title: '=HYPERLINK("x")', customers: 2, cac: 35, observed: [2], revenue: [150], gross_profit: [56], payback: {state: 'not_yet', month: 0}, steady: 1}],
  by_discount_code: [],
  by_source: [{key: 'web', title: 'web, shop', customers: 2, cac: 20, observed: [1], revenue: [40], gross_profit: [12], payback: {state: 'no_cac', month: 0}, steady: 0}],
  first_products: 1,
  discount_codes: 0,
  sources: 1,
  steady: {min_purchase_days: 3, min_gap_days: 7, max_gap_days: 92, max_variation: 0.25, overdue_factor: 1.5, customers: 1, on_schedule: 1, avg_gap_days: 30.3},
};

describe('CSV cells', () => {
  it.each([
    ['plain', 'plain'],
    ['=1+1', "'=1+1"],
    ['+44 20', "'+44 20"],
    ['-5', "'-5"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
  ])('%j becomes %j', (v, want) => expect(csvCell(v)).toBe(want));

  it('writes numbers plainly, negatives included, and leaves missing ones empty', () => {
    expect(csvCell(-12.5)).toBe('-12.5');
    expect(csvCell(1 / 3)).toBe('0.3333');
    expect(csvCell(Number.NaN)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(toCsv([['a', 1], ['b', true]])).toBe('a,1\r\nb,true\r\n');
  });
});

describe('lifetime-value CSV', () => {
  it('has a row per curve and month, the partial month and payback marked', () => {
    const lines = ltvCsv(LTV).trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'dimension,key,title,customers,cac,month_since_first_order,customers_observed,revenue_per_customer,gross_profit_per_customer,partial_month,payback,payback_month',
    );
    expect(lines.slice(1)).toEqual([
      'cohort,2024-01,2024-01,2,35,0,2,75,27.5,false,reached,1',
      'cohort,2024-01,2024-01,2,35,1,2,125,47.5,true,reached,1',
      'all,all,All customers,5,26,0,4,97.5,34.75,false,reached,0',
      `first_product,P1,"'=HYPERLINK(""x"")",2,35,0,2,150,56,false,not_yet,`,
      'source,web,"web, shop",2,20,0,1,40,12,false,no_cac,',
    ]);
  });

  it('counts steady customers per cohort', () => {
    expect(steadyCsv(LTV)).toBe('cohort,customers,steady_customers,steady_share,steady_on_schedule\r\n2024-01,2,1,0.5,1\r\n');
  });
});
