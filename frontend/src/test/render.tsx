import {AppProvider} from '@shopify/polaris';
import en from '@shopify/polaris/locales/en.json';
import {render} from '@testing-library/react';
import type {ReactElement} from 'react';
import {vi} from 'vitest';

import type {ApiClient} from '../api/client';
import {ApiError, typedClient} from '../api/client';
import type {ShopInfo} from '../api/types';
import {AppContext} from '../context';
import {Formatter} from '../format';

export type Routes = Record<string, unknown | ((path: string, init?: RequestInit) => unknown)>;

// fakeApi answers GETs from a table of paths (the path before '?', or the
// whole path when listed). An Error value is thrown as the answer.
export function fakeApi(routes: Routes): ApiClient & {calls: {method: string; path: string; body?: unknown}[]} {
  const calls: {method: string; path: string; body?: unknown}[] = [];
  const answer = async (method: string, path: string, body?: unknown) => {
    calls.push({method, path, body});
    const key = path in routes ? path : path.split('?')[0];
    const value = routes[`${method} ${key}`] ?? (method === 'GET' ? routes[key] : undefined);
    if (value === undefined) throw new ApiError('This data is not available yet.', 404);
    const v = typeof value === 'function' ? (value as (p: string, b?: unknown) => unknown)(path, body) : value;
    const resolved = await v;
    if (resolved instanceof Error) throw resolved;
    return resolved;
  };
  // request answers the contract's client (api.typed) from the same table.
  const request = async (path: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const body = typeof init.body === 'string' && init.body ? JSON.parse(init.body) : undefined;
    const value = await answer(method, path, body);
    return new Response(JSON.stringify(value ?? {}), {status: 200, headers: {'Content-Type': 'application/json'}});
  };
  return {
    calls,
    typed: typedClient(request),
    request: vi.fn(request),
    get: <T,>(path: string) => answer('GET', path) as Promise<T>,
    send: <T,>(method: string, path: string, body?: unknown) => answer(method, path, body) as Promise<T>,
    download: vi.fn(async () => ({blob: new Blob(['a,b\n']), filename: 'x.csv'})),
  } as unknown as ApiClient & {calls: {method: string; path: string; body?: unknown}[]};
}

export const SHOP: ShopInfo = {
  shop: 'cvo-demo.myshopify.com',
  name: 'CVO Demo Gift Shop',
  currency: 'GBP',
  timezone: 'Europe/London',
  installed: true,
  status: {sync: {phase: 'done', finished_at: '2026-01-01T00:00:00Z'}, scoring: {state: 'idle'}},
};

export const fmtGB = new Formatter('en-GB', 'GBP', 'Europe/London');

export function renderWithApp(ui: ReactElement, opts: {api: ApiClient; shop?: ShopInfo; fmt?: Formatter}) {
  const ctx = {api: opts.api, fmt: opts.fmt ?? fmtGB, shop: opts.shop ?? SHOP, reloadShop: vi.fn(async () => {})};
  return render(
    <AppProvider i18n={en}>
      <AppContext.Provider value={ctx}>{ui}</AppContext.Provider>
    </AppProvider>,
  );
}
