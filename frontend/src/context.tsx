import {createContext, useContext} from 'react';

import type {ApiClient} from './api/client';
import type {ShopInfo} from './api/types';
import {Formatter} from './format';

export interface AppContextValue {
  api: ApiClient;
  fmt: Formatter;
  shop: ShopInfo;
  // reloadShop fetches GET /api/shop again (sync progress, scoring state).
  reloadShop: () => Promise<void>;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp outside AppContext');
  return ctx;
}
