import {screen, waitFor, within} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {describe, expect, it} from 'vitest';

import type {ShopifyCrosswalk} from '../api/types';
import {crosswalkGrid, shopifyLabel} from '../components/crosswalk';
import {fakeApi, renderWithApp} from '../test/render';
import {customerIdOf, routeIndex} from '../router';
import {CustomerPage, groupChanges} from './Customer';
import {CustomersPage} from './Customers';
import {InsightsPage} from './Insights';
import {SegmentsPage} from './Segments';

const metric = (id: string) => document.querySelector(`[data-metric="${id}"]`)?.textContent;
const pageState = (name: string) => document.querySelector(`[data-page="${name}"]`)?.getAttribute('data-state');

const DETAIL = {
  customer: {id: '42', name: 'Ann Lee', email: 'ann@example.com', group: 'lovers', r: 5, f: 3, m: 2, orders: 3, revenue: 120,
    historical_clv: 36, predicted_clv: 88.5, p_alive: 0.93, expected_orders: 1.2, expected_next_order: '2026-12-20',
    admin_url: 'https://cvo-demo.myshopify.com/admin/customers/42'},
  as_of: '2026-11-30',
  group: {group: 'lovers', priority: 8, rule: 'R ≥ 4, 2+ purchases, F tier mid or high', active: true, inactive_after_days: 96},
  scores: [
    {dimension: 'r', score: 5, levels: 5, value: 12, text: 'R 5: last order 12 days ago, within the most recent 20% (R 5 is 0–14 days)'},
    {dimension: 'f', score: 3, levels: 5, value: 3, text: 'F 3: 3 orders, within the top 24% by number of orders (F 3 is 3 orders)'},
    {dimension: 'm', score: 2, levels: 5, value: 40, text: 'M 2: average order 40.00, within the top 80% by average order (M 2 is from 35.00 to under 50.00)'},
  ],
  orders: [
    {id: '9', date: '2026-11-18', total: 50, refunded: 0, status: 'purchase'},
    {id: '8', date: '2026-10-02', total: 30, refunded: 30, status: 'refunded'},
    {id: '7', date: '2026-08-01', total: 40, refunded: 0, status: 'purchase'},
  ],
  history: [
    {scoring_id: 1, as_of: '2026-11-01', group: 'new-passion', r: 4, f: 2, m: 2},
    {scoring_id: 2, as_of: '2026-11-30', group: 'lovers', r: 5, f: 3, m: 2},
  ],
  chance_to_order: null,
  shopify: {rfm_group: 'NEEDS_ATTENTION', predicted_spend_tier: 'MEDIUM'},
};

describe('Customer screen', () => {
  it('explains the group with the shop cut-offs, the orders, the history and Shopify group', async () => {
    const api = fakeApi({'/api/customers/42': DETAIL});
    renderWithApp(<CustomerPage id="42" />, {api});
    await waitFor(() => expect(pageState('customer')).toBe('ready'));
    expect(screen.getByRole('heading', {level: 1, name: 'Ann Lee'})).toBeInTheDocument();
    expect(metric('group_rule')).toBe('Rule 8 of 11: R ≥ 4, 2+ purchases, F tier mid or high');
    const why = within(document.querySelector('[data-metric="score_explanations"]') as HTMLElement);
    expect(why.getByText(/R 5: last order 12 days ago, within the most recent 20%/)).toBeInTheDocument();
    expect(why.getAllByRole('listitem')).toHaveLength(3);
    const timeline = screen.getByRole('list', {name: 'Orders, newest first'});
    expect(within(timeline).getAllByRole('listitem')).toHaveLength(3);
    expect(within(timeline).getByText('Refunded in full')).toBeInTheDocument();
    expect(metric('group_changes')).toBe('New Passion → Lovers');
    expect(metric('shopify_rfm_group')).toBe('Needs attention');
    expect(metric('predicted_clv')).toBe('£88.50');
    // The chance to order is a marked slot until the scoring computes it.
    expect(document.querySelector('[data-slot="chance-to-order"]')).toHaveTextContent('not computed yet');
    expect(api.calls.map((c) => c.path)).toContain('/api/customers/42');
  });

  it('shows the chance to order and its drivers when the API sends them', async () => {
    const withChance = {...DETAIL, chance_to_order: {probability: 0.41, window_days: 90, drivers: ['Bought 12 days ago']}};
    renderWithApp(<CustomerPage id="42" />, {api: fakeApi({'/api/customers/42': withChance})});
    await waitFor(() => expect(pageState('customer')).toBe('ready'));
    expect(metric('chance_to_order')).toBe('Chance to order in the next 90 days: 41.0%');
    expect(screen.getByText('Bought 12 days ago')).toBeInTheDocument();
    expect(document.querySelector('[data-slot="chance-to-order"]')).toBeNull();
  });

  it("says so when the shop has no such customer (another shop's included)", async () => {
    renderWithApp(<CustomerPage id="7" />, {api: fakeApi({})});
    await waitFor(() => expect(pageState('customer')).toBe('empty'));
  });

  it('is reached from the customer list and keeps the Customers tab', async () => {
    const list = {customers: [{...DETAIL.customer}], total: 1, page: 1, per_page: 25};
    renderWithApp(<CustomersPage />, {api: fakeApi({'/api/customers': list, '/api/segments': {groups: []}})});
    await waitFor(() => expect(pageState('customers')).toBe('ready'));
    await userEvent.click(screen.getByRole('link', {name: 'Ann Lee'}));
    expect(window.location.pathname).toBe('/customers/42');
    expect(customerIdOf(window.location.pathname)).toBe('42');
    expect(routeIndex('/customers/42')).toBe(routeIndex('/customers'));
    expect(customerIdOf('/customers/abc')).toBeUndefined();
    expect(customerIdOf('/customers')).toBeUndefined();
    window.history.pushState(null, '', '/');
  });

  it('sums up group history', () => {
    expect(groupChanges([])).toBe('No earlier scoring');
    expect(groupChanges([{group: 'lovers'}, {group: 'lovers'}])).toBe('Lovers in all 2 kept scorings');
    expect(groupChanges([{group: 'lovers'}, {group: 'ex-lovers'}, {group: 'ex-lovers'}])).toBe('Lovers → Ex-Lovers');
  });
});

const CROSSWALK: ShopifyCrosswalk = {
  cells: [
    {group: 'soulmates', shopify_group: 'CHAMPIONS', customers: 30},
    {group: 'soulmates', shopify_group: 'LOYAL', customers: 5},
    {group: 'lovers', shopify_group: 'LOYAL', customers: 12},
    {group: 'break-up', shopify_group: 'DORMANT', customers: 40},
    {group: 'break-up', shopify_group: '', customers: 3},
  ],
  shopify_groups: ['CHAMPIONS', 'LOYAL', 'ACTIVE', 'DORMANT', ''],
  with_shopify_group: 87,
};

describe('Shopify crosswalk', () => {
  it('lays our groups against the Shopify groups that hold anyone', () => {
    const g = crosswalkGrid(CROSSWALK);
    expect(g.colLabels).toEqual(['Champions', 'Loyal', 'Dormant', 'None given']);
    expect(g.rowLabels[0]).toBe('Soulmates');
    expect(g.values[0]).toEqual([30, 5, 0, 0]);
    expect(g.values[1]).toEqual([0, 12, 0, 0]);
    expect(g.values[10]).toEqual([0, 0, 40, 3]);
    expect(g.total).toBe(90);
    expect(shopifyLabel('PREVIOUSLY_LOYAL')).toBe('Previously loyal');
    expect(crosswalkGrid(undefined).total).toBe(0);
  });

  it('shows the crosswalk on Insights as a keyboard heatmap', async () => {
    renderWithApp(<InsightsPage />, {api: fakeApi({'/api/insights': {pareto: {curve: []}, shopify_crosswalk: CROSSWALK}})});
    await waitFor(() => expect(pageState('insights')).toBe('ready'));
    expect(metric('crosswalk_with_shopify')).toBe('87');
    const grid = document.querySelector('[data-chart="shopify-crosswalk"]') as HTMLElement;
    expect(grid).not.toBeNull();
    expect(grid).toHaveTextContent('Dormant');
    expect(within(grid).getAllByText('40').length).toBeGreaterThan(0);
  });
});

describe('Segments of one-time buyers', () => {
  it('shows a dash, not 0 days, when nobody in a group ordered twice', async () => {
    const groups = [
      {slug: 'apprentice', name: 'Apprentice', customers: 50, share: 0.1, avg_days_between_orders: null},
      {slug: 'lovers', name: 'Lovers', customers: 80, share: 0.2, avg_days_between_orders: 21},
    ];
    renderWithApp(<SegmentsPage />, {api: fakeApi({'/api/segments': {groups, grid: [], movements: {transitions: []}}})});
    await waitFor(() => expect(pageState('segments')).toBe('ready'));
    const row = screen.getByRole('row', {name: /Apprentice/});
    expect(row).toHaveTextContent('—');
    expect(row).not.toHaveTextContent('0 days');
    expect(screen.getByRole('row', {name: /Lovers/})).toHaveTextContent('21 days');
  });
});
