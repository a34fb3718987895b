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
  // version changes when a sync or scoring run finishes; data hooks reload then.
  version?: string;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp outside AppContext');
  return ctx;
}
