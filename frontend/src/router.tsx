// A small client-side router. Navigation keeps the query string, because
// Shopify's parameters (shop, host, locale, embedded) must survive a reload
// of any page. App Bridge's admin navigation changes the URL with the
// History API and fires popstate, which this router follows.

import {useSyncExternalStore} from 'react';

export interface Route {
  path: string;
  label: string;
}

export const ROUTES: Route[] = [
  {path: '/', label: 'Overview'},
  {path: '/segments', label: 'Segments'},
  {path: '/cohorts', label: 'Cohorts'},
  {path: '/lifetime-value', label: 'Lifetime value'},
  {path: '/products', label: 'Products'},
  {path: '/customers', label: 'Customers'},
  {path: '/insights', label: 'Insights'},
  {path: '/settings', label: 'Settings'},
  {path: '/surveys', label: 'Surveys'},
];

const NAVIGATE_EVENT = 'cvo:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

export function normalizePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

export function usePath(): string {
  return useSyncExternalStore(
    subscribe,
    () => normalizePath(window.location.pathname),
    () => '/',
  );
}

export function navigate(path: string): void {
  const target = normalizePath(path) + window.location.search;
  if (target === window.location.pathname + window.location.search) return;
  window.history.pushState(null, '', target);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

// hrefWithQuery gives a link target that keeps Shopify's query parameters.
export function hrefWithQuery(path: string): string {
  return normalizePath(path) + window.location.search;
}

// routeIndex is the tab a path belongs to: its own, or for a detail screen
// such as /customers/123 the list it opens from.
export function routeIndex(path: string): number {
  const p = normalizePath(path);
  const exact = ROUTES.findIndex((r) => r.path === p);
  if (exact >= 0) return exact;
  return ROUTES.findIndex((r) => r.path !== '/' && p.startsWith(r.path + '/'));
}

// customerPath is the customer screen of one customer.
export function customerPath(id: string): string {
  return `/customers/${encodeURIComponent(id)}`;
}

// customerIdOf reads the customer id of a customer screen's path, or
// undefined for any other path. Ids are Shopify's numeric ids.
export function customerIdOf(path: string): string | undefined {
  const m = /^\/customers\/(\d{1,19})$/.exec(normalizePath(path));
  return m ? m[1] : undefined;
}
