import {screen, waitFor, within} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {beforeEach, describe, expect, it, vi} from 'vitest';

import type {LifetimeValue} from '../api/types';
import {saveBlob} from '../download';
import {fakeApi, renderWithApp} from '../test/render';
import {LifetimeValuePage, paybackText} from './LifetimeValue';

vi.mock('../download', () => ({saveBlob: vi.fn()}));

const metric = (id: string) => document.querySelector(`[data-metric="${id}"]`)?.textContent;
const pageState = () => document.querySelector('[data-page="lifetime-value"]')?.getAttribute('data-state');

// The reports package's hand-worked shop (internal/reports/testdata/ltv_shop.md), as the API answers it.
const LTV: LifetimeValue = {
  scored_at: '2024-04-15T03:00:00Z',
  available: true,
  partial_month: true,
  cac: 26,
  cohorts: [
    {cohort: '2024-01', customers: 2, cac: 35, revenue: [75, 125, 205, 255], gross_profit: [27.5, 47.5, 79.5, 99.5], partial: true, payback: {state: 'reached', month: 1}, steady: 1, steady_on_schedule: 1},
    {cohort: '2024-02', customers: 2, cac: 20, revenue: [120, 120, 145], gross_profit: [42, 42, 49.5], partial: true, payback: {state: 'reached', month: 0}, steady: 0, steady_on_schedule: 0},
    {cohort: '2024-03', customers: 0, cac: 0, revenue: [0, 0], gross_profit: [0, 0], partial: true, payback: {state: 'no_cac', month: 0}, steady: 0, steady_on_schedule: 0},
    {cohort: '2024-04', customers: 1, cac: 20, revenue: [30], gross_profit: [9], partial: true, payback: {state: 'not_yet', month: 0}, steady: 0, steady_on_schedule: 0},
  ],
  overall: {key: 'all', title: 'All customers', customers: 5, cac: 26, observed: [4, 4, 2], revenue: [97.5, 122.5, 205], gross_profit: [34.75, 44.75, 79.5], payback: {state: 'reached', month: 0}, steady: 1},
  by_first_product: [
    {key: 'P2', title: 'Mug', customers: 3, cac: 20, observed: [2, 2, 1], revenue: [45, 45, 110], gross_profit: [13.5, 13.5, 39], payback: {state: 'reached', month: 2}, steady: 0},
  ],
  by_discount_code: [
    {key: '(none)', title: '(none)', customers: 2, cac: 20, observed: [1, 1, 1], revenue: [50, 50, 110], gross_profit: [15, 15, 39], payback: {state: 'reached', month: 2}, steady: 0},
  ],
  by_source: [
    {key: 'web', title: 'web', customers: 2, cac: 20, observed: [1, 1], revenue: [40, 40], gross_profit: [12, 12], payback: {state: 'not_yet', month: 0}, steady: 0},
    {key: 'google', title: 'google', customers: 1, cac: 50, observed: [1, 1, 1], revenue: [100, 200, 300], gross_profit: [40, 80, 120], payback: {state: 'reached', month: 1}, steady: 1},
  ],
  first_products: 3,
  discount_codes: 3,
  sources: 4,
  steady: {min_purchase_days: 3, min_gap_days: 7, max_gap_days: 92, max_variation: 0.25, overdue_factor: 1.5, customers: 1, on_schedule: 1, avg_gap_days: 30.33},
};

beforeEach(() => vi.mocked(saveBlob).mockClear());

describe('Lifetime value', () => {
  it('shows the headline figures, the curve and the payback', async () => {
    renderWithApp(<LifetimeValuePage />, {api: fakeApi({'/api/lifetime-value': LTV})});
    await waitFor(() => expect(pageState()).toBe('ready'));
    expect(screen.getByRole('heading', {level: 1, name: 'Lifetime value'})).toBeInTheDocument();
    expect(metric('ltv_gross_m0')).toBe('£34.75');
    expect(metric('ltv_gross_m3')).toBe('—'); // no customer has completed month 3
    expect(metric('ltv_cac')).toBe('£26.00');
    expect(metric('ltv_payback')).toBe('In the first month');
    expect(metric('steady_customers')).toBe('1');
    expect(metric('steady_on_schedule')).toBe('1');
    const overall = document.querySelector('[data-chart="ltv-overall"]') as HTMLElement;
    await userEvent.click(within(overall).getByRole('button', {name: 'Show data table'}));
    const table = within(overall).getByRole('table', {name: 'Cumulative value per customer'});
    expect(within(table).getAllByRole('row')[1]).toHaveTextContent('Month 0£34.75£97.50£26.00');
    expect(within(table).getAllByRole('row')[3]).toHaveTextContent('Month 2£79.50£205.00£26.00');
  });

  it('marks the current month of each cohort as so far, and leaves it out of the chart', async () => {
    renderWithApp(<LifetimeValuePage />, {api: fakeApi({'/api/lifetime-value': LTV})});
    await waitFor(() => expect(pageState()).toBe('ready'));
    const partial = Array.from(document.querySelectorAll('[data-partial="true"]')).map((e) => e.textContent);
    // January's month 3 is April so far; April's own first month too. The
    // empty March cohort has no row.
    expect(partial).toEqual(['£99.50so far', '£9.00so far']);
    expect(screen.queryByText('Mar 2024')).not.toBeInTheDocument();
    const compare = document.querySelector('[data-chart="ltv-compare"]') as HTMLElement;
    await userEvent.click(within(compare).getByRole('button', {name: 'Show data table'}));
    const rows = within(within(compare).getByRole('table')).getAllByRole('row');
    // Series January and February (April's only month is still running):
    // month 3 is only January's so far, so the chart has months 0 to 2, and
    // February's month 2 is April so far.
    expect(rows).toHaveLength(4);
    expect(rows[0]).toHaveTextContent(/^Since the first orderJan 2024Feb 2024$/);
    expect(rows[2]).toHaveTextContent('Month 1£47.50£42.00');
    expect(rows[3]).toHaveTextContent(/^Month 2£79.50—$/);
  });

  it('compares sources, with each payback', async () => {
    renderWithApp(<LifetimeValuePage />, {api: fakeApi({'/api/lifetime-value': LTV})});
    await waitFor(() => expect(pageState()).toBe('ready'));
    await userEvent.click(screen.getByRole('button', {name: 'Source'}));
    expect(screen.getByRole('columnheader', {name: /Paid back/})).toBeInTheDocument();
    const google = screen.getByRole('row', {name: /^google/});
    expect(google).toHaveTextContent('£50.00');
    expect(google).toHaveTextContent('Month 1');
    expect(screen.getByRole('row', {name: /^web/})).toHaveTextContent('Not yet');
    expect(screen.getByText(/The 2 largest of 4 are shown/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', {name: 'Revenue'}));
    expect(screen.getByRole('row', {name: /^google/})).toHaveTextContent('£100.00£200.00');
  });

  it('exports every curve, and the steady customers, as CSV', async () => {
    renderWithApp(<LifetimeValuePage />, {api: fakeApi({'/api/lifetime-value': LTV})});
    await waitFor(() => expect(pageState()).toBe('ready'));
    const [ltvButton, steadyButton] = screen.getAllByRole('button', {name: 'Export CSV'});
    await userEvent.click(ltvButton);
    expect(saveBlob).toHaveBeenCalledWith(expect.any(Blob), 'lifetime-value.csv');
    const blob = vi.mocked(saveBlob).mock.calls[0][0];
    const text = await new Promise<string>((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.readAsText(blob);
    });
    expect(text).toContain('cohort,2024-01,2024-01,2,35,3,2,255,99.5,true,reached,1');
    expect(text).toContain('source,google,google,1,50,2,1,300,120,false,reached,1');
    await userEvent.click(steadyButton);
    expect(saveBlob).toHaveBeenLastCalledWith(expect.any(Blob), 'steady-customers.csv');
  });

  it('offers a rescore when the scoring predates the report', async () => {
    const api = fakeApi({'/api/lifetime-value': {...LTV, available: false, cohorts: []}, 'POST /api/actions/rescore': {state: 'queued'}});
    renderWithApp(<LifetimeValuePage />, {api});
    await waitFor(() => expect(pageState()).toBe('ready'));
    expect(screen.getByText('Lifetime value comes with the next scoring')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', {name: 'Rescore now'}));
    await waitFor(() => expect(api.calls.some((c) => c.method === 'POST' && c.path === '/api/actions/rescore')).toBe(true));
    expect(await screen.findByText(/A scoring is on its way/)).toBeInTheDocument();
  });

  it('leaves out acquisition cost and payback columns while no cost is set', async () => {
    const noCAC = {
      ...LTV,
      cac: 0,
      cohorts: LTV.cohorts?.map((c) => ({...c, cac: 0, payback: {state: 'no_cac' as const, month: 0}})),
      overall: {...LTV.overall, cac: 0, payback: {state: 'no_cac' as const, month: 0}},
    };
    renderWithApp(<LifetimeValuePage />, {api: fakeApi({'/api/lifetime-value': noCAC})});
    await waitFor(() => expect(pageState()).toBe('ready'));
    expect(metric('ltv_cac')).toBe('—');
    expect(metric('ltv_payback')).toBe('—');
    expect(screen.getByText('No acquisition cost is set, so there is nothing to pay back.')).toBeInTheDocument();
    expect(screen.queryByRole('columnheader', {name: /Acquisition cost/})).not.toBeInTheDocument();
    expect(screen.queryByRole('columnheader', {name: /Paid back/})).not.toBeInTheDocument();
  });

  it('tolerates missing fields and an empty shop', async () => {
    renderWithApp(<LifetimeValuePage />, {api: fakeApi({'/api/lifetime-value': {available: true, cohorts: [{cohort: '2024-01', customers: 1}]}})});
    await waitFor(() => expect(pageState()).toBe('ready'));
    expect(metric('ltv_gross_m0')).toBe('—');
    expect(metric('ltv_payback')).toBe('—');
  });

  it('says there is nothing yet for a shop without customers', async () => {
    renderWithApp(<LifetimeValuePage />, {api: fakeApi({'/api/lifetime-value': {...LTV, cohorts: []}})});
    await waitFor(() => expect(pageState()).toBe('empty'));
  });

  it.each([
    [{state: 'reached', month: 0}, 'In the first month'],
    [{state: 'reached', month: 4}, 'Month 4'],
    [{state: 'not_yet', month: 0}, 'Not yet'],
    [{state: 'no_cac', month: 0}, 'No acquisition cost set'],
    [undefined, '—'],
  ] as const)('payback %j reads %j', (p, want) => expect(paybackText(p)).toBe(want));
});
