import {AppProvider} from '@shopify/polaris';
import en from '@shopify/polaris/locales/en.json';
import {act, render, screen, waitFor, within} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {describe, expect, it, vi} from 'vitest';

import {App, currentLocale} from './App';
import {createApiClient} from './api/client';
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
          // The server sends the sync's fields flat in status.
          return n < 3
            ? {...SHOP, status: {phase: 'orders', percent: n * 30, started_at: '2026-11-20T10:00:00Z', scoring: {state: 'none'}}}
            : {...SHOP, status: {phase: 'done', percent: 100, finished_at: '2026-11-20T10:05:00Z', scoring: {state: 'none'}}};
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
