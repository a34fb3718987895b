import {act, fireEvent, screen, waitFor, within} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {describe, expect, it, vi} from 'vitest';

import {ApiError} from '../api/client';
import type {Products} from '../api/types';
import {SHOP, fakeApi, fmtGB, renderWithApp} from '../test/render';
import {CohortsPage} from './Cohorts';
import {CustomersPage, PER_PAGE} from './Customers';
import {InsightsPage, anomalyValue} from './Insights';
import {OverviewPage, modelName} from './Overview';
import {ProductsPage} from './Products';
import {SegmentsPage} from './Segments';
import {SettingsPage} from './Settings';

const metric = (id: string) => document.querySelector(`[data-metric="${id}"]`)?.textContent;
const pageState = (name: string) => document.querySelector(`[data-page="${name}"]`)?.getAttribute('data-state');

const OVERVIEW = {
  scored_at: '2026-11-20T03:00:00Z',
  customers: 4338,
  repeat_rate: 0.655,
  retention_rate: 0.412,
  retention_trend: [
    {month: '2010-12', rate: 0, buyers: 90, returning: 0, returning_rate: 0, partial: false},
    {month: '2011-01', rate: 0.3, buyers: 100, returning: 20, returning_rate: 0.2, partial: false},
    {month: '2011-02', rate: 0.33, buyers: 110, returning: 33, returning_rate: 0.3, partial: false},
    {month: '2011-03', rate: 0.35, buyers: 12, returning: 6, returning_rate: 0.5, partial: true},
  ],
  avg_historical_clv: 2048.7,
  avg_predicted_clv: 512.25,
  clv_cac: 4.26,
  top_groups_revenue_share: 0.71,
  model: {name: 'BG/NBD + Gamma-Gamma', fallback: false},
};

describe('Overview', () => {
  it('shows the headline figures in the shop currency', async () => {
    renderWithApp(<OverviewPage />, {api: fakeApi({'/api/overview': OVERVIEW})});
    await waitFor(() => expect(pageState('overview')).toBe('ready'));
    expect(screen.getByRole('heading', {level: 1, name: 'Overview'})).toBeInTheDocument();
    expect(metric('customers')).toBe('4,338');
    expect(metric('repeat_rate')).toBe('65.5%');
    expect(metric('avg_historical_clv')).toBe('£2,048.70');
    expect(metric('avg_predicted_clv')).toBe('£512.25');
    expect(metric('clv_cac')).toBe('4.3×');
    expect(metric('retention_rate')).toBe('41.2%');
    // Shopify's words, each with its definition on hover and focus.
    expect(screen.getByText('Returning customer rate')).toHaveAttribute('title', expect.stringMatching(/more than one order/));
    expect(screen.getByText('Orders from returning customers')).toHaveAttribute('title', expect.stringMatching(/not the customer's first/));
    for (const el of document.querySelectorAll('.cvo-metric-grid h3')) {
      expect(el.querySelector('[data-definition]'), el.textContent ?? '').not.toBeNull();
    }
    // Retention by month, not cumulative, the current month marked.
    expect(screen.getByRole('group', {name: /returning customer rate by month/i})).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', {name: 'Show data table'}));
    // The first month of history (nobody can have ordered before) and the
    // month not over are not drawn; the latter is stated with its figure.
    const table = screen.getByRole('table', {name: 'Returning customer rate by month'});
    expect(Array.from(table.querySelectorAll('tbody tr')).map((r) => r.textContent)).toEqual(['Jan 201120.0%', 'Feb 201130.0%']);
    expect(metric('retention_partial')).toBe('Mar 2011 so far (the month is not over): 50.0% of 12 customers had ordered before.');
    // Model names are explained in the help panel.
    await userEvent.click(screen.getByRole('button', {name: 'How this is computed'}));
    expect(screen.getByText('MBG/NBD (the default purchase model)')).toBeInTheDocument();
    expect(screen.getByText('P(alive)')).toBeInTheDocument();
    expect(screen.getByText(/a “score” of 9\.9 is very far|a "score" of 9\.9 is very far/)).toBeInTheDocument();
  });

  it('shows a skeleton while loading', () => {
    renderWithApp(<OverviewPage />, {api: fakeApi({'/api/overview': new Promise(() => {})})});
    expect(pageState('overview')).toBe('loading');
  });

  it('tolerates missing fields', async () => {
    renderWithApp(<OverviewPage />, {api: fakeApi({'/api/overview': {customers: 10}})});
    await waitFor(() => expect(pageState('overview')).toBe('ready'));
    expect(metric('customers')).toBe('10');
    expect(metric('avg_predicted_clv')).toBe('—');
    expect(screen.getByText('No returning customers by month yet.')).toBeInTheDocument();
  });

  it('shows an empty state before the first scoring', async () => {
    renderWithApp(<OverviewPage />, {api: fakeApi({'/api/overview': {}})});
    await waitFor(() => expect(pageState('overview')).toBe('empty'));
    expect(screen.getByText('No overview yet')).toBeInTheDocument();
  });

  it("treats the API's 404 before the first scoring as empty, with its message and the sync progress", async () => {
    const shop = {...SHOP, status: {sync: {phase: 'orders', percent: 40, started_at: '2026-11-20T10:00:00Z'}}};
    renderWithApp(<OverviewPage />, {api: fakeApi({'/api/overview': new ApiError('The shop has not been scored yet.', 404)}), shop});
    await waitFor(() => expect(pageState('overview')).toBe('empty'));
    expect(screen.getByText(/appear here by themselves/)).toBeInTheDocument();
    expect((screen.getByRole('progressbar') as HTMLProgressElement).value).toBe(40);
  });

  it('shows a scoring run in progress', async () => {
    const shop = {...SHOP, status: {sync: {phase: 'done'}, scoring: {state: 'running'}}};
    renderWithApp(<OverviewPage />, {api: fakeApi({'/api/overview': new ApiError('The shop has not been scored yet.', 404)}), shop});
    await waitFor(() => expect(pageState('overview')).toBe('empty'));
    // Work is under way, so the card says what comes, not the API's 404.
    expect(screen.getByText(/appear here by themselves/)).toBeInTheDocument();
    expect(screen.getByText(/Scoring your customers/)).toBeInTheDocument();
  });

  it('shows an error banner whose retry loads again', async () => {
    let fail = true;
    const api = fakeApi({'/api/overview': () => (fail ? new ApiError('Internal error.', 500, 'req-1') : OVERVIEW)});
    renderWithApp(<OverviewPage />, {api});
    await waitFor(() => expect(pageState('overview')).toBe('error'));
    expect(screen.getByText("Couldn't load overview")).toBeInTheDocument();
    expect(screen.getByText('Reference: req-1')).toBeInTheDocument();
    fail = false;
    await userEvent.click(screen.getByRole('button', {name: 'Try again'}));
    await waitFor(() => expect(pageState('overview')).toBe('ready'));
    expect(metric('customers')).toBe('4,338');
  });

  it('shows a progress bar while the history sync runs', async () => {
    const shop = {...SHOP, status: {sync: {phase: 'orders', rows_done: 300, rows_expected: 1200, started_at: '2026-11-20T10:00:00Z'}}};
    renderWithApp(<OverviewPage />, {api: fakeApi({'/api/overview': OVERVIEW}), shop});
    await waitFor(() => expect(pageState('overview')).toBe('ready'));
    const bar = screen.getByRole('progressbar');
    expect((bar as HTMLProgressElement).value).toBe(25);
    expect(screen.getByText(/25\.0% done · 300 of 1,200 records/)).toBeInTheDocument();
  });

  it('explains a fallback model', async () => {
    renderWithApp(<OverviewPage />, {
      api: fakeApi({'/api/overview': {...OVERVIEW, model: {name: 'empirical', fallback: true, reason: 'Too few repeat buyers.'}}}),
    });
    await waitFor(() => expect(pageState('overview')).toBe('ready'));
    expect(screen.getByText('Too few repeat buyers.')).toBeInTheDocument();
  });
});

const SEGMENTS = {
  scored_at: '2026-11-20T03:00:00Z',
  groups: [
    {slug: 'soulmates', name: 'Soulmates', tag: 'cvo-soulmates', segment_url: 'https://x.myshopify.com/admin/segments/1', customers: 120, share: 0.05, revenue_share: 0.4, aov: 88, avg_days_between_orders: 21, avg_historical_clv: 3000, avg_predicted_clv: 900, avg_p_alive: 0.97, meaning: 'Your best customers.', action: 'Reward them.'},
    {slug: 'break-up', name: 'Break-Up', customers: 900, share: 0.4, revenue_share: 0.05},
  ],
  grid: [{r: 5, f: 5, customers: 120}],
  movements: {previous_scored_at: '2026-11-19T03:00:00Z', transitions: [{from: 'lovers', to: 'soulmates', customers: 12}, {from: 'soulmates', to: 'soulmates', customers: 100}]},
};

describe('Segments', () => {
  it('lists the groups, the grid and the movements', async () => {
    renderWithApp(<SegmentsPage />, {api: fakeApi({'/api/segments': SEGMENTS})});
    await waitFor(() => expect(pageState('segments')).toBe('ready'));
    expect(screen.getByRole('heading', {name: 'Customer groups'})).toBeInTheDocument();
    expect(screen.getAllByText('£3,000.00').length).toBeGreaterThan(0);
    expect(screen.getByLabelText('Recency score 5, frequency score 5: 120 customers')).toBeInTheDocument();
    // Staying in the same group is not a movement.
    const moves = screen.getByRole('heading', {name: /movements/i}).closest('.Polaris-ShadowBevel') as HTMLElement;
    expect(within(moves).getAllByRole('row')).toHaveLength(2);
  });

  it('sorts the groups table from the keyboard', async () => {
    renderWithApp(<SegmentsPage />, {api: fakeApi({'/api/segments': SEGMENTS})});
    await waitFor(() => expect(pageState('segments')).toBe('ready'));
    const table = screen.getAllByRole('table')[0];
    const firstGroup = () => within(table).getAllByRole('row')[1].textContent;
    expect(firstGroup()).toMatch(/^Soulmates/);
    const sortButton = within(table).getByRole('button', {name: /customers/i});
    sortButton.focus();
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(firstGroup()).toMatch(/^Break-Up/));
  });

  it('exports a group as CSV through the authenticated client', async () => {
    const api = fakeApi({'/api/segments': SEGMENTS});
    const createObjectURL = vi.fn(() => 'blob:x');
    Object.assign(URL, {createObjectURL, revokeObjectURL: vi.fn()});
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    renderWithApp(<SegmentsPage />, {api});
    await waitFor(() => expect(pageState('segments')).toBe('ready'));
    await userEvent.click(screen.getByRole('button', {name: 'Export Soulmates customers as CSV'}));
    await waitFor(() => expect(click).toHaveBeenCalled());
    expect(api.download).toHaveBeenCalledWith('/api/segments/soulmates/export.csv');
    expect(createObjectURL).toHaveBeenCalled();
  });

  it('shows the empty state for a shop with no groups', async () => {
    renderWithApp(<SegmentsPage />, {api: fakeApi({'/api/segments': {groups: [], grid: []}})});
    await waitFor(() => expect(pageState('segments')).toBe('empty'));
  });
});

describe('Customers', () => {
  const page = (n: number, total = 60) => ({
    customers: [{id: n, name: `Customer on page ${n}`, group: 'soulmates', r: 5, f: 4, m: 3, historical_clv: 100, predicted_clv: 50.5, p_alive: 0.9, expected_next_order: '2026-12-01', admin_url: 'https://x/admin/customers/1'}],
    total,
    page: n,
    per_page: PER_PAGE,
  });

  it('pages through customers with the pagination buttons', async () => {
    const api = fakeApi({'/api/customers': (path: string) => page(Number(new URLSearchParams(path.split('?')[1]).get('page')))});
    renderWithApp(<CustomersPage />, {api});
    await screen.findByText('Customer on page 1');
    expect(screen.getByText('Page 1 of 3')).toBeInTheDocument();
    expect(metric('customers_total')).toBe('60');
    await userEvent.click(screen.getByRole('button', {name: 'Next page of customers'}));
    await screen.findByText('Customer on page 2');
    expect(api.calls.map((c) => c.path)).toContain(`/api/customers?page=2&per_page=${PER_PAGE}`);
    // The name opens the customer screen in the app; Shopify's page is linked from there.
    expect(screen.getByRole('link', {name: 'Customer on page 2'})).toHaveAttribute('href', expect.stringMatching(/^\/customers\/2(\?|$)/));
  });

  it('searches after typing stops and starts again at page 1', async () => {
    const api = fakeApi({'/api/customers': () => page(1, 1), '/api/segments': SEGMENTS});
    renderWithApp(<CustomersPage />, {api});
    await screen.findByText('Customer on page 1');
    fireEvent.change(screen.getByLabelText('Search customers'), {target: {value: 'ann'}});
    await waitFor(() => expect(api.calls.map((c) => c.path)).toContain(`/api/customers?q=ann&page=1&per_page=${PER_PAGE}`));
    await userEvent.selectOptions(screen.getByLabelText('Group'), 'soulmates');
    await waitFor(() =>
      expect(api.calls.map((c) => c.path)).toContain(`/api/customers?q=ann&group=soulmates&page=1&per_page=${PER_PAGE}`),
    );
  });

  it('caps the search beside the field and does not send it', async () => {
    const api = fakeApi({'/api/customers': () => page(1, 1)});
    renderWithApp(<CustomersPage />, {api});
    await screen.findByText('Customer on page 1');
    fireEvent.change(screen.getByLabelText('Search customers'), {target: {value: 'x'.repeat(10000)}});
    expect(await screen.findByText('Search is at most 200 characters; this has 10,000. Shorten it to search.')).toBeInTheDocument();
    await new Promise((r) => setTimeout(r, 400));
    expect(api.calls.some((c) => c.path.includes('q='))).toBe(false);
    expect(screen.queryByRole('button', {name: 'Try again'})).toBeNull();
  });

  it("shows the server's refusal of a search beside the field, with no useless retry", async () => {
    const api = fakeApi({
      '/api/customers': (path: string) =>
        path.includes('q=') ? new ApiError('Search contains control characters.', 400, 'r', 'q') : page(1, 1),
    });
    renderWithApp(<CustomersPage />, {api});
    await screen.findByText('Customer on page 1');
    fireEvent.change(screen.getByLabelText('Search customers'), {target: {value: 'a\u0007b'}});
    expect(await screen.findByText('Search contains control characters.')).toBeInTheDocument();
    expect(screen.getByLabelText('Search customers')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByRole('button', {name: 'Try again'})).toBeNull();
  });

  it('shows an error banner', async () => {
    renderWithApp(<CustomersPage />, {api: fakeApi({'/api/customers': new ApiError('Internal error.', 500)})});
    await waitFor(() => expect(pageState('customers')).toBe('error'));
    expect(screen.getByText("Couldn't load customers")).toBeInTheDocument();
  });
});

describe('Products', () => {
  it('marks rockstar and toxic products', async () => {
    renderWithApp(<ProductsPage />, {
      api: fakeApi({
        // The server's verdicts (the contract's): above is a rockstar, below toxic.
        '/api/products': {
          products: [
            {key: '1', title: 'Tea set', customers: 200, repurchase_rate: 0.6, baseline: 0.3, later_value: 120, p_value: 0.0001, verdict: 'above'},
            {key: '2', title: 'Gift card', customers: 150, repurchase_rate: 0.1, baseline: 0.3, later_value: 10, p_value: 0.02, verdict: 'below'},
          ],
          vendors: [],
        } satisfies Products,
      }),
    });
    await waitFor(() => expect(pageState('products')).toBe('ready'));
    expect(screen.getByText('Rockstar')).toBeInTheDocument();
    expect(screen.getByText('Toxic')).toBeInTheDocument();
    expect(screen.getByText('< 0.001')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', {name: 'Vendors'}));
    expect(screen.getByText('Nothing to show.')).toBeInTheDocument();
  });

  it('pages and filters thousands of products', async () => {
    const products = Array.from({length: 120}, (_, i) => ({key: String(i), title: `Product ${i}`, customers: 1000 - i}));
    renderWithApp(<ProductsPage />, {api: fakeApi({'/api/products': {products}})});
    await waitFor(() => expect(pageState('products')).toBe('ready'));
    expect(screen.getByText('1–50 of 120')).toBeInTheDocument();
    expect(screen.getByText('Product 0')).toBeInTheDocument();
    expect(screen.queryByText('Product 50')).toBeNull();
    await userEvent.click(screen.getByRole('button', {name: 'Next page of products'}));
    expect(screen.getByText('Product 50')).toBeInTheDocument();
    expect(screen.getByText('51–100 of 120')).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText('Filter products'), {target: {value: 'product 11'}});
    expect(screen.getByText('Product 110')).toBeInTheDocument();
    expect(screen.queryByText('Product 50')).toBeNull();
    expect(screen.queryByText(/of 120/)).toBeNull();
  });
});

describe('Cohorts', () => {
  it('switches the heatmap between retention and revenue', async () => {
    renderWithApp(<CohortsPage />, {
      api: fakeApi({'/api/cohorts': {monthly: [{cohort: '2011-01', customers: 10, retention: [1, 0.5], revenue: [100, 40]}], by_source: [{key: 'google', customers: 5, repeat_rate: 0.2, avg_later_value: 30}]}}),
    });
    await waitFor(() => expect(pageState('cohorts')).toBe('ready'));
    expect(screen.getByLabelText('Cohort Jan 2011, month 1: 50.0% of customers ordered')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', {name: 'Revenue'}));
    expect(screen.getByLabelText('Cohort Jan 2011, month 1: £40.00 revenue')).toBeInTheDocument();
    expect(screen.getByText('google')).toBeInTheDocument();
  });
});

describe('Insights', () => {
  it('draws the Pareto curve with a text alternative and renders free-form ICP sections', async () => {
    renderWithApp(<InsightsPage />, {
      api: fakeApi({
        '/api/insights': {
          pareto: {top20_revenue_share: 0.74, top20_margin_share: 0.7, curve: [{customers_share: 0, revenue_share: 0}, {customers_share: 0.2, revenue_share: 0.74}, {customers_share: 1, revenue_share: 1}]},
          anomalies: [{kind: 'revenue', key: 'all', month: '2011-09', value: 1200, expected: 800, score: 3.1, note: 'Spike'}],
          icp: {countries: [{country: 'United Kingdom', share: 0.8}], weekdays: {Thursday: 0.22}},
          backtest: {horizon: 90, overall: {predicted_orders: 1000, actual_orders: 950, mae: 0.8, correlation: 0.71}},
        },
      }),
    });
    await waitFor(() => expect(pageState('insights')).toBe('ready'));
    expect(metric('top20_revenue_share')).toBe('74.0%');
    const pareto = screen.getByRole('group', {name: /cumulative revenue share/i});
    await userEvent.click(within(pareto.parentElement as HTMLElement).getByRole('button', {name: 'Show data table'}));
    expect(screen.getByRole('table', {name: /cumulative revenue share/i})).toHaveTextContent('20.0%74.0%');
    expect(screen.getByText('United Kingdom')).toBeInTheDocument();
    expect(screen.getAllByText('80.0%').some((el) => el.tagName === 'TD')).toBe(true);
    expect(screen.getByText(/^Sept? 2011$/)).toBeInTheDocument();
    expect(metric('backtest_correlation')).toBe('0.71');
    expect(screen.getByText(/last 90 days/)).toBeInTheDocument();
  });
});

describe('Insights from the scoring shapes', () => {
  it('renders the top-versus-rest profile and the camelCase backtest', async () => {
    renderWithApp(<InsightsPage />, {
      api: fakeApi({
        '/api/insights': {
          pareto: {top20_revenue_share: 0.5, curve: []},
          anomalies: null,
          icp: {
            topGroups: ['soulmates'],
            top: {customers: 12, countries: [{key: 'FR', label: 'France', customers: 6, share: 0.5, otherShare: 0.1}], weekdays: [0, 0.5, 0.5, 0, 0, 0, 0], hours: Array(24).fill(1 / 24)},
            rest: {customers: 88, weekdays: [0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1], hours: Array(24).fill(1 / 24)},
          },
          backtest: {holdoutMonths: 3, overall: {customers: 90, predictedOrders: 41.26, actualOrders: 40, ordersMae: 0.42, ordersCorrelation: 0.58}, groups: [{group: 'soulmates', predictedOrders: 12}]},
        },
      }),
    });
    await waitFor(() => expect(pageState('insights')).toBe('ready'));
    expect(screen.getByText(/Customers in Soulmates \(12\) compared with everyone else \(88\)/)).toBeInTheDocument();
    expect(screen.getByText('France')).toBeInTheDocument();
    expect(screen.getByLabelText('Best customers, weekday Mon: 50.0% of purchases')).toBeInTheDocument();
    expect(screen.getByRole('grid', {name: /by hour of day/})).toBeInTheDocument();
    expect(metric('backtest_predicted')).toBe('41.26');
    expect(screen.getByRole('group', {name: /predicted and actual orders by group/i})).toBeInTheDocument();
    expect(metric('backtest_correlation')).toBe('0.58');
    expect(screen.getByText(/last 3 months/)).toBeInTheDocument();
    expect(screen.getByText('Nothing unusual found.')).toBeInTheDocument();
  });
});

describe('Settings', () => {
  const SETTINGS = {
    tag_prefix: 'cvo-',
    groups_enabled: null,
    value_tags: {predicted_value_tier: true, churn_risk: false},
    metafields: true,
    cac: 12.5,
    default_margin: 0.45,
    refund_dating: 'refund_date',
    schedule: {nightly_hour: 3},
  };

  it('saves edits in the server shape', async () => {
    const api = fakeApi({'/api/settings': SETTINGS, 'PUT /api/settings': (_p: string, body: unknown) => body});
    renderWithApp(<SettingsPage />, {api});
    await waitFor(() => expect(pageState('settings')).toBe('ready'));
    expect(screen.getByLabelText('Default margin')).toHaveValue('45');
    const save = screen.getByRole('button', {name: 'Save'});
    expect(save).toHaveAttribute('aria-disabled', 'true');

    fireEvent.change(screen.getByLabelText('Default margin'), {target: {value: '35'}});
    await userEvent.click(screen.getByLabelText('Tag churn risk'));
    expect(screen.getByLabelText('Share survey links with email apps')).not.toBeChecked();
    await userEvent.click(screen.getByLabelText('Share survey links with email apps'));
    await userEvent.selectOptions(screen.getByLabelText('Rescore every night at'), '4');
    await userEvent.click(screen.getByRole('button', {name: 'Save'}));

    await waitFor(() => expect(api.calls.some((c) => c.method === 'PUT')).toBe(true));
    const body = api.calls.find((c) => c.method === 'PUT')!.body as Record<string, unknown>;
    expect(body).toMatchObject({
      tag_prefix: 'cvo-',
      groups_enabled: null,
      default_margin: 0.35,
      cac: 12.5,
      value_tags: {predicted_value_tier: true, churn_risk: true},
      schedule: {nightly_hour: 4},
      share_survey_links: true,
    });
  });

  it('shows a refusal by the server beside its field, in the unit shown, near Save', async () => {
    const api = fakeApi({
      '/api/settings': SETTINGS,
      'PUT /api/settings': new ApiError('Default margin must be above 0 and at most 1 (e.g. 0.45 for 45%).', 400, 'r', 'default_margin'),
    });
    renderWithApp(<SettingsPage />, {api});
    await waitFor(() => expect(pageState('settings')).toBe('ready'));
    fireEvent.change(screen.getByLabelText('Default margin'), {target: {value: '35'}});
    await userEvent.click(screen.getByRole('button', {name: 'Save'}));
    const margin = screen.getByLabelText('Default margin');
    await waitFor(() => expect(margin).toHaveAttribute('aria-invalid', 'true'));
    expect(document.getElementById(margin.getAttribute('aria-describedby')!.split(' ')[0])).toHaveTextContent('Enter a margin above 0 and at most 100%.');
    expect(screen.queryByText(/at most 1 \(e\.g\./)).toBeNull();
    expect(screen.getByText('Correct the fields marked above to save.')).toBeInTheDocument();
    // Editing the field clears the server's refusal.
    fireEvent.change(margin, {target: {value: '36'}});
    await waitFor(() => expect(margin).not.toHaveAttribute('aria-invalid', 'true'));
  });

  it('refuses 1e3 beside the field instead of saving 1000', async () => {
    const api = fakeApi({'/api/settings': SETTINGS, 'PUT /api/settings': (_p: string, body: unknown) => body});
    renderWithApp(<SettingsPage />, {api});
    await waitFor(() => expect(pageState('settings')).toBe('ready'));
    fireEvent.change(screen.getByLabelText('Customer acquisition cost (CAC)'), {target: {value: '1e3'}});
    expect(await screen.findByText(/exponent notation/)).toBeInTheDocument();
    expect(screen.getByRole('button', {name: 'Save'})).toHaveAttribute('aria-disabled', 'true');
  });

  it('refuses an invalid tag prefix', async () => {
    renderWithApp(<SettingsPage />, {api: fakeApi({'/api/settings': SETTINGS})});
    await waitFor(() => expect(pageState('settings')).toBe('ready'));
    fireEvent.change(screen.getByLabelText('Tag prefix'), {target: {value: 'Bad Prefix'}});
    expect(await screen.findByText(/lower-case letters/)).toBeInTheDocument();
    expect(screen.getByRole('button', {name: 'Save'})).toHaveAttribute('aria-disabled', 'true');
  });

  it('starts a rescore and reports its state', async () => {
    const show = vi.fn();
    window.shopify = {idToken: async () => 't', toast: {show}};
    const api = fakeApi({'/api/settings': SETTINGS, 'POST /api/actions/rescore': {state: 'queued'}});
    renderWithApp(<SettingsPage />, {api});
    await waitFor(() => expect(pageState('settings')).toBe('ready'));
    await act(async () => {
      await userEvent.click(screen.getByRole('button', {name: 'Rescore now'}));
    });
    await waitFor(() => expect(show).toHaveBeenCalledWith('Rescore: queued', undefined));
  });
});

describe('labels', () => {
  it('formats anomalies by what they measure', () => {
    expect(anomalyValue(fmtGB, {kind: 'revenue', month: '2026-09'}, 1038598.41)).toBe('£1,038,598.41');
    expect(anomalyValue(fmtGB, {kind: 'returning_share', month: '2026-04'}, 0.72)).toBe('72.0%');
    expect(anomalyValue(fmtGB, {kind: 'vendor', key: 'Albion Giftware'}, 0.63)).toBe('63.0%');
    expect(anomalyValue(fmtGB, {kind: 'new_customers', month: '2026-04'}, 264)).toBe('264');
  });

  it('names the models', () => {
    expect(modelName('mbgnbd')).toBe('MBG/NBD');
    expect(modelName('something-new')).toBe('something-new');
    expect(modelName(undefined)).toBe('—');
  });
});
