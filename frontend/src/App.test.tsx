import {AppProvider} from '@shopify/polaris';
import en from '@shopify/polaris/locales/en.json';
import {act, render, screen, waitFor, within} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {describe, expect, it, vi} from 'vitest';

import {App, currentLocale} from './App';
import {ApiError, createApiClient} from './api/client';
import {FAILED_POLL_MS, POLL_MS} from './sync';
import {sessionToken} from './appBridge';
import {SHOP, fakeApi} from './test/render';

function renderApp(api: Parameters<typeof App>[0]['api']) {
  return render(
    <AppProvider i18n={en}>
      <App api={api} />
    </AppProvider>,
  );
}

const pageState = (name: string) => document.querySelector(`[data-page="${name}"]`)?.getAttribute('data-state');

describe('App', () => {
  it('opens on the overview and navigates with the in-page tabs, keeping the query', async () => {
    window.history.replaceState(null, '', '/?shop=cvo-demo.myshopify.com&host=abc');
    const api = fakeApi({'/api/shop': SHOP, '/api/overview': {customers: 3}, '/api/segments': {groups: [{slug: 'lovers', name: 'Lovers', customers: 2}]}});
    renderApp(api);
    await waitFor(() => expect(pageState('overview')).toBe('ready'));
    // The nav menu's own links are for App Bridge; the page's are in its nav.
    const nav = within(screen.getByRole('navigation', {name: 'App pages'}));

    await userEvent.click(nav.getByRole('link', {name: 'Segments'}));
    await waitFor(() => expect(pageState('segments')).toBe('ready'));
    expect(window.location.pathname).toBe('/segments');
    expect(window.location.search).toBe('?shop=cvo-demo.myshopify.com&host=abc');
    expect(nav.getByRole('link', {name: 'Segments'})).toHaveAttribute('aria-current', 'page');
    expect(nav.getByRole('link', {name: 'Overview'})).not.toHaveAttribute('aria-current');
    expect(nav.getByRole('link', {name: 'Cohorts'})).toHaveAttribute('href', '/cohorts?shop=cvo-demo.myshopify.com&host=abc');
  });

  it('renders the App Bridge nav menu for the admin sidebar', async () => {
    renderApp(fakeApi({'/api/shop': SHOP, '/api/overview': {}}));
    const menu = document.querySelector('ui-nav-menu')!;
    expect(menu).not.toBeNull();
    const links = Array.from(menu.querySelectorAll('a'));
    expect(links[0]).toHaveAttribute('rel', 'home');
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['/', '/segments', '/cohorts', '/lifetime-value', '/products', '/customers', '/insights', '/settings', '/surveys']);
  });

  it('opens deep links and shows not-found for unknown paths', async () => {
    window.history.replaceState(null, '', '/nowhere');
    renderApp(fakeApi({'/api/shop': SHOP}));
    expect(await screen.findByText('There is no page here')).toBeInTheDocument();
  });

  it('explains when App Bridge is missing instead of calling the API without a token', async () => {
    const fetchMock = vi.fn();
    renderApp(createApiClient({getToken: sessionToken, fetch: fetchMock as typeof fetch}));
    await waitFor(() => expect(pageState('app')).toBe('error'));
    expect(screen.getByText(/App Bridge did not load/)).toBeInTheDocument();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('polls the shop while the sync runs and stops when it finishes', async () => {
    vi.useFakeTimers({shouldAdvanceTime: true});
    try {
      let n = 0;
      const api = fakeApi({
        '/api/shop': () => {
          n++;
          // The server sends the sync's fields flat in status (a resync of
          // a shop scored before).
          return n < 3
            ? {...SHOP, status: {phase: 'orders', percent: n * 30, started_at: '2026-11-20T10:00:00Z', scoring: {state: 'succeeded', last_scored_at: '2026-11-19T02:00:00Z'}}}
            : {...SHOP, status: {phase: 'done', percent: 100, finished_at: '2026-11-20T10:05:00Z', scoring: {state: 'succeeded', last_scored_at: '2026-11-19T02:00:00Z'}}};
        },
        '/api/overview': {customers: 5},
      });
      renderApp(api);
      await waitFor(() => expect(screen.getByRole('progressbar')).toBeInTheDocument());
      await act(async () => {
        await vi.advanceTimersByTimeAsync(3100);
      });
      await act(async () => {
        await vi.advanceTimersByTimeAsync(3100);
      });
      await waitFor(() => expect(screen.queryByRole('progressbar')).toBeNull());
      const shopCalls = () => api.calls.filter((c) => c.path === '/api/shop').length;
      expect(shopCalls()).toBe(3);
      await act(async () => {
        await vi.advanceTimersByTimeAsync(10000);
      });
      expect(shopCalls()).toBe(3);
      // The overview reloads once the sync is done.
      expect(api.calls.filter((c) => c.path === '/api/overview').length).toBeGreaterThan(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('App from install to the first figures', () => {
  it('polls from the very first answer after install and shows the data without a reload', async () => {
    vi.useFakeTimers({shouldAdvanceTime: true});
    try {
      // What GET /api/shop answers, one after another, from install on.
      const answers = [
        {stage: 'sync_queued', sync: {phase: '', mode: '', rows_done: 0, rows_expected: 0}, scoring: {state: 'none'}},
        {stage: 'syncing', sync: {phase: 'exporting', rows_done: 0, rows_expected: 0, percent: 0, started_at: '2026-11-20T10:00:00Z'}, scoring: {state: 'none'}},
        {stage: 'syncing', sync: {phase: 'importing', rows_done: 4000, rows_expected: 20000, percent: 20, started_at: '2026-11-20T10:00:00Z'}, scoring: {state: 'none'}},
        {stage: 'syncing', sync: {phase: 'importing', rows_done: 8000, rows_expected: 20000, percent: 40, started_at: '2026-11-20T10:00:00Z'}, scoring: {state: 'none'}},
        {stage: 'scoring_queued', sync: {phase: 'done', rows_done: 20000, rows_expected: 20000, percent: 100, finished_at: '2026-11-20T10:01:00Z'}, scoring: {state: 'none'}},
        {stage: 'scoring', sync: {phase: 'done', rows_done: 20000, rows_expected: 20000, percent: 100, finished_at: '2026-11-20T10:01:00Z'}, scoring: {state: 'running'}},
        {
          stage: 'ready',
          sync: {phase: 'done', rows_done: 20000, rows_expected: 20000, percent: 100, finished_at: '2026-11-20T10:01:00Z'},
          scoring: {state: 'succeeded', last_scored_at: '2026-11-20T10:01:10Z'},
        },
      ];
      let n = 0;
      const scored = () => n >= answers.length;
      const api = fakeApi({
        '/api/shop': () => ({...SHOP, status: answers[Math.min(n++, answers.length - 1)]}),
        '/api/overview': () => (scored() ? {customers: 4372} : new ApiError('The shop has not been scored yet.', 404)),
      });
      renderApp(api);
      const progress = () => document.querySelector('[data-progress]')?.getAttribute('data-progress');
      const tick = () =>
        act(async () => {
          await vi.advanceTimersByTimeAsync(POLL_MS + 100);
        });

      // The first answer reports no sync or scoring running; the page still
      // says what happens and keeps asking.
      await waitFor(() => expect(progress()).toBe('sync_queued'));
      expect(screen.getByText(/The import starts in a moment/)).toBeInTheDocument();
      expect(screen.getByText(/appear here by themselves/)).toBeInTheDocument();
      await tick();
      await waitFor(() => expect(progress()).toBe('syncing'));
      expect(screen.getByText('Shopify is preparing your data')).toBeInTheDocument();
      await tick();
      await waitFor(() => expect(screen.getByText(/20\.0% done · 4,000 of 20,000 records/)).toBeInTheDocument());
      await tick();
      // Two answers with rows give a rate: 4,000 rows in about 3 s, 12,000 to go.
      await waitFor(() => expect(screen.getByText(/8,000 of 20,000 records · less than a minute left/)).toBeInTheDocument());
      await tick();
      await waitFor(() => expect(progress()).toBe('scoring_queued'));
      await tick();
      await waitFor(() => expect(progress()).toBe('scoring'));
      await tick();
      await waitFor(() => expect(pageState('overview')).toBe('ready'));
      expect(document.querySelector('[data-metric="customers"]')).toHaveTextContent('4,372');
      expect(progress()).toBeUndefined();

      // Figures exist: no more polling.
      const shopCalls = () => api.calls.filter((c) => c.path === '/api/shop').length;
      const calls = shopCalls();
      await act(async () => {
        await vi.advanceTimersByTimeAsync(30000);
      });
      expect(shopCalls()).toBe(calls);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps asking, slowly, after a failure so a retry that succeeds shows by itself', async () => {
    vi.useFakeTimers({shouldAdvanceTime: true});
    try {
      let n = 0;
      const api = fakeApi({
        '/api/shop': () =>
          n++ === 0
            ? {...SHOP, status: {stage: 'sync_failed', sync: {phase: 'failed', error: 'Shopify refused the bulk query.'}, scoring: {state: 'none'}}}
            : {...SHOP, status: {stage: 'syncing', sync: {phase: 'importing', rows_done: 10, rows_expected: 100, started_at: '2026-11-20T10:00:00Z'}, scoring: {state: 'none'}}},
        '/api/overview': new ApiError('The shop has not been scored yet.', 404),
      });
      renderApp(api);
      await waitFor(() => expect(screen.getByText('Shopify refused the bulk query.')).toBeInTheDocument());
      await act(async () => {
        await vi.advanceTimersByTimeAsync(POLL_MS + 100);
      });
      expect(api.calls.filter((c) => c.path === '/api/shop')).toHaveLength(1);
      await act(async () => {
        await vi.advanceTimersByTimeAsync(FAILED_POLL_MS);
      });
      await waitFor(() => expect(document.querySelector('[data-progress="syncing"]')).not.toBeNull());
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('currentLocale', () => {
  it("prefers App Bridge's locale, then Shopify's ?locale=, then the browser", () => {
    window.history.replaceState(null, '', '/?locale=de-DE');
    expect(currentLocale()).toBe('de-DE');
    window.shopify = {idToken: async () => 't', config: {locale: 'fr-FR'}};
    expect(currentLocale()).toBe('fr-FR');
    delete window.shopify;
    window.history.replaceState(null, '', '/');
    expect(currentLocale()).toBe(navigator.language);
  });
});
