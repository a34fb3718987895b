import {Page} from '@shopify/polaris';
import type {ReactNode} from 'react';
import {useCallback, useEffect, useMemo, useRef, useState} from 'react';

import type {ApiClient} from './api/client';
import {readShop} from './api/normalize';
import type {ShopInfo} from './api/types';
import {appBridge} from './appBridge';
import {ErrorBanner, LoadingPage, PageFrame} from './components/PageState';
import {PageTabs} from './components/PageTabs';
import {AppContext} from './context';
import {Formatter, pickLocale} from './format';
import {CohortsPage} from './pages/Cohorts';
import {CustomerPage} from './pages/Customer';
import {CustomersPage} from './pages/Customers';
import {InsightsPage} from './pages/Insights';
import {LifetimeValuePage} from './pages/LifetimeValue';
import {NotFoundPage} from './pages/NotFound';
import {OverviewPage} from './pages/Overview';
import {ProductsPage} from './pages/Products';
import {SegmentsPage} from './pages/Segments';
import {SettingsPage} from './pages/Settings';
import {SurveysPage} from './pages/Surveys';
import {ROUTES, customerIdOf, routeIndex, usePath} from './router';
import {dataVersion, pollDelay} from './sync';

export function currentLocale(): string {
  const query = new URLSearchParams(window.location.search).get('locale');
  return pickLocale([appBridge()?.config?.locale, query, navigator.language]);
}

function pageFor(path: string): ReactNode {
  const customer = customerIdOf(path);
  if (customer) return <CustomerPage id={customer} />;
  switch (path) {
    case '/':
      return <OverviewPage />;
    case '/segments':
      return <SegmentsPage />;
    case '/cohorts':
      return <CohortsPage />;
    case '/lifetime-value':
      return <LifetimeValuePage />;
    case '/products':
      return <ProductsPage />;
    case '/customers':
      return <CustomersPage />;
    case '/insights':
      return <InsightsPage />;
    case '/settings':
      return <SettingsPage />;
    case '/surveys':
      return <SurveysPage />;
    default:
      return <NotFoundPage />;
  }
}

// AppNavMenu configures the admin's sidebar through App Bridge. It renders
// nothing in the page itself (CSS hides it where App Bridge is absent).
function AppNavMenu() {
  return (
    <ui-nav-menu>
      <a href="/" rel="home">
        Overview
      </a>
      {ROUTES.slice(1).map((r) => (
        <a key={r.path} href={r.path}>
          {r.label}
        </a>
      ))}
    </ui-nav-menu>
  );
}

export function App({api}: {api: ApiClient}) {
  const path = usePath();
  const [shop, setShop] = useState<ShopInfo>();
  const [error, setError] = useState<Error>();
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);

  const reloadShop = useCallback(async () => {
    try {
      const {data} = await api.typed.GET('/shop');
      setShop(readShop(data));
      setError(undefined);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    }
  }, [api]);

  useEffect(() => {
    void reloadShop();
  }, [reloadShop]);

  // Poll the shop's status from the first answer after install until its
  // figures exist (the sync is only queued then, so nothing is reported
  // running yet), and later while a sync or scoring runs, so the progress
  // moves and the pages reload when it finishes.
  const delay = pollDelay(shop);
  useEffect(() => {
    if (delay === undefined) return undefined;
    timer.current = setTimeout(() => void reloadShop(), delay);
    return () => clearTimeout(timer.current);
  }, [delay, shop, reloadShop]);

  const fmt = useMemo(() => new Formatter(currentLocale(), shop?.currency, shop?.timezone), [shop?.currency, shop?.timezone]);
  const version = dataVersion(shop?.status?.sync, shop?.status?.scoring);
  const ctx = useMemo(() => (shop ? {api, fmt, shop, reloadShop, version} : null), [api, fmt, shop, reloadShop, version]);

  const selected = routeIndex(path);

  let body: ReactNode;
  if (error && !shop) {
    body = (
      <PageFrame name="app" state="error">
        <Page title="Customer Value Optimization">
          <ErrorBanner title="Couldn't open the app" error={error} onRetry={() => void reloadShop()} />
        </Page>
      </PageFrame>
    );
  } else if (!ctx) {
    body = (
      <PageFrame name="app" state="loading">
        <LoadingPage title={ROUTES[selected]?.label ?? 'Customer Value Optimization'} />
      </PageFrame>
    );
  } else {
    body = <AppContext.Provider value={ctx}>{pageFor(path)}</AppContext.Provider>;
  }

  return (
    <>
      <AppNavMenu />
      <PageTabs path={path} />
      <main id="cvo-page">{body}</main>
    </>
  );
}
