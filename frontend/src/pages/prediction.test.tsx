import {fireEvent, screen, waitFor, within} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {describe, expect, it} from 'vitest';

import {fakeApi, renderWithApp} from '../test/render';
import {CustomersPage, PER_PAGE} from './Customers';
import {InsightsPage} from './Insights';
import {SegmentsPage} from './Segments';
import {SettingsPage} from './Settings';

const pageState = (name: string) => document.querySelector(`[data-page="${name}"]`)?.getAttribute('data-state');
const metric = (id: string) => document.querySelector(`[data-metric="${id}"]`)?.textContent;

const candidates = [
  {name: 'bgnbd', baseline: false, logLoss: 0, brier: 0, auc: 0, meanRaw: 0, error: 'clv: fit did not converge: parameters diverged'},
  {name: 'mbgnbd', baseline: false, logLoss: 0.41, brier: 0.13, auc: 0.74, meanRaw: 0.2},
  {name: 'features', baseline: false, logLoss: 0.395, brier: 0.121, auc: 0.746, meanRaw: 0.2},
  {name: 'average', baseline: true, logLoss: 0.4615, brier: 0.1434, auc: 0.5, meanRaw: 0.5},
  {name: 'recency', baseline: true, logLoss: 0.42, brier: 0.1302, auc: 0.7266, meanRaw: 0.13},
];

const prediction = (beats: boolean) => ({
  windowDays: 60,
  model: beats ? 'features' : 'recency',
  beatsBaselines: beats,
  reason: beats ? 'The recency, frequency, age and spend model predicted who ordered best.' : 'No model beat the baselines on the last 60 days.',
  cutoff: '2026-09-01T00:00:00Z',
  asOf: '2026-10-31T00:00:00Z',
  candidates,
  calibration: {a: 0, b: 1},
  holdoutCustomers: 2000,
  holdoutShare: 0.1735,
  meanPredicted: 0.1735,
  deciles: Array.from({length: 10}, (_, i) => ({customers: 200, predicted: 0.02 + i * 0.05, actual: 0.01 + i * 0.05})),
  groups: [
    {group: 'soulmates', customers: 100, predicted: 0.6, actual: 0.58},
    {group: 'break-up', customers: 900, predicted: 0.03, actual: 0.04},
  ],
  thresholds: {high: 0.1, medium: 0.3},
  churnCounts: {low: 10, medium: 20, high: 30},
});

describe('The chance to order on Insights', () => {
  it('says which model won, shows its scores against the baselines and the calibration by decile and group', async () => {
    renderWithApp(<InsightsPage />, {api: fakeApi({'/api/insights': {prediction: prediction(true)}})});
    await waitFor(() => expect(pageState('insights')).toBe('ready'));
    expect(screen.getByRole('heading', {name: 'Chance to order in the next 60 days: does it hold up?'})).toBeInTheDocument();
    expect(screen.getByText('Recency, frequency, age and spend predicts best on this shop\'s history')).toBeInTheDocument();
    expect(metric('prediction_auc')).toBe('0.746');
    expect(metric('prediction_brier')).toBe('0.1210');
    expect(metric('prediction_baseline_recency')).toBe('0.727, 0.1302');
    expect(metric('prediction_actual_share')).toBe('17.4%');
    expect(metric('prediction_mean')).toBe('17.4%');
    // The failed fit is listed with its reason, never hidden.
    const failed = document.querySelector('[data-candidate="bgnbd"]')!.closest('tr') as HTMLElement;
    expect(within(failed).getByText('Not used: The fit did not converge')).toBeInTheDocument();
    expect(document.querySelector('[data-candidate-error="bgnbd"]')).toHaveTextContent('BG/NBD was not used: clv: fit did not converge: parameters diverged');
    expect(document.querySelector('[data-candidate="features"]')).toHaveTextContent('(used)');
    // Each chart has its data table.
    const toggles = screen.getAllByRole('button', {name: 'Show data table'});
    for (const t of toggles) await userEvent.click(t);
    expect(screen.getByRole('table', {name: /by tenth of the prediction/})).toHaveTextContent('10');
    expect(screen.getByRole('table', {name: /by group/})).toHaveTextContent('Break-Up');
  });

  it('says plainly when no model beat the baselines', async () => {
    renderWithApp(<InsightsPage />, {api: fakeApi({'/api/insights': {prediction: prediction(false)}})});
    await waitFor(() => expect(pageState('insights')).toBe('ready'));
    expect(screen.getByText('No model beat the simple baselines')).toBeInTheDocument();
    expect(document.querySelector('[data-prediction="reason"]')).toHaveTextContent('No model beat the baselines on the last 60 days.');
    expect(document.querySelector('[data-candidate="recency"]')).toHaveTextContent('(used)');
  });

  it('explains a scoring made before the check existed', async () => {
    renderWithApp(<InsightsPage />, {api: fakeApi({'/api/insights': {prediction: null, pareto: {top20_revenue_share: 0.5, curve: []}}})});
    await waitFor(() => expect(pageState('insights')).toBe('ready'));
    expect(screen.getByText(/The next scoring checks the chance to order/)).toBeInTheDocument();
  });
});

describe('The chance to order on the lists', () => {
  it('is the headline column of the customers, with the churn risk', async () => {
    const api = fakeApi({
      '/api/customers': {
        window_days: 90,
        customers: [
          {id: '1', name: 'Ann', group: 'soulmates', p_order_window: 0.8123, churn_risk: 'low', p_alive: 0.99},
          {id: '2', name: 'Bob', group: 'break-up', p_order_window: 0.05, churn_risk: 'high', p_alive: 0.99},
          {id: '3', name: 'Cy', group: 'break-up', p_order_window: 0.05, churn_risk: ''},
        ],
        total: 3,
        page: 1,
        per_page: PER_PAGE,
      },
    });
    renderWithApp(<CustomersPage />, {api});
    await screen.findByText('Ann');
    expect(screen.getByRole('columnheader', {name: /Chance to order in the next 90 days/})).toBeInTheDocument();
    expect(screen.queryByRole('columnheader', {name: /P\(alive\)/})).toBeNull();
    const ann = screen.getByText('Ann').closest('tr') as HTMLElement;
    expect(within(ann).getByText('81.2%')).toBeInTheDocument();
    expect(within(ann).getByText('Low')).toBeInTheDocument();
    expect(within(screen.getByText('Bob').closest('tr') as HTMLElement).getByText('High')).toBeInTheDocument();
    expect((screen.getByText('Cy').closest('tr') as HTMLElement).querySelector('[data-cell="churn_risk"]')).toHaveTextContent(/^—$/);
  });

  it('is the mean per group on Segments', async () => {
    const segments = {
      window_days: 30,
      groups: [
        {slug: 'soulmates', name: 'Soulmates', customers: 120, avg_p_order_window: 0.64, avg_p_alive: 0.999},
        {slug: 'break-up', name: 'Break-Up', customers: 900, avg_p_order_window: 0.031, avg_p_alive: 0.999},
      ],
      grid: [{r: 5, f: 5, customers: 120}],
    };
    renderWithApp(<SegmentsPage />, {api: fakeApi({'/api/segments': segments})});
    await waitFor(() => expect(pageState('segments')).toBe('ready'));
    expect(screen.getByRole('columnheader', {name: /Chance to order in the next 30 days/})).toBeInTheDocument();
    const breakUp = document.querySelector('[data-group="break-up"]')!.closest('tr') as HTMLElement;
    expect(within(breakUp).getByText('3.1%')).toBeInTheDocument();
    expect(within(breakUp).queryByText('99.9%')).toBeNull();
  });
});

describe('Prediction settings', () => {
  it('saves the window and thresholds and keeps them on other edits', async () => {
    const settings = {
      tag_prefix: 'cvo-',
      groups_enabled: null,
      value_tags: {predicted_value_tier: false, churn_risk: true},
      metafields: true,
      cac: 0,
      default_margin: 0.3,
      refund_dating: 'refund_date',
      schedule: {nightly_hour: 3},
      prediction: {window_days: 60, churn_risk_high: 0.05, churn_risk_medium: 0.2},
    };
    const api = fakeApi({'/api/settings': settings, 'PUT /api/settings': (_p: string, body: unknown) => body});
    renderWithApp(<SettingsPage />, {api});
    await waitFor(() => expect(pageState('settings')).toBe('ready'));
    expect(screen.getByLabelText('Chance to order within')).toHaveValue(60);
    fireEvent.change(screen.getByLabelText('High churn risk below'), {target: {value: '50'}});
    expect(await screen.findByText('Must be at least the high-risk threshold.')).toBeInTheDocument();
    expect(screen.getByRole('button', {name: 'Save'})).toHaveAttribute('aria-disabled', 'true');
    fireEvent.change(screen.getByLabelText('High churn risk below'), {target: {value: '8'}});
    fireEvent.change(screen.getByLabelText('Chance to order within'), {target: {value: '30'}});
    await userEvent.click(screen.getByRole('button', {name: 'Save'}));
    await waitFor(() => expect(api.calls.some((c) => c.method === 'PUT')).toBe(true));
    const body = api.calls.find((c) => c.method === 'PUT')!.body as Record<string, unknown>;
    expect(body.prediction).toEqual({window_days: 30, churn_risk_high: 0.08, churn_risk_medium: 0.2});
  });
});
